package apilayer_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/config"
)

// Pages, the API and the built-in auth API pass through one authentication
// phase: what it reports (audit events, hooks, metrics) is the same for
// every path.

// metricsText returns the gateway's /metrics page.
func metricsText(t *testing.T, e *env) string {
	t.Helper()
	res := e.do(req{path: "/metrics"})
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func TestAuthAPIRefreshIsCountedLikeAnyRefresh(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Metrics = config.Metrics{Enabled: true} })
	res := e.post("/api/auth/refresh", "", map[string]string{userCookie: e.login("alice")})
	wantStatus(t, res, http.StatusOK)
	text := metricsText(t, e)
	for _, want := range []string{`apilayer_refreshes_total{result="ok"} 1`, `apilayer_sessions_total{state="user"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestAuthAPICSRFReportsItsSession(t *testing.T) {
	var mu sync.Mutex
	var failures []string
	hooks := apilayer.Hooks{OnRefreshFail: func(_ context.Context, reason string, _ *http.Request) {
		mu.Lock()
		failures = append(failures, reason)
		mu.Unlock()
	}}
	s := newSecEnv(t, func(c *config.Config) {
		withCSRF("both")(c)
		c.Guest.Enabled = true
		c.Metrics = config.Metrics{Enabled: true}
		c.Audit = config.Audit{Enabled: true, Events: audit.Types()}
	}, apilayer.WithHooks(hooks))

	// GET csrf with an expired token: refreshed, reported like a page's.
	tok := s.csrfToken(map[string]string{userCookie: s.expired("alice")})
	if tok == "" {
		t.Fatal("no CSRF token")
	}
	// GET csrf with a reused token: the failure reaches the hook.
	s.do(req{path: "/api/auth/csrf", cookies: reusedCookies(s.env)})
	// GET csrf without a token: a guest is minted.
	s.do(req{path: "/api/auth/csrf"})

	text := metricsText(t, s.env)
	for _, want := range []string{`apilayer_refreshes_total{result="ok"} 1`, `apilayer_refreshes_total{result="reuse"} 1`,
		`apilayer_sessions_total{state="guest"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	evs := s.events()
	for _, typ := range []string{audit.TypeAuthRefresh, audit.TypeAuthReuse, audit.TypeAuthGuest} {
		if len(ofType(evs, typ)) != 1 {
			t.Errorf("%d %s events, want 1", len(ofType(evs, typ)), typ)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(failures) != 1 || failures[0] != "reuse" {
		t.Errorf("OnRefreshFail heard %q, want [reuse]", failures)
	}
}

// With rateLimit.by user and no validation cache, a request validates its
// token once: the rate-limit key comes from the same validation as the
// session.
func TestRateLimitByUserValidatesOnce(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		noCache(c)
		c.RateLimit = config.RateLimit{Enabled: true, By: "user", MaxRequests: 100, Window: time.Minute}
	})
	alice := map[string]string{userCookie: s.login("alice")}
	for _, p := range []string{"/page", "/api/posts", "/api/auth/me"} {
		before := s.backend.Calls("auth/me")
		res := s.do(req{path: p, cookies: alice})
		wantStatus(t, res, http.StatusOK)
		if got := s.backend.Calls("auth/me") - before; got != 1 {
			t.Errorf("%s: %d validate calls, want 1", p, got)
		}
	}
}

// A token whose type is guest, in the user cookie, is not a user: it is
// keyed by IP, and binds no CSRF token.
func TestGuestTypedUserCookieIsNotAUser(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		c.RateLimit = config.RateLimit{Enabled: true, By: "user", MaxRequests: 2, Window: time.Minute}
	})
	h := s.gw.Handler()
	do := func(addr string) int {
		r := httptest.NewRequest(http.MethodGet, "/page", nil)
		r.RemoteAddr = addr
		r.AddCookie(&http.Cookie{Name: userCookie, Value: s.guestToken()}) // a fresh guest each time
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	// Guests share no user id: were they keyed as users, every fresh guest
	// token would get its own bucket.
	for i := range 2 {
		if code := do("192.0.2.7:1"); code != http.StatusOK {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	if code := do("192.0.2.7:1"); code != http.StatusTooManyRequests {
		t.Errorf("third guest request from one IP: %d, want 429", code)
	}
}
