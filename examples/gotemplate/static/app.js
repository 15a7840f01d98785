// The gateway keeps the auth tokens in httpOnly cookies: this script never
// sees them. It reads only the CSRF cookie (__csrf, readable on purpose) and
// echoes it in the x-csrf-token header, as the gateway's CSRF check asks.
"use strict";

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)__csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

function postJSON(url, body) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "x-csrf-token": csrfToken() },
    body: JSON.stringify(body || {}),
  });
}

// safeNext keeps a same-site path only (never //evil.example).
function safeNext(next) {
  if (next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\")) {
    return next;
  }
  return "/dashboard";
}

const form = document.getElementById("login");
if (form) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const error = document.getElementById("error");
    error.textContent = "";
    const res = await postJSON("/api/auth/login", {
      username: form.elements.username.value,
      password: form.elements.password.value,
    });
    if (res.ok) {
      location.assign(safeNext(form.dataset.next));
      return;
    }
    const body = await res.json().catch(() => ({}));
    error.textContent = body.message || "Sign-in failed.";
  });
}

const logout = document.getElementById("logout");
if (logout) {
  logout.addEventListener("click", async () => {
    await postJSON("/api/auth/logout");
    location.assign("/");
  });
}
