package apilayer_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/testkit"
)

const aliceLogin = `{"username":"alice","password":"alice-password"}`

// post sends a JSON POST to the gateway.
func (e *env) post(path, body string, cookies map[string]string) *http.Response {
	e.t.Helper()
	return e.do(req{method: http.MethodPost, path: path, body: body, cookies: cookies,
		header: map[string]string{"Content-Type": "application/json"}})
}

// wantNoTokenIn checks that none of the tokens appears in the body and that
// no token field is present.
func wantNoTokenIn(t *testing.T, body string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		if tok != "" && strings.Contains(body, tok) {
			t.Errorf("the body %q carries a token", body)
		}
	}
	for _, f := range []string{`"accessToken"`, `"refreshToken"`, `"token"`, `"access_token"`, `"refresh_token"`, `"rt_`} {
		if strings.Contains(body, f) {
			t.Errorf("the body %q carries %s", body, f)
		}
	}
}

// wantUserBody checks {"success":true,"data":<user>} for username with type.
func wantUserBody(t *testing.T, body, username, typ string) {
	t.Helper()
	var m struct {
		Success bool           `json:"success"`
		Data    map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if !m.Success || m.Data["type"] != typ || (username != "" && m.Data["username"] != username) {
		t.Errorf("body = %s, want success with %s of type %s", body, username, typ)
	}
}

func TestAuthAPILogin(t *testing.T) {
	t.Run("success sets the user cookie, deletes the guest cookie, returns the user without tokens", func(t *testing.T) {
		e := newEnv(t, nil)
		res := e.post("/api/auth/login", aliceLogin, map[string]string{guestCookie: e.guestToken()})
		wantStatus(t, res, http.StatusOK)
		tok := wantSet(t, res, userCookie, userMaxAge)
		wantDeleted(t, res, guestCookie)
		wantSetCookieNames(t, res, userCookie, guestCookie)
		body := bodyString(t, res)
		wantUserBody(t, body, "alice", "user")
		wantNoTokenIn(t, body, tok)
		if got := string(e.lastBackend("/api/auth/login").Body); got != aliceLogin {
			t.Errorf("the backend received %q, want the browser's body", got)
		}

		// The new session works.
		me := e.do(req{path: "/api/auth/me", cookies: map[string]string{userCookie: tok}})
		wantStatus(t, me, http.StatusOK)
		wantUserBody(t, bodyString(t, me), "alice", "user")
	})

	failures := []struct {
		name   string
		body   string
		status int
		want   map[string]any
	}{
		{"wrong password: the backend's 401 and JSON", `{"username":"alice","password":"nope"}`, 401,
			map[string]any{"success": false, "message": "Invalid credentials."}},
		{"validation errors: the backend's 422 and JSON intact", `{"username":"alice"}`, 422,
			map[string]any{"success": false, "message": "The given data was invalid.",
				"errors": map[string]any{"password": []any{"The password field is required."}}}},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			res := e.post("/api/auth/login", tt.body, map[string]string{guestCookie: "g"})
			wantStatus(t, res, tt.status)
			wantNoSetCookie(t, res)
			if got := bodyJSON(t, res); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("body = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("backend answering 429 passes through", func(t *testing.T) {
		e := newEnv(t, nil)
		e.backend.SetFault("auth/login", testkit.Status(429))
		res := e.post("/api/auth/login", aliceLogin, nil)
		wantJSON(t, res, http.StatusTooManyRequests, "Injected fault.")
		wantNoSetCookie(t, res)
	})

	unavailable := []struct {
		name   string
		fault  testkit.Fault
		edit   func(*config.Config)
		status int
		msg    string
	}{
		{"backend unreachable: 503", testkit.None, func(c *config.Config) { c.Backend.URL = closedURL(t) },
			503, "Authentication service unavailable."},
		{"backend timed out: 503", testkit.Hang, func(c *config.Config) { c.Backend.Timeout = 300 * time.Millisecond },
			503, "Authentication service unavailable."},
		{"backend answering HTML: 502", testkit.NotJSON, nil, 502, "Proxy error: Unable to connect to backend."},
		{"backend answering success without a token: 502", testkit.WrongShape, nil, 502, "Proxy error: Unable to connect to backend."},
	}
	for _, tt := range unavailable {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.edit)
			e.backend.SetFault("auth/login", tt.fault)
			res := e.post("/api/auth/login", aliceLogin, map[string]string{guestCookie: "g"})
			wantJSON(t, res, tt.status, tt.msg)
			wantNoSetCookie(t, res)
		})
	}
}

