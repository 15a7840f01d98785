package apilayer_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/testkit"
)

// Forward-auth mode (authz): sub-requests as the proxies send them, in
// each convention, answered by the whole pipeline against the demo
// backend. The proxies themselves are exercised in internal/forwardauth.

// conv is how a test sub-request describes the original request.
type conv string

const (
	viaForwarded conv = "forwarded" // Traefik, Caddy: X-Forwarded-Method, X-Forwarded-Uri
	viaNginx     conv = "nginx"     // X-Original-Method, X-Original-URI
	viaPath      conv = "path"      // Envoy's path_prefix: /_apilayer/authz + the path, the method
)

var allConvs = []conv{viaForwarded, viaNginx, viaPath}

const authzPath = "/_apilayer/authz"

// withAuthz turns forward-auth mode on; the test client, 127.0.0.1, is
// the trusted proxy.
func withAuthz(c *config.Config) {
	c.Authz.Enabled = true
	c.ClientIP.TrustedProxies = []string{"127.0.0.1"}
	c.ClientIP.Headers = []string{"x-forwarded-for"}
}

// orig is the original request a sub-request describes.
type orig struct {
	method  string // default GET
	target  string // path and query
	cookies map[string]string
	header  map[string]string // the original request's headers, and the proxy's
}

// sub sends the sub-request that describes o in convention c.
func (e *env) sub(c conv, o orig) *http.Response {
	e.t.Helper()
	if o.method == "" {
		o.method = http.MethodGet
	}
	r := req{method: http.MethodGet, path: authzPath, cookies: o.cookies, header: map[string]string{}}
	for k, v := range o.header {
		r.header[k] = v
	}
	switch c {
	case viaForwarded:
		r.header["X-Forwarded-Method"], r.header["X-Forwarded-Uri"] = o.method, o.target
	case viaNginx:
		r.header["X-Original-Method"], r.header["X-Original-URI"] = o.method, o.target
	case viaPath:
		r.method, r.path = o.method, authzPath+o.target
	}
	return e.do(r)
}

// wantSubRedirect checks a redirect answered to a sub-request: 307, or
// 401 with the Location in nginx's convention.
func wantSubRedirect(t *testing.T, c conv, res *http.Response, loc string) {
	t.Helper()
	code := http.StatusTemporaryRedirect
	if c == viaNginx {
		code = http.StatusUnauthorized
	}
	wantStatus(t, res, code)
	if got := res.Header.Get("Location"); got != loc {
		t.Fatalf("Location = %q, want %q", got, loc)
	}
}

// wantAllowed checks an allowed answer: 200, an empty body, the identity
// headers present (empty when there is no identity), the request ID.
func wantAllowed(t *testing.T, res *http.Response, tokenType, username string) {
	t.Helper()
	wantStatus(t, res, http.StatusOK)
	if b := bodyString(t, res); b != "" {
		t.Errorf("body = %q, want none", b)
	}
	for _, h := range []string{"X-Auth-User", "X-Auth-User-Truncated", "X-Auth-Token-Type", "X-Locale"} {
		if v := res.Header.Values(h); len(v) != 1 {
			t.Errorf("%s = %q, want exactly one value (empty when it does not apply)", h, v)
		}
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-ID")
	}
	wantIdentity(t, testkit.Recorded{Header: res.Header}, tokenType, username)
}

func TestAuthzValidUser(t *testing.T) {
	for _, c := range allConvs {
		t.Run(string(c), func(t *testing.T) {
			e := newEnv(t, withAuthz)
			res := e.sub(c, orig{target: "/dashboard?tab=1", cookies: userCookies(e),
				header: map[string]string{"X-Request-Id": "req-authz-1"}})
			wantAllowed(t, res, "user", "alice")
			if got := res.Header.Get("X-Request-Id"); got != "req-authz-1" {
				t.Errorf("X-Request-ID = %q, want the proxy's req-authz-1", got)
			}
			if got := res.Header.Get("X-Auth-User-Truncated"); got != "" {
				t.Errorf("X-Auth-User-Truncated = %q, want empty", got)
			}
			wantNoSetCookie(t, res)
			e.wantNoUpstream() // answered, never forwarded
			e.wantCalls(map[string]int64{"auth/me": 1, "auth/refresh": 0})
		})
	}
}

