package demo

// pageTemplates are the demo web app's pages. html/template escapes every
// value for its context; no visitor data is ever placed inside a script.
const pageTemplates = `
{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · apilayer demo</title>
<style nonce="{{.Nonce}}">
body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#222}
nav{display:flex;gap:1rem;align-items:center;border-bottom:1px solid #ddd;padding-bottom:.6rem}
nav .who{margin-left:auto;color:#555}
pre{background:#f6f6f6;padding:.8rem;overflow:auto}
.errors{color:#b00020}
label{display:block;margin:.6rem 0}
footer{margin-top:3rem;color:#888;font-size:.8rem}
</style></head><body>
<nav><a href="/">Home</a><a href="/dashboard">Dashboard</a><a href="/admin">Admin</a>
<span class="who">{{template "who" .V}}</span>
{{if .V.SignedIn}}<button id="logout" type="button">Sign out</button>{{else}}<a href="/login">Sign in</a>{{end}}
</nav>
<main>
{{end}}

{{define "who"}}{{if .SignedIn}}Signed in as {{.Name}}{{else if .Guest}}Guest{{else}}Anonymous{{end}}{{end}}

{{define "bottom"}}</main>
<footer>{{with .V.RequestID}}Request {{.}}. {{end}}This app sees only what the apilayer gateway tells it.</footer>
<script nonce="{{.Nonce}}">
function csrfHeader() {
  const m = document.cookie.match(/(?:^|;\s*)__csrf=([^;]*)/);
  return m ? {'x-csrf-token': decodeURIComponent(m[1])} : {};
}
const logout = document.getElementById('logout');
if (logout) logout.addEventListener('click', async () => {
  try { await fetch('/api/auth/logout', {method: 'POST', credentials: 'include', headers: csrfHeader()}); } catch (e) {}
  location.href = '/';
});
</script>
{{template "script" .}}
</body></html>
{{end}}

{{define "home"}}{{template "top" .}}
<h1>{{template "who" .V}}</h1>
{{if .V.SignedIn}}<p>Welcome back, {{.V.Name}}. Your session lives in an httpOnly cookie that this page cannot read.</p>
<ul><li><a href="/dashboard">Your dashboard</a></li>{{if .V.Admin}}<li><a href="/admin">Admin statistics</a></li>{{end}}</ul>
{{else if .V.Guest}}<p>You are browsing with a guest token. <a href="/login">Sign in</a> to see your dashboard.</p>
{{else}}<p>You have no session. <a href="/login">Sign in</a>.</p>{{end}}
{{template "bottom" .}}{{end}}

{{define "login"}}{{template "top" .}}
<h1>Sign in</h1>
<form id="login" method="post" action="/login" novalidate>
<label>Username or email <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>
<ul id="errors" class="errors" role="alert"></ul>
<p>Demo users: alice / alice-password, admin / admin-password.</p>
{{template "bottom" .}}{{end}}

{{define "script"}}{{if eq .Page "login"}}<script nonce="{{.Nonce}}">
const form = document.getElementById('login');
const out = document.getElementById('errors');
function show(msgs) {
  out.replaceChildren(...msgs.map((m) => { const li = document.createElement('li'); li.textContent = String(m); return li; }));
}
function target() {
  const next = new URLSearchParams(location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/dashboard';
}
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  show([]);
  const username = form.username.value, password = form.password.value;
  let res, body = {};
  try {
    res = await fetch('/api/auth/login', {method: 'POST', credentials: 'include',
      headers: Object.assign({'Content-Type': 'application/json'}, csrfHeader()),
      body: JSON.stringify({username, password})});
    body = await res.json().catch(() => ({}));
  } catch (err) { show(['The server could not be reached.']); return; }
  if (res.ok && body.success !== false) { location.href = target(); return; }
  const msgs = [];
  if (body.message) msgs.push(body.message);
  for (const list of Object.values(body.errors || {})) msgs.push(...[].concat(list));
  show(msgs.length ? msgs : ['Sign-in failed (HTTP ' + res.status + ').']);
});
</script>{{else if eq .Page "admin"}}<script nonce="{{.Nonce}}">
(async () => {
  const out = document.getElementById('stats');
  try {
    const res = await fetch('/api/admin/stats', {credentials: 'include', headers: {Accept: 'application/json'}});
    const body = await res.json();
    if (!res.ok || body.success === false) { out.textContent = body.message || ('HTTP ' + res.status); return; }
    const table = document.createElement('table');
    for (const [k, v] of Object.entries(body.data || {})) {
      const tr = table.insertRow();
      tr.insertCell().textContent = k;
      tr.insertCell().textContent = String(v);
    }
    out.replaceChildren(table);
  } catch (err) { out.textContent = 'The statistics could not be loaded.'; }
})();
</script>{{end}}{{end}}

{{define "dashboard"}}{{template "top" .}}
<h1>Dashboard</h1>
<p>Signed in as {{.V.Name}} (token type {{.V.TokenType}}).</p>
<h2>Roles</h2>
<ul id="roles">{{range .V.Roles}}<li>{{.}}</li>{{else}}<li>none</li>{{end}}</ul>
<h2>User object</h2>
<pre id="user">{{.V.UserJSON}}</pre>
{{template "bottom" .}}{{end}}

{{define "admin"}}{{template "top" .}}
<h1>Admin</h1>
<p>Backend statistics, fetched through the gateway's API proxy:</p>
<div id="stats">Loading…</div>
{{template "bottom" .}}{{end}}

{{define "forbidden"}}{{template "top" .}}
<h1>Forbidden</h1>
<p>{{.V.Name}}, the admin page needs the admin role.</p>
{{template "bottom" .}}{{end}}

{{define "notfound"}}{{template "top" .}}
<h1>Not found</h1>
<p><a href="/">Back home</a></p>
{{template "bottom" .}}{{end}}
`