func TestAuthAPIWrongMethodIs405WithAllow(t *testing.T) {
	e := newEnv(t, nil)
	for _, tt := range []struct{ method, path, allow string }{
		{http.MethodGet, "/api/auth/login", "POST"},
		{http.MethodPut, "/api/auth/register", "POST"},
		{http.MethodGet, "/api/auth/logout", "POST"},
		{http.MethodGet, "/api/auth/refresh", "POST"},
		{http.MethodPost, "/api/auth/me", "GET, HEAD"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res := e.do(req{method: tt.method, path: tt.path})
			wantJSON(t, res, http.StatusMethodNotAllowed, "Method not allowed.")
			if got := res.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			wantNoSetCookie(t, res)
		})
	}
	e.wantCalls(map[string]int64{"auth/login": 0, "auth/register": 0, "auth/logout": 0, "auth/refresh": 0, "auth/me": 0})
}

func TestAuthAPIRegister(t *testing.T) {
	e := newEnv(t, nil)
	res := e.post("/api/auth/register", `{"name":"Bob","email":"bob@example.com","password":"password123"}`, nil)
	wantStatus(t, res, http.StatusOK)
	tok := wantSet(t, res, userCookie, userMaxAge)
	body := bodyString(t, res)
	wantUserBody(t, body, "bob@example.com", "user")
	wantNoTokenIn(t, body, tok)

	res = e.post("/api/auth/register", `{"name":"Al","email":"alice@example.com","password":"password123"}`, nil)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantNoSetCookie(t, res)
	m := bodyJSON(t, res)
	if errs, _ := m["errors"].(map[string]any); errs["email"] == nil {
		t.Errorf("body = %v, want the backend's validation errors", m)
	}
}

func TestAuthAPILogout(t *testing.T) {
	e := newEnv(t, noGuest)
	login := e.post("/api/auth/login", aliceLogin, nil)
	tok := wantSet(t, login, userCookie, userMaxAge)
	// Validated and cached before the logout.
	wantStatus(t, e.do(req{path: "/dashboard", cookies: map[string]string{userCookie: tok}}), http.StatusOK)

	res := e.post("/api/auth/logout", "", map[string]string{userCookie: tok, guestCookie: "g"})
	wantStatus(t, res, http.StatusOK)
	if m := bodyJSON(t, res); len(m) != 1 || m["success"] != true {
		t.Errorf("body = %v, want exactly success true", m)
	}
	wantDeleted(t, res, userCookie)
	wantDeleted(t, res, guestCookie)
	wantSetCookieNames(t, res, userCookie, guestCookie)
	if got := bearer(e.lastBackend("/api/auth/logout")); got != "Bearer "+tok {
		t.Errorf("backend logout Authorization = %q, want the user's token", got)
	}

	// The old cookie no longer authenticates, cache or not.
	wantRedirect(t, e.do(req{path: "/dashboard", cookies: map[string]string{userCookie: tok}}), "/login")
	wantJSON(t, e.do(req{path: "/api/auth/me", cookies: map[string]string{userCookie: tok}}),
		http.StatusUnauthorized, "Not authenticated.")

	t.Run("without a cookie: success, no backend call, no cookie change", func(t *testing.T) {
		e := newEnv(t, nil)
		res := e.post("/api/auth/logout", "", nil)
		wantStatus(t, res, http.StatusOK)
		wantNoSetCookie(t, res)
		e.wantCalls(map[string]int64{"auth/logout": 0})
	})

	t.Run("backend down: the browser session still ends", func(t *testing.T) {
		e := newEnv(t, nil)
		tok := e.login("alice")
		e.backend.SetFault("auth/logout", testkit.Status(503))
		res := e.post("/api/auth/logout", "", map[string]string{userCookie: tok})
		wantStatus(t, res, http.StatusOK)
		wantDeleted(t, res, userCookie)
	})
}