// A visitor without a token on a protected page: a guest is minted and
// kept, and the browser is sent to the login page.
func TestAuthzAnonymousOnAProtectedPage(t *testing.T) {
	for _, c := range allConvs {
		t.Run(string(c), func(t *testing.T) {
			e := newEnv(t, withAuthz)
			res := e.sub(c, orig{target: "/dashboard"})
			wantSubRedirect(t, c, res, "/login")
			wantSet(t, res, guestCookie, guestMaxAge)
			e.wantNoUpstream()
		})
	}
}

// An expired token is refreshed once: the new cookie is in the answer, the
// identity is the refreshed user's, and the next sub-request with the new
// cookie (or, from the same client, with the old one) refreshes nothing.
func TestAuthzExpiredTokenIsRefreshedOnce(t *testing.T) {
	for _, c := range allConvs {
		t.Run(string(c), func(t *testing.T) {
			e := newEnv(t, withAuthz)
			old := e.expired("alice")
			res := e.sub(c, orig{target: "/dashboard", cookies: map[string]string{userCookie: old}})
			wantAllowed(t, res, "user", "alice")
			fresh := wantSet(t, res, userCookie, userMaxAge)
			if fresh == old {
				t.Fatal("the answer set the old token again")
			}
			if c == viaNginx {
				if got := res.Header.Get("X-Authz-Set-Cookie-1"); got != res.Header.Get("Set-Cookie") {
					t.Errorf("X-Authz-Set-Cookie-1 = %q, want the Set-Cookie line %q", got, res.Header.Get("Set-Cookie"))
				}
			}
			e.wantCalls(map[string]int64{"auth/refresh": 1})

			res = e.sub(c, orig{target: "/dashboard", cookies: map[string]string{userCookie: fresh}})
			wantAllowed(t, res, "user", "alice")
			wantNoSetCookie(t, res)
			res = e.sub(c, orig{target: "/dashboard", cookies: map[string]string{userCookie: old}})
			wantAllowed(t, res, "user", "alice")
			if got := wantSet(t, res, userCookie, userMaxAge); got != fresh {
				t.Error("the old token's successor is not the token refreshed before")
			}
			e.wantCalls(map[string]int64{"auth/refresh": 1})
		})
	}
}

func TestAuthzGuestMinting(t *testing.T) {
	for _, c := range allConvs {
		t.Run(string(c), func(t *testing.T) {
			e := newEnv(t, withAuthz)
			res := e.sub(c, orig{target: "/blog"})
			wantAllowed(t, res, "guest", "")
			wantSet(t, res, guestCookie, guestMaxAge)
			if c == viaNginx && !strings.HasPrefix(res.Header.Get("X-Authz-Set-Cookie-1"), guestCookie+"=") {
				t.Errorf("X-Authz-Set-Cookie-1 = %q, want the guest cookie", res.Header.Get("X-Authz-Set-Cookie-1"))
			}
			e.wantCalls(map[string]int64{"auth/guest": 1})
		})
	}
}

// A role rule that fails keeps its status and body: the 403 page for a
// page, the 403 JSON for an API path.
func TestAuthzRoleDenial(t *testing.T) {
	for _, c := range allConvs {
		t.Run(string(c), func(t *testing.T) {
			e := newEnv(t, both(withAuthz, withRules))
			alice := userCookies(e)
			res := e.sub(c, orig{target: "/admin/panel", cookies: alice})
			wantPage(t, res, http.StatusForbidden)
			wantNoSetCookie(t, res)
			if v := res.Header.Values("X-Auth-User"); len(v) != 0 {
				t.Errorf("a refusal carries X-Auth-User %q", v)
			}
			wantJSON(t, e.sub(c, orig{target: "/api/admin/stats", cookies: alice}), http.StatusForbidden, msgNotAuthorized)
			wantAllowed(t, e.sub(c, orig{target: "/admin/panel", cookies: map[string]string{userCookie: e.login("admin")}}), "user", "admin")
		})
	}
}

