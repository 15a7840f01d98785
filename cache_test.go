package apilayer_test

import (
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/testkit"
)

// concurrently sends n copies of r at once and returns the responses.
func (e *env) concurrently(n int, r req) []*http.Response {
	e.t.Helper()
	out := make([]*http.Response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out[i], errs[i] = e.client.Do(e.request(e.t.Context(), r))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			e.t.Fatalf("request %d: %v", i, err)
		}
		e.t.Cleanup(func() { out[i].Body.Close() })
	}
	return out
}

func TestValidationIsSingleFlightAndCached(t *testing.T) {
	const n = 50
	arrived := make(chan struct{}, 4*n)
	e := newEnvWith(t, setup{transport: tap{path: "/api/auth/me", arrived: arrived}})
	tok := e.login("alice")
	release := make(chan struct{})
	e.backend.SetFault("auth/me", testkit.Block(release))
	go func() {
		<-arrived // the one validation call is held at the backend
		close(release)
	}()

	r := req{path: "/dashboard", cookies: map[string]string{userCookie: tok}}
	for i, res := range e.concurrently(n, r) {
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i, res.StatusCode)
		}
		wantNoSetCookie(t, res)
	}
	e.wantCalls(map[string]int64{"auth/me": 1})
	ups := e.upstream.Requests()
	if len(ups) != n {
		t.Fatalf("the web app received %d requests, want %d", len(ups), n)
	}
	for _, up := range ups {
		wantIdentity(t, up, "user", "alice")
	}

	// Within cacheTTL (2s by default): no more calls.
	for range 5 {
		wantStatus(t, e.do(r), http.StatusOK)
	}
	e.wantCalls(map[string]int64{"auth/me": 1})
}

// BUG(lead): validate.cacheTTL 0 must disable the cache. session/authenticate.go
// ask() sets e.Fresh = minTime(e.Fresh, id.Exp), and minTime returns b when a
// is zero, so with ttl 0 the entry is fresh until the token's exp: one call
// per token lifetime instead of one per request.
func TestValidationWithoutCacheAsksEveryRequest(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { zero := time.Duration(0); c.Validation.CacheTTL = &zero })
	r := req{path: "/dashboard", cookies: map[string]string{userCookie: e.login("alice")}}
	for i := range 4 {
		wantStatus(t, e.do(r), http.StatusOK)
		e.wantCalls(map[string]int64{"auth/me": int64(i + 1)})
	}
}

func TestInvalidTokensAreCachedToo(t *testing.T) {
	e := newEnv(t, both(noGuest, noFallback))
	r := req{path: "/api/posts", cookies: map[string]string{userCookie: "random-garbage"}}
	for range 3 {
		wantJSON(t, e.do(r), http.StatusUnauthorized, "Session expired.")
	}
	e.wantCalls(map[string]int64{"auth/me": 1, "auth/refresh": 1})
}

func TestRefreshIsSingleFlight(t *testing.T) {
	const n = 50
	arrived := make(chan struct{}, 4*n)
	e := newEnvWith(t, setup{transport: tap{path: "/api/auth/refresh", arrived: arrived}})
	old := e.expired("alice")
	release := make(chan struct{})
	e.backend.SetFault("auth/refresh", testkit.Block(release))
	go func() {
		// The one refresh call is held at the backend; release it once
		// every request waits on it.
		<-arrived
		if err := testkit.WaitParked(n, "session.(*Manager).shared("); err != nil {
			t.Error(err) // not Fatal: this is not the test's goroutine; release anyway
		}
		close(release)
	}()

	resps := e.concurrently(n, req{path: "/about", cookies: map[string]string{userCookie: old}})
	var tok string
	for i, res := range resps {
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i, res.StatusCode)
		}
		got := wantSet(t, res, userCookie, userMaxAge)
		if tok == "" {
			tok = got
		}
		if got != tok || got == old {
			t.Fatalf("request %d set another token than the others, or the old one", i)
		}
	}
	// One refresh; one validation of the old token and one of the new.
	e.wantCalls(map[string]int64{"auth/refresh": 1, "auth/me": 2, "auth/guest": 0})
	ups := e.upstream.Requests()
	if len(ups) != n {
		t.Fatalf("the web app received %d requests, want %d", len(ups), n)
	}
	for i, up := range ups {
		if got := up.Header.Get("X-Refreshed-Token"); got != tok {
			t.Errorf("web app request %d: X-Refreshed-Token = %q, want the one new token", i, got)
		}
		if v, _ := up.Cookie(userCookie); v != tok {
			t.Errorf("web app request %d: Cookie %s = %q, want the new token", i, userCookie, v)
		}
		wantIdentity(t, up, "user", "alice")
	}
}

// refresh.successorTTL (default 30s): a request from the same client that
// still carries a token rotated away a moment ago gets the successor without
// a second backend refresh; refreshing again would meet the backend's reuse
// detection and log out a second browser tab racing the first.
func TestRotatedTokenGetsItsSuccessorFromTheSameClient(t *testing.T) {
	e := newEnv(t, nil)
	old := e.expired("alice")
	r := req{path: "/about", cookies: map[string]string{userCookie: old}, header: map[string]string{"User-Agent": "tab"}}
	first := e.do(r)
	wantForwarded(t, first, "/about")
	tok := wantSet(t, first, userCookie, userMaxAge)

	second := e.do(r) // the other tab, still with the old cookie
	wantForwarded(t, second, "/about")
	if got := wantSet(t, second, userCookie, userMaxAge); got != tok {
		t.Errorf("the second request got another token than the successor")
	}
	e.wantCalls(map[string]int64{"auth/refresh": 1})
}

