package apilayer_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/testkit"
)

// Tests of the header and request hygiene of docs/security.md: each names
// the behaviour it holds.

func TestBuiltInAuthEndpointsInAnyCase(t *testing.T) {
	t.Run("login in another case is the built-in login, never proxied", func(t *testing.T) {
		for _, p := range []string{"/api/auth/LOGIN", "/api/auth/Login/", "/api/auth/lOgIn"} {
			e := newEnv(t, nil)
			res := e.post(p, aliceLogin, nil)
			wantStatus(t, res, http.StatusOK)
			tok := wantSet(t, res, userCookie, userMaxAge)
			body := bodyString(t, res)
			wantUserBody(t, body, "alice", "user")
			wantNoTokenIn(t, body, tok)
			e.wantCalls(map[string]int64{"auth/login": 1})
			for _, r := range e.backend.Requests() {
				if !strings.HasSuffix(r.Path, "/auth/login") {
					t.Errorf("%s: the backend received %s %s", p, r.Method, r.Path)
				}
			}
		}
	})
	t.Run("refresh and me in another case answer without tokens", func(t *testing.T) {
		e := newEnv(t, nil)
		old := e.login("alice")
		res := e.post("/api/auth/Refresh", "", map[string]string{userCookie: old})
		wantStatus(t, res, http.StatusOK)
		tok := wantSet(t, res, userCookie, userMaxAge)
		body := bodyString(t, res)
		wantUserBody(t, body, "alice", "user")
		wantNoTokenIn(t, body, tok, old)

		res = e.do(req{path: "/api/auth/ME/", cookies: map[string]string{userCookie: tok}})
		wantStatus(t, res, http.StatusOK)
		wantUserBody(t, bodyString(t, res), "alice", "user")
		if n := len(e.backendRequests("/api/auth/Refresh")) + len(e.backendRequests("/api/auth/ME/")); n != 0 {
			t.Errorf("%d requests reached the backend under the case variants", n)
		}
	})
	t.Run("a rate-limit rule on login counts every case", func(t *testing.T) {
		s := newSecEnv(t, func(c *config.Config) {
			c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 100, Window: time.Minute,
				Rules: []config.RateLimitRule{{Path: "/api/auth/login", MaxRequests: 2, Window: time.Minute}}}
		})
		wantStatus(t, s.post("/api/auth/login", aliceLogin, nil), http.StatusOK)
		wantStatus(t, s.post("/api/auth/LOGIN", aliceLogin, nil), http.StatusOK)
		wantRateLimited(t, s.post("/api/auth/Login/", aliceLogin, nil), time.Minute)
		s.wantCalls(map[string]int64{"auth/login": 2})
	})
	t.Run("skipRoutes naming a built-in endpoint match every case", func(t *testing.T) {
		s := newSecEnv(t, func(c *config.Config) {
			c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 1, Window: time.Minute,
				SkipRoutes: []string{"/api/auth/me"}}
		})
		for _, p := range []string{"/api/auth/me", "/api/auth/ME", "/api/auth/Me/"} {
			res := s.do(req{path: p})
			if got := res.Header.Get("X-RateLimit-Limit"); got != "" || res.StatusCode == http.StatusTooManyRequests {
				t.Errorf("%s: status %d, X-RateLimit-Limit %q: want it never counted", p, res.StatusCode, got)
			}
		}
	})
}

func TestSkipFlagsNeverLiftRoleRules(t *testing.T) {
	rules := func(extra func(*config.Config)) func(*config.Config) {
		return func(c *config.Config) {
			c.Access.Rules = []config.Rule{{Path: "/api/admin/**", Roles: []string{"admin"}}}
			if extra != nil {
				extra(c)
			}
		}
	}
	skip := map[string]string{"X-Skip-Auth": "true"}
	tests := []struct {
		name   string
		edit   func(*config.Config)
		header map[string]string
	}{
		{"X-Skip-Auth", nil, skip},
		{"publicEndpoints", func(c *config.Config) { c.API.PublicEndpoints = []string{"admin/**"} }, nil},
		{"skipAuthByDefault", func(c *config.Config) { c.API.SkipAuthByDefault = true }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSecEnv(t, rules(tt.edit)) // guests off
			res := s.do(req{path: "/api/admin/users", header: tt.header})
			wantJSON(t, res, http.StatusUnauthorized, "Token not found.")

			res = s.do(req{path: "/api/admin/users", header: tt.header, cookies: map[string]string{userCookie: s.login("alice")}})
			wantJSON(t, res, http.StatusForbidden, "You are not authorized for this action.")
			if n := len(s.backendRequests("/api/admin/users")); n != 0 {
				t.Fatalf("the backend received %d requests for a ruled path", n)
			}

			res = s.do(req{path: "/api/admin/users", header: tt.header, cookies: map[string]string{userCookie: s.login("admin")}})
			if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
				t.Fatalf("admin: status %d, want forwarded", res.StatusCode)
			}
			if got := bearer(s.lastBackend("/api/admin/users")); got != "" {
				t.Errorf("the skip flag still sends no token: Authorization = %q", got)
			}
		})
	}
	t.Run("a guest with the skip flag", func(t *testing.T) {
		e := newEnv(t, rules(nil)) // guests on
		res := e.do(req{path: "/api/admin/users", header: skip, cookies: map[string]string{guestCookie: e.guestToken()}})
		wantJSON(t, res, http.StatusUnauthorized, "Not authenticated.")
	})
}