// CSRF, both parts, on the described method and the original request's
// headers: a cross-site POST is refused before any backend call; a
// same-origin POST needs the double-submit token.
func TestAuthzCSRF(t *testing.T) {
	for _, c := range allConvs {
		t.Run(string(c), func(t *testing.T) {
			e := newEnv(t, both(withAuthz, withCSRF("both")))
			alice := userCookies(e)
			res := e.sub(c, orig{method: http.MethodPost, target: "/dashboard", cookies: alice,
				header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": secEvilOrigin}})
			wantCSRFRefused(t, res)
			e.wantCalls(map[string]int64{"auth/me": 0})

			// Same origin: passes on Fetch Metadata alone.
			res = e.sub(c, orig{method: http.MethodPost, target: "/dashboard", cookies: alice,
				header: map[string]string{"Sec-Fetch-Site": "same-origin"}})
			wantAllowed(t, res, "user", "alice")
			tok := wantCSRFCookie(t, res)

			// No Fetch Metadata (an old browser), no token: the
			// double-submit part refuses it, after the validation.
			res = e.sub(c, orig{method: http.MethodPost, target: "/dashboard", cookies: alice})
			wantCSRFRefused(t, res)

			// With the token the answer gave, bound to alice, it passes.
			with := map[string]string{userCookie: alice[userCookie], secCSRFCookie: tok}
			res = e.sub(c, orig{method: http.MethodPost, target: "/dashboard", cookies: with,
				header: map[string]string{secCSRFHeader: tok}})
			wantAllowed(t, res, "user", "alice")
			wantNoCSRFCookie(t, res)
		})
	}
}

// Identity headers a client forged, in any spelling, are never believed
// nor echoed: the answer's identity is the gateway's (empty for an
// anonymous visitor).
func TestAuthzForgedIdentityIsIgnored(t *testing.T) {
	forged := map[string]string{"X-Auth-User": "Zm9yZ2Vk", "X_Auth_User": "Zm9yZ2Vk", "X-Auth-Token-Type": "admin",
		"X-Auth-Assertion": "forged", "X-Locale": "xx"}
	for _, c := range allConvs {
		t.Run(string(c), func(t *testing.T) {
			e := newEnv(t, both(withAuthz, noGuest))
			res := e.sub(c, orig{target: "/blog", header: forged})
			wantAllowed(t, res, "", "")
			for _, h := range []string{"X-Auth-User", "X-Auth-Token-Type", "X-Locale"} {
				if got := res.Header.Get(h); got != "" {
					t.Errorf("%s = %q for an anonymous visitor, want empty", h, got)
				}
			}
			res = e.sub(c, orig{target: "/blog", header: forged, cookies: userCookies(e)})
			wantAllowed(t, res, "user", "alice")
		})
	}
}

// A sub-request is believed only from clientIP.trustedProxies: from any
// other peer it is 403, before any backend call, and the path itself is
// not forwarded to the web app either.
func TestAuthzUntrustedPeer(t *testing.T) {
	for _, c := range allConvs {
		t.Run(string(c), func(t *testing.T) {
			e := newEnv(t, func(cfg *config.Config) {
				withAuthz(cfg)
				cfg.ClientIP.TrustedProxies = []string{"10.0.0.0/8"}
			})
			res := e.sub(c, orig{target: "/dashboard", cookies: userCookies(e)})
			wantJSON(t, res, http.StatusForbidden, "Forward-auth sub-requests are accepted only from trusted proxies.")
			if v := res.Header.Values("X-Auth-User"); len(v) != 0 {
				t.Errorf("X-Auth-User %q in a refusal", v)
			}
			e.wantCalls(map[string]int64{"auth/me": 0})
			e.wantNoUpstream()
		})
	}
}

// Sub-requests that describe nothing, or two things, or a path that does
// not clean, are 400 and cost no backend call.
func TestAuthzBadSubrequests(t *testing.T) {
	const bad = "Bad forward-auth sub-request."
	cases := []struct {
		name   string
		method string
		path   string
		header map[string]string
		msg    string
	}{
		{name: "nothing described", path: authzPath, msg: bad},
		{name: "no method", path: authzPath, header: map[string]string{"X-Forwarded-Uri": "/x"}, msg: bad},
		{name: "no path", path: authzPath, header: map[string]string{"X-Forwarded-Method": "GET"}, msg: bad},
		{name: "nginx without a method", path: authzPath, header: map[string]string{"X-Original-URI": "/x"}, msg: bad},
		{name: "a relative path", path: authzPath, header: map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "x"}, msg: bad},
		{name: "an absolute URL", path: authzPath, header: map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "http://evil/x"}, msg: bad},
		{name: "a bad method", path: authzPath, header: map[string]string{"X-Forwarded-Method": "G T", "X-Forwarded-Uri": "/x"}, msg: bad},
		// A proxy sets its own convention's headers and passes a client's
		// others on: two descriptions could name two paths.
		{name: "both conventions", path: authzPath, header: map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/blog",
			"X-Original-Method": "GET", "X-Original-URI": "/dashboard"}, msg: bad},
		{name: "X-Original-URI and X-Original-URL differ", path: authzPath, header: map[string]string{"X-Original-Method": "GET",
			"X-Original-URI": "/blog", "X-Original-URL": "https://app.example/dashboard"}, msg: bad},
		{name: "X-Original-URL not absolute", path: authzPath, header: map[string]string{"X-Original-Method": "GET", "X-Original-URL": "/blog"}, msg: bad},
		{name: "a path below authz.path and headers", path: authzPath + "/blog", header: map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/dashboard"}, msg: bad},
		{name: "escaping the root", path: authzPath, header: map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/../etc/passwd"}, msg: "Bad request path."},
		{name: "escaping the root (nginx)", path: authzPath, header: map[string]string{"X-Original-Method": "GET", "X-Original-URI": "/a/%2e%2e/%2e%2e/x"}, msg: "Bad request path."},
		{name: "escaping the root (path)", path: authzPath + "/a/..%2f..%2fx", msg: "Bad request path."},
		{name: "a bad escape", path: authzPath, header: map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/%zz"}, msg: "Bad request path."},
		{name: "a control byte", path: authzPath, header: map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/a%00b"}, msg: "Bad request path."},
		{name: "leaving the API prefix", path: authzPath, header: map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/api/../dashboard"}, msg: "Bad request path."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, withAuthz)
			res := e.do(req{method: tc.method, path: tc.path, header: tc.header, cookies: userCookies(e)})
			wantStatus(t, res, http.StatusBadRequest)
			if !strings.Contains(bodyString(t, res), tc.msg) {
				t.Errorf("the body does not say %q", tc.msg)
			}
			e.wantCalls(map[string]int64{"auth/me": 0})
		})
	}
}

// The path is cleaned like any path before it is matched: a spelling of a
// protected page is protected.
func TestAuthzCleansTheDescribedPath(t *testing.T) {
	for _, c := range allConvs {
		for _, target := range []string{"/%64ashboard", "/blog/../dashboard", "//dashboard", "/blog/%2e%2e/dashboard/"} {
			t.Run(string(c)+" "+target, func(t *testing.T) {
				e := newEnv(t, both(withAuthz, noGuest))
				wantSubRedirect(t, c, e.sub(c, orig{target: target}), "/login")
			})
		}
	}
}

// Redirects are absolute URLs when the sub-request names the original
// host (X-Forwarded-Host, X-Forwarded-Proto): Traefik resolves a relative
// Location against the gateway's own address. Without it, a path.
func TestAuthzRedirectLocation(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*config.Config)
		target string
		header map[string]string
		want   string
	}{
		{name: "a path", target: "/dashboard", want: "/login"},
		{name: "the original host", target: "/dashboard",
			header: map[string]string{"X-Forwarded-Host": "app.example.com", "X-Forwarded-Proto": "https"}, want: "https://app.example.com/login"},
		{name: "a port, over http", target: "/dashboard",
			header: map[string]string{"X-Forwarded-Host": "app.example.com:8443"}, want: "http://app.example.com:8443/login"},
		{name: "the host the nearest proxy appended", target: "/dashboard",
			header: map[string]string{"X-Forwarded-Host": "evil.example, app.example.com", "X-Forwarded-Proto": "https"}, want: "https://app.example.com/login"},
		{name: "a host that is not one", target: "/dashboard",
			header: map[string]string{"X-Forwarded-Host": "app.example.com/evil"}, want: "/login"},
		{name: "the return path", edit: withReturnParam, target: "/dashboard?tab=2",
			header: map[string]string{"X-Forwarded-Host": "app.example.com", "X-Forwarded-Proto": "https"}, want: "https://app.example.com/login?next=%2Fdashboard%3Ftab%3D2"},
		{name: "a locale prefix", edit: withI18n("as-needed"), target: "/tr/dashboard",
			header: map[string]string{"X-Forwarded-Host": "app.example.com", "X-Forwarded-Proto": "https"}, want: "https://app.example.com/tr/login"},
		{name: "a signed-in user on an auth route", target: "/login",
			header: map[string]string{"X-Forwarded-Host": "app.example.com", "X-Forwarded-Proto": "https"}, want: "https://app.example.com/"},
	}
	for _, c := range allConvs {
		for _, tc := range cases {
			t.Run(string(c)+" "+tc.name, func(t *testing.T) {
				e := newEnv(t, both(withAuthz, noGuest, func(cfg *config.Config) {
					if tc.edit != nil {
						tc.edit(cfg)
					}
				}))
				var cookies map[string]string
				if tc.target == "/login" {
					cookies = userCookies(e)
				}
				wantSubRedirect(t, c, e.sub(c, orig{target: tc.target, header: tc.header, cookies: cookies}), tc.want)
			})
		}
	}
}