func TestAuthAPIMe(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*config.Config)
		cookies func(*env) map[string]string
		status  int
		typ     string
		user    string
		setUser bool // a refreshed cookie is set
	}{
		{"user: 200 with type user", nil, userCookies, 200, "user", "alice", false},
		{"guest: 200 with type guest", nil, guestCookies, 200, "guest", "", false},
		{"expired user: refreshed, 200 and a new cookie", nil, expiredOnly, 200, "user", "alice", true},
		{"no token and no guest: 401", noGuest, nil, 401, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.edit)
			var c map[string]string
			if tt.cookies != nil {
				c = tt.cookies(e)
			}
			res := e.do(req{path: "/api/auth/me", cookies: c})
			if tt.status == 401 {
				wantJSON(t, res, 401, "Not authenticated.")
				wantNoSetCookie(t, res)
				return
			}
			wantStatus(t, res, tt.status)
			body := bodyString(t, res)
			wantUserBody(t, body, tt.user, tt.typ)
			var toks []string
			for _, v := range c {
				toks = append(toks, v)
			}
			if tt.setUser {
				toks = append(toks, wantSet(t, res, userCookie, userMaxAge))
				e.wantCalls(map[string]int64{"auth/refresh": 1})
			} else {
				wantNoSetCookie(t, res)
			}
			wantNoTokenIn(t, body, toks...)
			e.wantNoUpstream()
		})
	}
}

func TestAuthAPIRefresh(t *testing.T) {
	t.Run("forced: one refresh call and a new cookie", func(t *testing.T) {
		e := newEnv(t, nil)
		old := e.login("alice")
		res := e.post("/api/auth/refresh", "", map[string]string{userCookie: old})
		wantStatus(t, res, http.StatusOK)
		tok := wantSet(t, res, userCookie, userMaxAge)
		if tok == old {
			t.Error("the refreshed cookie is the old token")
		}
		body := bodyString(t, res)
		wantUserBody(t, body, "alice", "user")
		wantNoTokenIn(t, body, tok, old)
		e.wantCalls(map[string]int64{"auth/refresh": 1})
	})
	t.Run("without a user cookie: 401 and no refresh call", func(t *testing.T) {
		e := newEnv(t, nil)
		res := e.post("/api/auth/refresh", "", map[string]string{guestCookie: e.guestToken()})
		wantJSON(t, res, http.StatusUnauthorized, "Not authenticated.")
		wantNoSetCookie(t, res)
		e.wantCalls(map[string]int64{"auth/refresh": 0})
	})
	t.Run("reuse: 401 and the cookies deleted", func(t *testing.T) {
		e := newEnv(t, nil)
		c := reusedCookies(e)
		res := e.post("/api/auth/refresh", "", c)
		wantJSON(t, res, http.StatusUnauthorized, "Not authenticated.")
		wantDeleted(t, res, userCookie)
	})
}

func TestOtherAuthPathsAreProxiedToTheBackend(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.login("alice")
	res := e.post("/api/auth/forgot-password", `{"email":"alice@example.com"}`, map[string]string{userCookie: tok})
	wantJSON(t, res, http.StatusNotFound, "Not found.") // the demo backend's own answer
	rec := e.lastBackend("/api/auth/forgot-password")
	if rec.Method != http.MethodPost || string(rec.Body) != `{"email":"alice@example.com"}` || bearer(rec) != "Bearer "+tok {
		t.Errorf("the backend received %s %q with %q", rec.Method, rec.Body, bearer(rec))
	}
	if _, ok := rec.Cookie(userCookie); ok {
		t.Error("the auth cookie was proxied to the backend")
	}
	e.wantNoUpstream()
}