func TestRotatedTokenFromAnotherClientMeetsReuseDetection(t *testing.T) {
	e := newEnv(t, nil)
	old := e.expired("alice")
	first := e.do(req{path: "/about", cookies: map[string]string{userCookie: old}, header: map[string]string{"User-Agent": "owner"}})
	wantForwarded(t, first, "/about")
	wantSet(t, first, userCookie, userMaxAge)

	stolen := e.do(req{path: "/about", cookies: map[string]string{userCookie: old}, header: map[string]string{"User-Agent": "thief"}})
	wantRedirect(t, stolen, "/login")
	wantDeleted(t, stolen, userCookie)
}

// closedURL returns a backend URL on which nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/api/"
}

func TestBackendUnavailableChangesNoCookie(t *testing.T) {
	modes := []struct {
		name  string
		fault testkit.Fault
		edit  func(*config.Config)
	}{
		{"status 503", testkit.Status(503), nil},
		{"status 429", testkit.Status(429), nil},
		{"hang past backend.timeout", testkit.Hang, func(c *config.Config) { c.Backend.Timeout = 300 * time.Millisecond }},
		{"closed port", testkit.None, func(c *config.Config) { c.Backend.URL = closedURL(t) }},
	}
	type kind struct {
		name    string
		cookies func(e *env) map[string]string
		path    string
		check   func(t *testing.T, e *env, res *http.Response)
	}
	forwardedBare := func(t *testing.T, e *env, res *http.Response) {
		t.Helper()
		wantStatus(t, res, http.StatusOK)
		wantIdentity(t, e.lastUpstream(), "", "")
		if v := e.lastUpstream().Header.Get("X-Refreshed-Token"); v != "" {
			t.Errorf("X-Refreshed-Token = %q, want none", v)
		}
	}
	kinds := []kind{
		{"no token: page forwarded without a guest", nil, "/about", forwardedBare},
		{"user token: page forwarded without identity", userCookies, "/about", forwardedBare},
		{"expired token: page forwarded, no refresh", expiredCookies, "/about", forwardedBare},
		{"guest token: page forwarded without identity", guestCookies, "/about", forwardedBare},
		{"user token: protected page is a 503 page", userCookies, "/dashboard", func(t *testing.T, e *env, res *http.Response) {
			wantPage(t, res, http.StatusServiceUnavailable)
			e.wantNoUpstream()
		}},
		{"user token: fetch to a protected page is 503 JSON", userCookies, "/dashboard?fetch", func(t *testing.T, e *env, res *http.Response) {
			wantJSON(t, res, http.StatusServiceUnavailable, "Authentication service unavailable.")
		}},
		{"user token: API is 503 JSON", userCookies, "/api/posts", func(t *testing.T, e *env, res *http.Response) {
			wantJSON(t, res, http.StatusServiceUnavailable, "Authentication service unavailable.")
			e.wantCalls(map[string]int64{"posts": 0})
		}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			for _, k := range kinds {
				t.Run(k.name, func(t *testing.T) {
					t.Parallel()
					e := newEnv(t, m.edit)
					var cookies map[string]string
					if k.cookies != nil {
						cookies = k.cookies(e)
					}
					e.backend.SetFault("*", m.fault)
					r := req{path: k.path, cookies: cookies}
					if k.path == "/dashboard?fetch" {
						r.header = map[string]string{"Sec-Fetch-Mode": "cors"}
					}
					res := e.do(r)
					wantNoSetCookie(t, res)
					k.check(t, e, res)
					e.wantCalls(map[string]int64{"auth/refresh": 0})
				})
			}
		})
	}
}

// tinyTTL makes every cache entry stale at once, without a clock: the
// gateway's session layer reads the real time.
var tinyTTL = time.Nanosecond

func TestStaleIfErrorServesTheLastGoodIdentity(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Validation.CacheTTL = &tinyTTL })
	tok := e.login("alice")
	r := req{path: "/dashboard", cookies: map[string]string{userCookie: tok}}
	wantStatus(t, e.do(r), http.StatusOK)

	e.backend.SetFault("auth/me", testkit.Status(503))
	for _, path := range []string{"/dashboard", "/about"} {
		r.path = path
		res := e.do(r)
		wantForwarded(t, res, path)
		wantNoSetCookie(t, res)
		wantIdentity(t, e.lastUpstream(), "user", "alice")
	}
	r.path = "/api/posts"
	res := e.do(r)
	wantStatus(t, res, http.StatusOK)
	wantNoSetCookie(t, res)
	if got := bearer(e.lastBackend("/api/posts")); got != "Bearer "+tok {
		t.Errorf("backend Authorization = %q, want the stale-served token", got)
	}
	e.wantCalls(map[string]int64{"auth/me": 4, "auth/refresh": 0, "auth/guest": 0})
}

func TestStaleIfErrorZeroRefusesWhenTheBackendIsDown(t *testing.T) {
	zero := time.Duration(0)
	e := newEnv(t, func(c *config.Config) { c.Validation.CacheTTL, c.Validation.StaleIfError = &tinyTTL, &zero })
	r := req{path: "/dashboard", cookies: map[string]string{userCookie: e.login("alice")}}
	wantStatus(t, e.do(r), http.StatusOK)
	e.backend.SetFault("auth/me", testkit.Status(503))
	res := e.do(r)
	wantPage(t, res, http.StatusServiceUnavailable)
	wantNoSetCookie(t, res)
}