// A described built-in auth API endpoint is 404: the gateway answers those
// itself, and a proxy that forwarded one (to the backend's login) would
// hand tokens to page script.
func TestAuthzBuiltInAuthAPIIsNotForwarded(t *testing.T) {
	for _, c := range allConvs {
		for _, target := range []string{"/api/auth/login", "/api/auth/me", "/api/Auth/Refresh/"} {
			t.Run(string(c)+" "+target, func(t *testing.T) {
				e := newEnv(t, withAuthz)
				res := e.sub(c, orig{method: http.MethodPost, target: target, cookies: userCookies(e)})
				wantJSON(t, res, http.StatusNotFound, "Not found.")
				e.wantCalls(map[string]int64{"auth/login": 0, "auth/refresh": 0, "auth/me": 0})
			})
		}
	}
}

// API paths: allowed with the identity, Authorization with
// authz.passAuthorization (the effective token; empty for public
// endpoints, X-Skip-Auth and pages); a request without a token is 401
// JSON, as at the API proxy. The API proxy itself is never called.
func TestAuthzAPIPaths(t *testing.T) {
	for _, c := range allConvs {
		t.Run(string(c), func(t *testing.T) {
			e := newEnv(t, both(withAuthz, noGuest, func(cfg *config.Config) {
				cfg.Authz.PassAuthorization = true
				cfg.API.PublicEndpoints = []string{"public/**"}
			}))
			tok := e.login("alice")
			alice := map[string]string{userCookie: tok}
			res := e.sub(c, orig{target: "/api/posts", cookies: alice})
			wantAllowed(t, res, "user", "alice")
			if got := res.Header.Get("Authorization"); got != "Bearer "+tok {
				t.Errorf("Authorization = %q, want the cookie's token", got)
			}
			for _, o := range []orig{
				{target: "/api/public/info", cookies: alice},
				{target: "/api/posts", cookies: alice, header: map[string]string{"X-Skip-Auth": "true"}},
				{target: "/blog", cookies: alice},
			} {
				res := e.sub(c, o)
				wantAllowed(t, res, "user", "alice")
				if v := res.Header.Values("Authorization"); len(v) != 1 || v[0] != "" {
					t.Errorf("%s: Authorization = %q, want present and empty", o.target, v)
				}
			}
			old := e.expired("alice")
			res = e.sub(c, orig{target: "/api/posts", cookies: map[string]string{userCookie: old}})
			fresh := wantSet(t, res, userCookie, userMaxAge)
			if got := res.Header.Get("Authorization"); got != "Bearer "+fresh {
				t.Error("Authorization is not the token refreshed in this request")
			}
			wantJSON(t, e.sub(c, orig{target: "/api/posts"}), http.StatusUnauthorized, "Token not found.")
			if n := len(e.backendRequests("/api/posts")); n != 0 {
				t.Errorf("the API proxy sent %d requests to the backend, want none", n)
			}
		})
	}
}