func TestAuthAPIDisabledForwardsBypassPathsUnvalidated(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { f := false; c.AuthAPI.Enabled = &f })
	tok := e.login("alice")
	for _, p := range []string{"/api/auth/login", "/api/auth/me", "/api/auth/logout/"} {
		res := e.post(p, aliceLogin, map[string]string{userCookie: tok})
		wantStatus(t, res, http.StatusOK)
		wantNoSetCookie(t, res)
		up := e.lastUpstream()
		if up.Path != p || string(up.Body) != aliceLogin {
			t.Errorf("the web app received %s %q, want %s with the body", up.Path, up.Body, p)
		}
		wantIdentity(t, up, "", "")
	}
	e.wantCalls(map[string]int64{"auth/me": 0, "auth/login": 0, "auth/logout": 0, "auth/guest": 0})
}

func TestHealth(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Access.ProtectedByDefault = true })
	health := func(want string) {
		t.Helper()
		res := e.do(req{path: "/_apilayer/health", cookies: map[string]string{userCookie: "garbage"}})
		wantStatus(t, res, http.StatusOK)
		wantNoSetCookie(t, res)
		if got := strings.TrimSpace(bodyString(t, res)); got != want {
			t.Errorf("health = %s, want %s", got, want)
		}
	}
	health(`{"status":"ok","backend":"ok","store":"memory","backendEndpoints":{"guest":"closed","login":"closed","logout":"closed","refresh":"closed","register":"closed","validate":"closed"}}`)
	e.wantCalls(map[string]int64{"auth/me": 0, "auth/guest": 0})

	tok := e.login("alice")
	e.backend.SetFault("auth/me", testkit.Status(503))
	wantStatus(t, e.do(req{path: "/about", cookies: map[string]string{userCookie: tok}}), http.StatusServiceUnavailable)
	health(`{"status":"degraded","backend":"unavailable","store":"memory","backendEndpoints":{"guest":"closed","login":"closed","logout":"closed","refresh":"closed","register":"closed","validate":"closed"}}`)

	e.backend.SetFault("auth/me", testkit.None)
	wantStatus(t, e.do(req{path: "/about", cookies: map[string]string{userCookie: tok}}), http.StatusOK)
	health(`{"status":"ok","backend":"ok","store":"memory","backendEndpoints":{"guest":"closed","login":"closed","logout":"closed","refresh":"closed","register":"closed","validate":"closed"}}`)

	e.wantCalls(map[string]int64{"auth/me": 2, "auth/guest": 0, "auth/refresh": 0})
	if n := len(e.upstream.Requests()); n != 1 {
		t.Errorf("the web app received %d requests, want 1 (health is never forwarded)", n)
	}
}

// BUG(lead): every path is matched on the cleaned path, ignoring a trailing
// slash (docs/how-it-works.md), and the health path is never forwarded. pipeline.go step 1
// compares the raw r.URL.Path with health.path before cleaning, so
// /_apilayer/health/, //_apilayer/health and /x/../_apilayer/health go through
// the pipeline (a guest is minted) and are forwarded to the web app. Fix:
// answer health after route.Clean, comparing the cleaned path with its
// trailing slash trimmed.
func TestHealthPathIsMatchedOnTheCleanedPath(t *testing.T) {
	e := newEnv(t, nil)
	for _, p := range []string{"/_apilayer/health/", "//_apilayer/health", "/%5Fapilayer/health", "/x/../_apilayer/health"} {
		t.Run(p, func(t *testing.T) {
			res := e.raw(p)
			wantStatus(t, res, http.StatusOK)
			if got := strings.TrimSpace(bodyString(t, res)); got != `{"status":"ok","backend":"ok","store":"memory","backendEndpoints":{"guest":"closed","login":"closed","logout":"closed","refresh":"closed","register":"closed","validate":"closed"}}` {
				t.Errorf("body = %q, want the health answer", got)
			}
			wantNoSetCookie(t, res)
		})
	}
	e.wantNoUpstream()
	e.wantCalls(map[string]int64{"auth/guest": 0})
}
