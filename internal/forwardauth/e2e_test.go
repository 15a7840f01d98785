package forwardauth

import (
	"net/http"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// proxyUnderTest is a proxy in front of the web app with apilayer as its
// authorizer; start returns its base URL.
type proxyUnderTest struct {
	name string
	// start starts the proxy with its testdata configuration, changed by
	// edit, and returns its base URL.
	start func(t *testing.T, f *fixture, edit func(string) string) string
	// absolute is whether the proxy tells apilayer the original host
	// (X-Forwarded-Host), so that redirects are absolute URLs.
	absolute bool
	// unavailable is the status the browser gets for apilayer's 503:
	// nginx's auth_request turns it into 500, Envoy into status_on_error.
	unavailable int
}

var proxies = []proxyUnderTest{
	{name: "nginx", start: startNginx, absolute: true, unavailable: http.StatusInternalServerError},
	{name: "caddy", start: startCaddy, absolute: true, unavailable: http.StatusServiceUnavailable},
	{name: "traefik", start: startTraefik, absolute: true, unavailable: http.StatusServiceUnavailable},
	{name: "envoy", start: startEnvoy, unavailable: http.StatusServiceUnavailable},
}

// scenario is one behaviour every proxy must show end to end.
type scenario struct {
	name string
	run  func(t *testing.T, s *stage)
}

// stage is a scenario's world: the fixture behind the proxy and a browser
// in front of it.
type stage struct {
	*fixture
	proxy proxyUnderTest
	b     *browser
}

// TestForwardAuth runs every scenario through every proxy: the matrix of
// docs/forward-auth.md.
func TestForwardAuth(t *testing.T) {
	for _, p := range proxies {
		t.Run(p.name, func(t *testing.T) {
			f := newFixture(t)
			base := p.start(t, f, unchanged)
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					f.t = t
					f.reset()
					sc.run(t, &stage{fixture: f, proxy: p, b: newBrowser(t, base)})
				})
			}
		})
	}
}

func unchanged(s string) string { return s }

// TestProxyVersions shows the versions of the real proxies under test.
func TestProxyVersions(t *testing.T) {
	t.Logf("nginx: %s", version(t, binary(t, "nginx", "/usr/sbin/nginx"), "-v"))
	t.Logf("caddy: %s", version(t, binary(t, "caddy", "/usr/bin/caddy"), "version"))
}

// wantApp checks that the web app answered the browser (status 200, its
// body) and returns the request it received.
func (s *stage) wantApp(t *testing.T, p page, path string) testkit.Recorded {
	t.Helper()
	if p.StatusCode != http.StatusOK || p.body != "upstream: "+p.Request.Method+" "+path+"\n" {
		t.Fatalf("%s: status %d, body %q; want the web app's answer", path, p.StatusCode, p.body)
	}
	rs := s.app.Requests()
	if len(rs) != 1 {
		t.Fatalf("the web app received %d requests, want 1", len(rs))
	}
	return rs[0]
}

// wantNoApp checks that the web app received nothing.
func (s *stage) wantNoApp(t *testing.T) {
	t.Helper()
	if n := len(s.app.Requests()); n != 0 {
		t.Errorf("the web app received %d requests, want none", n)
	}
}

// wantIdentity checks the identity the web app received.
func wantIdentity(t *testing.T, rec testkit.Recorded, tokenType, username string) {
	t.Helper()
	if got := rec.Header.Get("X-Auth-Token-Type"); got != tokenType {
		t.Errorf("the web app received X-Auth-Token-Type %q, want %q", got, tokenType)
	}
	if got := userOf(rec.Header.Get("X-Auth-User")); got != username {
		t.Errorf("the web app received X-Auth-User of %q (%q), want %q", got, rec.Header.Get("X-Auth-User"), username)
	}
}

// wantCalls checks the backend's call count of an endpoint.
func (s *stage) wantCalls(t *testing.T, endpoint string, n int64) {
	t.Helper()
	if got := s.backend.Calls(endpoint); got != n {
		t.Errorf("backend calls to %s = %d, want %d", endpoint, got, n)
	}
}