// identity.sign: the assertion is in the answer for a page, empty for an
// API path (the backend never receives it) and for an anonymous visitor.
func TestAuthzSignedIdentity(t *testing.T) {
	e := newEnv(t, both(withAuthz, noGuest, func(c *config.Config) { c.Identity.Sign = true }))
	alice := userCookies(e)
	if got := e.sub(viaForwarded, orig{target: "/blog", cookies: alice}).Header.Get("X-Auth-Assertion"); strings.Count(got, ".") != 2 {
		t.Errorf("X-Auth-Assertion = %q, want a JWS", got)
	}
	for _, o := range []orig{{target: "/api/posts", cookies: alice}, {target: "/blog"}} {
		res := e.sub(viaForwarded, o)
		if v := res.Header.Values("X-Auth-Assertion"); len(v) != 1 || v[0] != "" {
			t.Errorf("%s: X-Auth-Assertion = %q, want present and empty", o.target, v)
		}
	}
}

// Excluded paths are allowed without authentication: no identity, no
// backend call, no cookie.
func TestAuthzExcludedPath(t *testing.T) {
	e := newEnv(t, withAuthz)
	res := e.sub(viaNginx, orig{target: "/assets/app.js", cookies: userCookies(e)})
	wantAllowed(t, res, "", "")
	wantNoSetCookie(t, res)
	e.wantCalls(map[string]int64{"auth/me": 0, "auth/guest": 0})
}