func TestCookieRewriteTreatsPaddedNamesAsAuthCookies(t *testing.T) {
	for _, sep := range []string{" =", "\t=", " \t ="} {
		t.Run("hideTokens, name"+strings.ReplaceAll(sep, "\t", `\t`), func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) { c.Upstream.HideTokens = true })
			alice, admin := e.login("alice"), e.login("admin")
			res := e.do(req{path: "/page", header: map[string]string{
				"Cookie": userCookie + "=" + alice + "; " + userCookie + sep + admin + "; theme=dark"}})
			wantStatus(t, res, http.StatusOK)
			up := e.lastUpstream()
			wantIdentity(t, up, "user", "alice")
			if got := up.Header.Get("Cookie"); got != "theme=dark" {
				t.Errorf("the web app received Cookie %q, want only theme=dark", got)
			}
		})
		t.Run("effective value only, name"+strings.ReplaceAll(sep, "\t", `\t`), func(t *testing.T) {
			e := newEnv(t, nil)
			alice, admin := e.login("alice"), e.login("admin")
			res := e.do(req{path: "/page", header: map[string]string{
				"Cookie": userCookie + "=" + alice + "; " + userCookie + sep + admin + "; theme=dark"}})
			wantStatus(t, res, http.StatusOK)
			up := e.lastUpstream()
			wantIdentity(t, up, "user", "alice")
			got := up.Header.Get("Cookie")
			if strings.Contains(got, admin) || strings.Count(got, userCookie) != 1 || !strings.Contains(got, userCookie+"="+alice) {
				t.Errorf("the web app received Cookie %q, want alice's token once and never admin's", got)
			}
		})
	}
}

func TestTokenCookiesAreNeverPubliclyCacheable(t *testing.T) {
	publicly := func(e *env) {
		e.upstream.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, s-maxage=31536000, stale-while-revalidate")
			w.Header().Set("CDN-Cache-Control", "max-age=3600")
			w.Header().Set("Vary", "Accept-Encoding")
			io.WriteString(w, "cacheable")
		}))
	}
	wantPrivate := func(t *testing.T, res *http.Response) {
		t.Helper()
		if got := res.Header.Values("Cache-Control"); len(got) != 1 || got[0] != "private, no-store" {
			t.Errorf("Cache-Control = %q, want exactly private, no-store", got)
		}
		if got := res.Header.Get("CDN-Cache-Control"); got != "" {
			t.Errorf("CDN-Cache-Control = %q, want none", got)
		}
		if vary := strings.Join(res.Header.Values("Vary"), ","); !listHas(vary, "Cookie") {
			t.Errorf("Vary = %q, want it to name Cookie", vary)
		}
	}
	t.Run("a refreshed token on a page the web app made public", func(t *testing.T) {
		e := newEnv(t, nil)
		publicly(e)
		res := e.do(req{path: "/cacheable", cookies: map[string]string{userCookie: e.expired("alice")}})
		wantStatus(t, res, http.StatusOK)
		wantSet(t, res, userCookie, userMaxAge)
		wantPrivate(t, res)
		if vary := strings.Join(res.Header.Values("Vary"), ","); !listHas(vary, "Accept-Encoding") {
			t.Errorf("Vary = %q, lost the web app's Accept-Encoding", vary)
		}
	})
	t.Run("a minted guest token", func(t *testing.T) {
		e := newEnv(t, nil)
		publicly(e)
		res := e.do(req{path: "/cacheable"})
		wantSet(t, res, guestCookie, guestMaxAge)
		wantPrivate(t, res)
	})
	t.Run("a deleted token", func(t *testing.T) {
		e := newEnv(t, nil)
		publicly(e)
		res := e.do(req{path: "/cacheable", cookies: reusedCookies(e)})
		wantDeleted(t, res, userCookie)
		wantPrivate(t, res)
	})
	t.Run("login through the auth API", func(t *testing.T) {
		e := newEnv(t, nil)
		res := e.post("/api/auth/login", aliceLogin, nil)
		wantSet(t, res, userCookie, userMaxAge)
		wantPrivate(t, res)
	})
	t.Run("an API answer after a refresh", func(t *testing.T) {
		e := newEnv(t, nil)
		res := e.do(req{path: "/api/posts", cookies: map[string]string{userCookie: e.expired("alice")}})
		wantStatus(t, res, http.StatusOK)
		wantSet(t, res, userCookie, userMaxAge)
		wantPrivate(t, res)
	})
	t.Run("no token cookie: the web app's caching stands", func(t *testing.T) {
		e := newEnv(t, nil)
		publicly(e)
		res := e.do(req{path: "/cacheable", cookies: map[string]string{userCookie: e.login("alice")}})
		wantNoSetCookie(t, res)
		if got := res.Header.Get("Cache-Control"); got != "public, s-maxage=31536000, stale-while-revalidate" {
			t.Errorf("Cache-Control = %q, want the web app's", got)
		}
	})
}