// loc is where a redirect to path points through this proxy.
func (s *stage) loc(path string) string {
	if s.proxy.absolute {
		return s.b.base + path
	}
	return path
}

// identityNames are the identity headers as app servers read names: case
// ignored, "_" read as "-".
var identityNames = []string{"x-auth-user", "x-auth-user-truncated", "x-auth-token-type", "x-auth-assertion",
	"x-locale", "x-refreshed-token", "authorization", "x-middleware-subrequest"}

func fold(name string) string { return strings.ReplaceAll(strings.ToLower(name), "_", "-") }

var scenarios = []scenario{
	{"valid user", func(t *testing.T, s *stage) {
		tok := s.login("alice")
		p := s.b.do(visit{path: "/dashboard", cookies: map[string]string{userCookie: tok}})
		rec := s.wantApp(t, p, "/dashboard")
		wantIdentity(t, rec, "user", "alice")
		if rec.Header.Get("X-Request-Id") == "" {
			t.Error("the web app received no X-Request-ID")
		}
		if v := rec.Header.Values("Authorization"); len(v) > 1 || len(v) == 1 && v[0] != "" {
			t.Errorf("a page request reached the web app with Authorization %q", v)
		}
		s.wantCalls(t, "auth/me", 1)
	}},
	{"anonymous on a protected page", func(t *testing.T, s *stage) {
		p := s.b.do(visit{path: "/dashboard"})
		if p.StatusCode != http.StatusTemporaryRedirect || p.Header.Get("Location") != s.loc("/login") {
			t.Fatalf("status %d, Location %q; want 307 to %s", p.StatusCode, p.Header.Get("Location"), s.loc("/login"))
		}
		if _, ok := p.cookie(guestCookie); !ok {
			t.Errorf("the browser got no guest cookie (Set-Cookie %q)", p.Header.Values("Set-Cookie"))
		}
		s.wantNoApp(t)
	}},
	{"expired token", func(t *testing.T, s *stage) {
		old := s.expired("alice")
		p := s.b.do(visit{path: "/dashboard", cookies: map[string]string{userCookie: old}})
		rec := s.wantApp(t, p, "/dashboard")
		wantIdentity(t, rec, "user", "alice")
		fresh, ok := p.cookie(userCookie)
		if !ok || fresh == "" || fresh == old {
			t.Fatalf("the browser did not get the refreshed cookie (Set-Cookie %q)", p.Header.Values("Set-Cookie"))
		}
		s.wantCalls(t, "auth/refresh", 1)

		// The browser's next request carries the new cookie: nothing to refresh.
		s.app.Reset()
		p = s.b.do(visit{path: "/dashboard", cookies: map[string]string{userCookie: fresh}})
		wantIdentity(t, s.wantApp(t, p, "/dashboard"), "user", "alice")
		s.wantCalls(t, "auth/refresh", 1)
	}},
	{"guest minting", func(t *testing.T, s *stage) {
		p := s.b.do(visit{path: "/blog"})
		rec := s.wantApp(t, p, "/blog")
		wantIdentity(t, rec, "guest", "")
		if _, ok := p.cookie(guestCookie); !ok {
			t.Errorf("the browser got no guest cookie (Set-Cookie %q)", p.Header.Values("Set-Cookie"))
		}
		if _, ok := p.cookie(csrfCookie); !ok {
			t.Errorf("the browser got no CSRF cookie (Set-Cookie %q)", p.Header.Values("Set-Cookie"))
		}
		s.wantCalls(t, "auth/guest", 1)
	}},
	{"role denial", func(t *testing.T, s *stage) {
		p := s.b.do(visit{path: "/admin/panel", cookies: map[string]string{userCookie: s.login("alice")}})
		if p.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", p.StatusCode)
		}
		s.wantNoApp(t)
		p = s.b.do(visit{path: "/admin/panel", cookies: map[string]string{userCookie: s.login("admin")}})
		wantIdentity(t, s.wantApp(t, p, "/admin/panel"), "user", "admin")
	}},
	{"CSRF refusal", func(t *testing.T, s *stage) {
		p := s.b.do(visit{method: http.MethodPost, path: "/dashboard", cookies: map[string]string{userCookie: s.login("alice")},
			header: map[string][]string{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"http://evil.example"}}})
		if p.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", p.StatusCode)
		}
		s.wantNoApp(t)
		s.wantCalls(t, "auth/me", 0) // refused before any backend call
	}},
	{"forged identity headers", func(t *testing.T, s *stage) {
		const forged = "Zm9yZ2Vk" // base64 of "forged"
		variants := []map[string][]string{
			{"X-Auth-User": {forged}, "X-Auth-Token-Type": {"admin"}, "X-Locale": {forged}, "Authorization": {"Bearer " + forged}},
			{"x-auth-user": {forged}, "x-auth-token-type": {"admin"}},
			{"X_Auth_User": {forged}, "X_Auth_Token_Type": {"admin"}, "X_Locale": {forged}},
			{"X-Auth_User": {forged}, "x_auth-user": {forged}},
			{"Connection": {"X-Auth-User, X-Auth-Token-Type"}, "X-Auth-User": {forged}, "X-Auth-Token-Type": {"admin"}},
			{"X-Auth-Assertion": {forged}, "X-Refreshed-Token": {forged}, "X-Middleware-Subrequest": {forged}},
		}
		for i, h := range variants {
			for _, who := range []string{"anonymous", "alice"} {
				s.app.Reset()
				var cookies map[string]string
				if who == "alice" {
					cookies = map[string]string{userCookie: s.login("alice")}
				}
				p := s.b.do(visit{path: "/blog", header: h, cookies: cookies})
				rec := s.wantApp(t, p, "/blog")
				for k, vs := range rec.Header {
					for _, v := range vs {
						if strings.Contains(v, forged) || (fold(k) == "x-auth-token-type" && v == "admin") {
							for _, n := range identityNames {
								if fold(k) == n {
									t.Errorf("variant %d, %s: the web app received the client's %s: %q", i, who, k, v)
								}
							}
						}
					}
				}
				if who == "alice" && h["Connection"] == nil {
					wantIdentity(t, rec, "user", "alice")
				}
			}
		}
	}},
	{"API path with passAuthorization", func(t *testing.T, s *stage) {
		tok := s.login("alice")
		p := s.b.do(visit{path: "/api/posts", cookies: map[string]string{userCookie: tok}})
		rec := s.wantApp(t, p, "/api/posts")
		if got := rec.Header.Get("Authorization"); got != "Bearer "+tok {
			t.Errorf("the API request reached its upstream with Authorization %q, want the user's token", got)
		}
		wantIdentity(t, rec, "user", "alice")
	}},
	{"backend unavailable", func(t *testing.T, s *stage) {
		s.backend.SetFault("auth/me", testkit.Status(http.StatusServiceUnavailable))
		defer s.backend.SetFault("auth/me", testkit.None)
		p := s.b.do(visit{path: "/dashboard", cookies: map[string]string{userCookie: s.login("alice")}})
		if p.StatusCode != s.proxy.unavailable {
			t.Fatalf("status %d, want %d", p.StatusCode, s.proxy.unavailable)
		}
		if _, ok := p.cookie(userCookie); ok {
			t.Error("a backend outage changed the user's cookie")
		}
		s.wantNoApp(t)
	}},
	{"login through the proxy", func(t *testing.T, s *stage) {
		p := s.b.do(visit{method: http.MethodPost, path: "/api/auth/login",
			header: map[string][]string{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-origin"}},
			body:   `{"username":"alice","password":"` + demo.AlicePassword + `"}`})
		tok, ok := p.cookie(userCookie)
		if p.StatusCode != http.StatusOK || !ok {
			t.Fatalf("login: status %d, Set-Cookie %q; want 200 and the user cookie (body %q)", p.StatusCode, p.Header.Values("Set-Cookie"), p.body)
		}
		s.wantNoApp(t) // the built-in auth API is the gateway's
		p = s.b.do(visit{path: "/dashboard", cookies: map[string]string{userCookie: tok}})
		wantIdentity(t, s.wantApp(t, p, "/dashboard"), "user", "alice")
	}},
}