// Refusals keep their status: 429 of the rate limit (counted by the client
// the proxy names in X-Forwarded-For), 503 while the backend is down.
func TestAuthzRefusalsKeepTheirStatus(t *testing.T) {
	t.Run("rate limit", func(t *testing.T) {
		e := newEnv(t, both(withAuthz, func(c *config.Config) {
			c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 1, Window: time.Hour}
		}))
		client := map[string]string{"X-Forwarded-For": "203.0.113.7"}
		wantStatus(t, e.sub(viaNginx, orig{target: "/blog", header: client}), http.StatusOK)
		wantRateLimited(t, e.sub(viaNginx, orig{target: "/blog", header: client}), time.Hour)
		other := map[string]string{"X-Forwarded-For": "203.0.113.8"}
		wantStatus(t, e.sub(viaNginx, orig{target: "/blog", header: other}), http.StatusOK)
	})
	t.Run("backend unavailable", func(t *testing.T) {
		e := newEnv(t, both(withAuthz, noCache, func(c *config.Config) { z := time.Duration(0); c.Validation.StaleIfError = &z }))
		e.backend.SetFault("auth/me", testkit.Status(http.StatusServiceUnavailable))
		wantPage(t, e.sub(viaForwarded, orig{target: "/dashboard", cookies: userCookies(e)}), http.StatusServiceUnavailable)
		wantJSON(t, e.sub(viaForwarded, orig{target: "/api/posts", cookies: userCookies(e)}), http.StatusServiceUnavailable, "Authentication service unavailable.")
	})
}

// Without authz.enabled, authz.path is a page like any other.
func TestAuthzOffIsAPage(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.ClientIP.TrustedProxies = []string{"127.0.0.1"} })
	res := e.sub(viaForwarded, orig{target: "/dashboard"})
	wantForwarded(t, res, authzPath)
}

// nginx's $upstream_http_set_cookie holds only the first Set-Cookie line:
// in nginx's convention each cookie change also comes in a numbered header
// of its own, in order; in the others, none does.
func TestAuthzNumberedCookiesForNginx(t *testing.T) {
	for _, c := range allConvs {
		t.Run(string(c), func(t *testing.T) {
			e := newEnv(t, both(withAuthz, withCSRF("both"), withI18n("as-needed")))
			res := e.sub(c, orig{target: "/tr/blog"})
			wantAllowed(t, res, "guest", "")
			if got := res.Header.Get("X-Locale"); got != "tr" {
				t.Errorf("X-Locale = %q, want tr", got)
			}
			lines := res.Header.Values("Set-Cookie")
			wantSetCookieNames(t, res, guestCookie, secCSRFCookie, "NEXT_LOCALE")
			if len(lines) != 3 {
				t.Fatalf("Set-Cookie = %q, want 3 lines", lines)
			}
			for i := range 4 {
				got := res.Header.Values("X-Authz-Set-Cookie-" + string(rune('1'+i)))
				switch {
				case c != viaNginx || i == 3:
					if len(got) != 0 {
						t.Errorf("X-Authz-Set-Cookie-%d = %q, want none", i+1, got)
					}
				case len(got) != 1 || got[0] != lines[i]:
					t.Errorf("X-Authz-Set-Cookie-%d = %q, want the Set-Cookie line %q", i+1, got, lines[i])
				}
			}
		})
	}
}