func TestRateLimitRulesAfterLocaleStripping(t *testing.T) {
	i18nOn := func(c *config.Config) {
		c.I18n = config.I18n{Enabled: true, Locales: []string{"en", "tr"}, DefaultLocale: "en"}
	}
	t.Run("rules", func(t *testing.T) {
		s := newSecEnv(t, func(c *config.Config) {
			i18nOn(c)
			c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 100, Window: time.Minute,
				Rules: []config.RateLimitRule{{Path: "/contact", MaxRequests: 2, Window: time.Minute}}}
		})
		wantStatus(t, s.do(req{path: "/contact"}), http.StatusOK)
		wantStatus(t, s.do(req{path: "/tr/contact"}), http.StatusOK)
		wantRateLimited(t, s.do(req{path: "/en/contact"}), time.Minute)
	})
	t.Run("skipRoutes", func(t *testing.T) {
		s := newSecEnv(t, func(c *config.Config) {
			i18nOn(c)
			c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 1, Window: time.Minute,
				SkipRoutes: []string{"/free/**"}}
		})
		for _, p := range []string{"/tr/free/a", "/tr/free/a", "/en/free/b"} {
			if res := s.do(req{path: p}); res.Header.Get("X-RateLimit-Limit") != "" {
				t.Errorf("%s was counted", p)
			}
		}
	})
}

func TestAuthAPIRefreshRefusedKeepsTheStillValidToken(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			e := newEnv(t, nil)
			tok := e.login("alice")
			e.backend.SetFault("auth/refresh", testkit.Status(status))
			res := e.post("/api/auth/refresh", "", map[string]string{userCookie: tok})
			wantJSON(t, res, http.StatusUnauthorized, "Not authenticated.")
			wantNoSetCookie(t, res)

			// The old token still authenticates, without a second refresh.
			res = e.do(req{path: "/dashboard", cookies: map[string]string{userCookie: tok}})
			wantStatus(t, res, http.StatusOK)
			wantIdentity(t, e.lastUpstream(), "user", "alice")
			e.wantCalls(map[string]int64{"auth/refresh": 1})
		})
	}
}

func TestCSRFComesBeforeTheMissingTokenRefusal(t *testing.T) {
	s := newSecEnv(t, withCSRF("both"))             // guests off: the visitor stays anonymous
	res := s.do(csrfPost("/api/posts", "", "", "")) // no Sec-Fetch-Site: the token decides
	wantCSRFRefused(t, res)

	// With the token, the same request meets the API's own refusal.
	tok := s.csrfToken(nil)
	res = s.do(csrfPost("/api/posts", "", tok, ""))
	wantJSON(t, res, http.StatusUnauthorized, "Token not found.")
}