// A cookie deleted and set again in one answer (an oversized guest
// cookie, then a new guest) has one numbered copy: the last line, which is
// what the browser keeps.
func TestAuthzNumberedCookiesKeepTheLastLineOfAName(t *testing.T) {
	e := newEnv(t, withAuthz)
	res := e.sub(viaNginx, orig{target: "/blog", cookies: map[string]string{guestCookie: strings.Repeat("x", 9<<10)}})
	wantAllowed(t, res, "guest", "")
	lines := res.Header.Values("Set-Cookie")
	if len(lines) != 2 || !strings.Contains(lines[0], "Max-Age=0") {
		t.Fatalf("Set-Cookie = %q, want the deletion then the new guest", lines)
	}
	if got := res.Header.Values("X-Authz-Set-Cookie-1"); len(got) != 1 || got[0] != lines[1] {
		t.Errorf("X-Authz-Set-Cookie-1 = %q, want the new guest's line", got)
	}
	if got := res.Header.Values("X-Authz-Set-Cookie-2"); len(got) != 0 {
		t.Errorf("X-Authz-Set-Cookie-2 = %q, want none", got)
	}
}

// ingress-nginx's auth-url sends X-Original-URL (the whole URL) and
// X-Original-Method, and X-Original-URI only with an auth-method: the URL
// alone describes the request in nginx's convention.
func TestAuthzIngressNginxOriginalURL(t *testing.T) {
	e := newEnv(t, both(withAuthz, noGuest))
	h := map[string]string{"X-Original-Method": "GET", "X-Original-URL": "https://app.example.com/dashboard?tab=1"}
	res := e.do(req{path: authzPath, header: h, cookies: userCookies(e)})
	wantAllowed(t, res, "user", "alice")
	res = e.do(req{path: authzPath, header: h})
	wantSubRedirect(t, viaNginx, res, "/login")
	// With X-Original-URI too, both name the same target.
	h["X-Original-URI"] = "/dashboard?tab=1"
	wantAllowed(t, e.do(req{path: authzPath, header: h, cookies: userCookies(e)}), "user", "alice")
}

// A user object too large for X-Auth-User is reduced, and the answer says
// so in X-Auth-User-Truncated.
func TestAuthzTruncatedUser(t *testing.T) {
	big := `{"success":true,"data":{"id":7,"email":"big@example.com","type":"user","bio":"` + strings.Repeat("b", 20<<10) + `"}}`
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, big)
	}))
	defer backend.Close()
	cfg := config.Config{Backend: config.Backend{URL: backend.URL + "/api/"}}
	withAuthz(&cfg)
	gw, err := apilayer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	r := httptest.NewRequest(http.MethodGet, authzPath, nil)
	r.RemoteAddr = "127.0.0.1:1234"
	r.Header.Set("X-Forwarded-Method", "GET")
	r.Header.Set("X-Forwarded-Uri", "/blog")
	r.AddCookie(&http.Cookie{Name: userCookie, Value: "any-token"})
	w := httptest.NewRecorder()
	gw.Handler().ServeHTTP(w, r)
	ans := w.Result()
	wantStatus(t, ans, http.StatusOK)
	if got := ans.Header.Get("X-Auth-User-Truncated"); got != "1" {
		t.Errorf("X-Auth-User-Truncated = %q, want 1", got)
	}
	if u := decodeUser(t, ans.Header.Get("X-Auth-User")); u["bio"] != nil || u["email"] != "big@example.com" {
		t.Errorf("X-Auth-User = %v, want the reduced user", u)
	}
}