func TestAppRoutesGoToTheWebApp(t *testing.T) {
	appRoutes := func(c *config.Config) {
		c.API.AppRoutes = []string{"/api/revalidate", "/api/og/**"}
		c.Access.ProtectedRoutes = append(c.Access.ProtectedRoutes, "/api/og/private")
	}
	fetch := map[string]string{"Sec-Fetch-Mode": "cors"}
	t.Run("with the identity, never to the backend", func(t *testing.T) {
		e := newEnv(t, appRoutes)
		res := e.do(req{method: http.MethodPost, path: "/api/revalidate", cookies: map[string]string{userCookie: e.expired("alice")}})
		wantStatus(t, res, http.StatusOK)
		tok := wantSet(t, res, userCookie, userMaxAge)
		up := e.lastUpstream()
		if up.Path != "/api/revalidate" {
			t.Fatalf("the web app received %s", up.Path)
		}
		wantIdentity(t, up, "user", "alice")
		if got := up.Header.Get("X-Refreshed-Token"); got != tok {
			t.Error("the web app did not receive the refreshed token")
		}
		if n := len(e.backendRequests("/api/revalidate")); n != 0 {
			t.Errorf("the backend received %d requests for an app route", n)
		}
		res = e.do(req{path: "/api/og/card.png"}) // a guest is minted, as for pages
		wantStatus(t, res, http.StatusOK)
		wantIdentity(t, e.lastUpstream(), "guest", "")
	})
	t.Run("protected: JSON refusals with the API messages, redirects for navigations", func(t *testing.T) {
		s := newSecEnv(t, appRoutes) // guests off
		wantJSON(t, s.do(req{path: "/api/og/private/x", header: fetch}), http.StatusUnauthorized, "Token not found.")
		wantRedirect(t, s.do(req{path: "/api/og/private/x"}), "/login")
		e := newEnv(t, appRoutes) // guests on
		wantJSON(t, e.do(req{path: "/api/og/private/x", header: fetch, cookies: map[string]string{guestCookie: e.guestToken()}}),
			http.StatusUnauthorized, "Not authenticated.")
		wantJSON(t, e.do(req{path: "/api/og/private/x", header: fetch, cookies: reusedCookies(e)}),
			http.StatusUnauthorized, "Session expired.")
		s.wantNoUpstream()
	})
	t.Run("other API paths still go to the backend", func(t *testing.T) {
		e := newEnv(t, appRoutes)
		res := e.do(req{path: "/api/posts", cookies: map[string]string{userCookie: e.login("alice")}})
		wantStatus(t, res, http.StatusOK)
		e.lastBackend("/api/posts")
		e.wantNoUpstream()
	})
}

func TestTokenEndpointsInOtherSpellingsAreRefused(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Backend.Endpoints.Guest = "auth/guest" })
	alice := map[string]string{userCookie: e.login("alice")}
	for _, p := range []string{"/api/auth/refresh;x", "/api/auth/refresh.json", "/api/AUTH/REFRESH.json", "/api/auth/guest", "/api/Auth/Guest/", "/api/auth/login;jsessionid=1"} {
		res := e.post(p, "", alice)
		wantJSON(t, res, http.StatusNotFound, "Not found.")
	}
	if n := len(e.backend.Requests()); n != 0 {
		t.Errorf("the backend received %d requests", n)
	}
	// Paths that only look alike are proxied.
	for _, p := range []string{"/api/auth/refresh-tokens", "/api/auth/forgot-password", "/api/authx/refresh"} {
		e.post(p, "", alice)
		e.lastBackend(p)
	}
}

// The web app's final answers may set the gateway's cookie names: its
// language switcher sets the locale cookie, and with the built-in auth API
// off its own login handlers set the auth cookies.
func TestWebAppMaySetCookiesOnItsAnswer(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.I18n = config.I18n{Enabled: true, Locales: []string{"en", "tr"}, DefaultLocale: "en"}
		c.AuthAPI.Enabled = new(false)
	})
	e.upstream.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, c := range []string{"userAuthToken=from-the-app", "NEXT_LOCALE=tr", "theme=dark"} {
			w.Header().Add("Set-Cookie", c+"; Path=/")
		}
		io.WriteString(w, "ok")
	}))
	res := e.post("/api/auth/login", aliceLogin, nil)
	wantStatus(t, res, http.StatusOK)
	if got := res.Header.Values("Set-Cookie"); len(got) != 3 {
		t.Errorf("Set-Cookie = %q, want the web app's three", got)
	}
}

func TestIPv6ClientsAreLimitedByPrefix(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 3, Window: time.Minute}
	})
	h := s.gw.Handler()
	from := func(addr string) int {
		r := httptest.NewRequest(http.MethodGet, "/page", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for i, addr := range []string{"[2001:db8:1:2::100]:1", "[2001:db8:1:2::101]:1", "[2001:db8:1:2::ffff]:1"} {
		if code := from(addr); code != http.StatusOK {
			t.Fatalf("request %d from %s: %d", i, addr, code)
		}
	}
	if code := from("[2001:db8:1:2:aaaa::1]:1"); code != http.StatusTooManyRequests {
		t.Errorf("a fourth address of the same /64: %d, want 429", code)
	}
	if code := from("[2001:db8:1:3::1]:1"); code != http.StatusOK {
		t.Errorf("another /64: %d, want 200", code)
	}
}

func TestGuestCapCountsIPv6ByPrefix(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Guest.MaxPerMinute = 2 })
	h := e.gw.Handler()
	minted := 0
	for _, addr := range []string{"[2001:db8:9::1]:1", "[2001:db8:9::2]:1", "[2001:db8:9::3]:1", "[2001:db8:9::4]:1"} {
		r := httptest.NewRequest(http.MethodGet, "/page", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if strings.Contains(strings.Join(w.Header().Values("Set-Cookie"), ";"), guestCookie+"=") {
			minted++
		}
	}
	if minted != 2 {
		t.Errorf("%d guests minted for one /64, want guest.maxPerMinute (2)", minted)
	}
}

func TestTruncatedUserHeader(t *testing.T) {
	big := strings.Repeat("x", 20000)
	e := newRolesEnv(t, map[string]map[string]any{
		"tok-big":   {"id": 7, "email": "big@example.com", "bio": big},
		"tok-small": {"id": 8, "email": "small@example.com"},
	}, nil)
	wantStatus(t, e.do(req{path: "/page", cookies: map[string]string{userCookie: "tok-big"}}), http.StatusOK)
	up := e.lastUpstream()
	if v := up.Header.Get("X-Auth-User"); len(v) > 16<<10 || decodeUser(t, v)["email"] != "big@example.com" || decodeUser(t, v)["bio"] != nil {
		t.Errorf("X-Auth-User of %d bytes, want at most 16 KiB with the email and without the bio", len(v))
	}
	if got := up.Header.Get("X-Auth-User-Truncated"); got != "1" {
		t.Errorf("X-Auth-User-Truncated = %q, want 1", got)
	}
	wantStatus(t, e.do(req{path: "/page", cookies: map[string]string{userCookie: "tok-small"}}), http.StatusOK)
	if got := e.lastUpstream().Header.Values("X-Auth-User-Truncated"); len(got) != 0 {
		t.Errorf("X-Auth-User-Truncated = %q for a small user, want none", got)
	}
}

func TestCaseInsensitiveRoutes(t *testing.T) {
	edit := func(c *config.Config) {
		c.Access.CaseInsensitive = true
		c.Access.ExcludedPaths = nil
		c.API.PublicEndpoints = []string{"public/**"}
		c.API.AppRoutes = []string{"/api/revalidate"}
		c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 100, Window: time.Minute,
			Rules: []config.RateLimitRule{{Path: "/contact", MaxRequests: 1, Window: time.Minute}}}
	}
	s := newSecEnv(t, edit) // guests off
	wantRedirect(t, s.do(req{path: "/DashBoard"}), "/login")
	// A public endpoint in any case needs no token: the backend answers
	// (its own 404 for this spelling).
	wantJSON(t, s.do(req{path: "/api/PUBLIC/info"}), http.StatusNotFound, "Not found.")
	s.lastBackend("/api/PUBLIC/info")
	wantStatus(t, s.do(req{path: "/api/REVALIDATE"}), http.StatusOK)
	if up := s.lastUpstream(); up.Path != "/api/REVALIDATE" {
		t.Errorf("the web app received %q, want the app route", up.Path)
	}
	wantStatus(t, s.do(req{path: "/contact"}), http.StatusOK)
	wantRateLimited(t, s.do(req{path: "/Contact"}), time.Minute)
}

func TestDualTokenLogoutTellsTheBackendTheRefreshToken(t *testing.T) {
	const refreshCookie = "refreshToken"
	e := newEnv(t, func(c *config.Config) { c.Cookies.Refresh = refreshCookie })
	res := e.post("/api/auth/login", aliceLogin, nil)
	wantStatus(t, res, http.StatusOK)
	c := setCookies(res)[refreshCookie]
	if c == nil || c.Value == "" {
		t.Fatalf("login set no refresh cookie: %q", res.Header.Values("Set-Cookie"))
	}
	refresh := c.Value

	// The access cookie expired in the browser: only the refresh cookie is left.
	res = e.post("/api/auth/logout", "", map[string]string{refreshCookie: refresh})
	wantStatus(t, res, http.StatusOK)
	wantDeleted(t, res, refreshCookie)
	e.wantCalls(map[string]int64{"auth/logout": 1})
	if rec := e.lastBackend("/api/auth/logout"); !strings.Contains(string(rec.Body), refresh) {
		t.Errorf("the backend's logout received body %q, want the refresh token in it", rec.Body)
	}
	// The backend revoked it: it no longer refreshes.
	res = e.do(req{path: "/dashboard", cookies: map[string]string{refreshCookie: refresh}})
	wantRedirect(t, res, "/login")
}

// Forged, doubled and oversized headers get their documented answer
// (stripped, or 400 and 431 by the server), never a 500, and none of
// their values reaches the logs: a request is named there by its ID.
func TestForgedHeadersLeaveNothingInTheLogs(t *testing.T) {
	const mark = "forgedxlogxmarker"
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newSecEnv(t, func(c *config.Config) {
		c.Log = config.Log{Level: "debug", Access: true}
		c.Audit = config.Audit{Enabled: true, Events: audit.Types()}
	}, apilayer.WithLogger(logger))
	var ids []string
	for _, r := range []struct {
		header []string
		want   int
	}{
		{[]string{"X_Auth_User: " + mark, "X-Auth-User: " + mark, "x-auth-user: " + mark}, http.StatusOK},
		{[]string{"X-Auth-Token-Type: " + mark, "X-Auth-Token-Type: " + mark, "Connection: X-Auth-Token-Type, X-Request-Id"}, http.StatusOK},
		{[]string{"X_Middleware_Subrequest: " + mark, "X-Forwarded-For: " + mark, "X_Real_IP: " + mark}, http.StatusOK},
		{[]string{"X-Auth-User: " + mark + strings.Repeat("A", 1<<20+8<<10)}, http.StatusRequestHeaderFieldsTooLarge}, // past the server's MaxHeaderBytes
		{[]string{"X-Auth-User : " + mark}, http.StatusBadRequest},                                                    // a space before the colon
	} {
		res := s.raw("/page", r.header...)
		if res.StatusCode != r.want {
			t.Errorf("%.60q: status %d, want %d", r.header, res.StatusCode, r.want)
		}
		if id := res.Header.Get("X-Request-Id"); id != "" {
			ids = append(ids, id)
		}
	}
	for _, rec := range s.upstream.Requests() {
		for k, vs := range rec.Header {
			for _, v := range vs {
				if strings.Contains(v, mark) {
					t.Errorf("the web app received %s: %q", k, v)
				}
			}
		}
	}
	s.gw.Close() // flushes the audit events
	out := logs.String()
	if strings.Contains(out, mark) {
		t.Errorf("the logs contain a forged header's value:\n%s", out)
	}
	if len(ids) != 3 {
		t.Fatalf("%d answers carried X-Request-Id, want the 3 the gateway answered", len(ids))
	}
	for _, id := range ids {
		if !strings.Contains(out, id) {
			t.Errorf("the access log does not name request %s", id)
		}
	}
}

// The Next.js App Router fetches pages itself (RSC: 1), to navigate and to
// prefetch links: a protected page answers it with the login redirect the
// router follows, as middleware would, not with a JSON 401 that every
// prefetch of a signed-out visitor logs in the console.
func TestNextRouterRequestsAreNavigations(t *testing.T) {
	s := newSecEnv(t, nil) // guests off
	for _, h := range []map[string]string{
		{"Rsc": "1", "Next-Router-Prefetch": "1", "Sec-Fetch-Mode": "cors", "Accept": "*/*"},
		{"Rsc": "1", "Sec-Fetch-Mode": "cors", "Next-Router-State-Tree": "%5B%22%22%5D"},
	} {
		wantRedirect(t, s.do(req{path: "/dashboard?_rsc=abc", header: h}), "/login")
	}
	// A plain fetch of the page is still answered with JSON.
	wantJSON(t, s.do(req{path: "/dashboard", header: map[string]string{"Sec-Fetch-Mode": "cors"}}), http.StatusUnauthorized, "Not authenticated.")
}
