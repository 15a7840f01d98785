package apilayer_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/respond"
)

// Backend outages through the whole gateway: the circuit breaker per
// endpoint, the health report, the backoff of unavailable refreshes and
// anonymous visitors while no guest can be minted (docs/how-it-works.md).

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// count returns the number of log lines whose message is msg.
func (l *lockedBuffer) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), "msg=\""+msg+"\"")
}

// lines returns the number of log lines.
func (l *lockedBuffer) lines() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), "\n")
}

// healthReport is the health endpoint's answer.
type healthReport struct {
	Status, Backend, Store string
	BackendEndpoints       map[string]string
}

func (e *env) healthReport() healthReport {
	e.t.Helper()
	res := e.do(req{path: "/_apilayer/health"})
	wantStatus(e.t, res, http.StatusOK)
	var h healthReport
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		e.t.Fatal(err)
	}
	return h
}

// breakerFor keeps a breaker open for the whole test: no probe happens
// while it runs, whatever the machine's speed.
func breakerFor(failures int) func(*config.Config) {
	return func(c *config.Config) {
		c.Backend.Breaker = config.Breaker{Failures: failures, OpenFor: 30 * time.Second}
	}
}

// TestBreakerFailsFastThroughTheGateway: after backend.breaker.failures
// unavailable validations the validate breaker opens: the next requests
// are answered at once without a backend call (503, or the stale identity
// while staleIfError lasts), health reports it, and so do the metrics.
func TestBreakerFailsFastThroughTheGateway(t *testing.T) {
	log := &lockedBuffer{}
	e := newEnvWith(t, setup{
		edit: func(c *config.Config) {
			breakerFor(5)(c)
			c.Metrics.Enabled = true
			noCache := time.Duration(0) // every request validates: stale answers come from staleIfError
			c.Validation.CacheTTL = &noCache
		},
		opts: []apilayer.Option{apilayer.WithLogger(slog.New(slog.NewTextHandler(log, nil)))},
	})
	alice := e.login("alice")
	admin := e.login("admin")
	// alice's identity is known: it is served stale during the outage.
	wantStatus(t, e.do(req{path: "/dashboard", cookies: map[string]string{userCookie: alice}}), http.StatusOK)
	e.backend.ResetCalls()
	e.backend.SetFault("auth/me", testkit.Status(503))

	// admin's token was never validated: 503 until the breaker opens, then
	// 503 at once.
	for range 20 {
		wantPage(t, e.do(req{path: "/dashboard", cookies: map[string]string{userCookie: admin}}), http.StatusServiceUnavailable)
	}
	e.wantCalls(map[string]int64{"auth/me": 5})
	for range 10 {
		res := e.do(req{path: "/dashboard", cookies: map[string]string{userCookie: alice}})
		wantForwarded(t, res, "/dashboard")
		wantNoSetCookie(t, res)
		wantIdentity(t, e.lastUpstream(), "user", "alice") // served stale, with the breaker open
		wantJSON(t, e.do(req{path: "/api/posts", cookies: map[string]string{userCookie: admin}}), http.StatusServiceUnavailable, respond.MsgUnavailable)
	}
	e.wantCalls(map[string]int64{"auth/me": 5, "auth/refresh": 0})

	h := e.healthReport()
	if h.Status != "degraded" || h.Backend != "unavailable" || h.BackendEndpoints["validate"] != "open" || h.BackendEndpoints["refresh"] != "closed" {
		t.Errorf("health = %+v, want degraded, backend unavailable, validate open, refresh closed", h)
	}
	if n := log.count("backend: circuit open"); n != 1 {
		t.Errorf("%d \"circuit open\" log lines, want 1", n)
	}
	res := e.do(req{path: "/metrics"})
	body := bodyString(t, res)
	for _, want := range []string{
		`apilayer_backend_breaker_state{endpoint="validate",state="open"} 1`,
		`apilayer_backend_breaker_state{endpoint="refresh",state="closed"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestRefreshOutageThroughTheGateway is a refresh-only outage:
// auth/refresh answers 503 while auth/me works, and users whose tokens
// expired keep coming back. Nobody is logged out, the backend sees at
// most one refresh per token (then the refresh breaker stops them all),
// health does not flap (validate works), and the log does not flood.
func TestRefreshOutageThroughTheGateway(t *testing.T) {
	const users, rounds = 12, 10
	log := &lockedBuffer{}
	e := newEnvWith(t, setup{
		edit: breakerFor(5),
		opts: []apilayer.Option{apilayer.WithLogger(slog.New(slog.NewTextHandler(log, nil)))},
	})
	alice := e.login("alice") // a valid session, validated on every request
	var expired []string
	for range users {
		expired = append(expired, e.expired("alice"))
	}
	startup := log.lines() // the config's warnings
	e.backend.SetFault("auth/refresh", testkit.Status(503))
	for round := range rounds {
		for i, tok := range expired {
			path := "/api/posts"
			if i%2 == 1 {
				path = "/about"
			}
			res := e.do(req{path: path, cookies: map[string]string{userCookie: tok}})
			if path == "/about" {
				wantForwarded(t, res, "/about")
			} else {
				wantJSON(t, res, http.StatusServiceUnavailable, respond.MsgUnavailable)
			}
			wantNoSetCookie(t, res) // no logout, no guest in place of the user
		}
		wantStatus(t, e.do(req{path: "/dashboard", cookies: map[string]string{userCookie: alice}}), http.StatusOK)
		if h := e.healthReport(); h.Backend != "ok" || h.Status != "ok" {
			t.Fatalf("round %d: health = %+v, want ok (the validate endpoint works)", round, h)
		}
	}
	// The first five refreshes reached the backend and opened the refresh
	// breaker; every other one failed at once, and each token's memory
	// held its requests back.
	e.wantCalls(map[string]int64{"auth/refresh": 5})
	if h := e.healthReport(); h.BackendEndpoints["refresh"] != "open" || h.BackendEndpoints["validate"] != "closed" {
		t.Errorf("health endpoints = %v, want refresh open, validate closed", h.BackendEndpoints)
	}
	t.Logf("refresh endpoint down: %d requests from %d users with expired tokens: %d backend refreshes, %d log lines (%d \"refresh failed\")",
		users*rounds, users, e.backend.Calls("auth/refresh"), log.lines()-startup, log.count("session: refresh failed"))
	// At most one line per token and interval (1s, 2s, 4s: 3 intervals
	// cover a slow run of 7s), and one for the breaker.
	if n := log.count("session: refresh failed"); n > 3*users {
		t.Errorf("%d \"refresh failed\" log lines for %d users x %d requests, want at most %d", n, users, rounds, 3*users)
	}
	if n := log.lines() - startup; n > 3*users+1 {
		t.Errorf("%d log lines for %d requests, want at most %d:\n%s", n, users*rounds, 3*users+1, log.b.String())
	}
}

// TestAnonymousWhileGuestMintUnavailable: a visitor without a token, with
// guests enabled but the backend unable to mint one, gets 503 on the API
// and on protected pages, other pages without identity, and public API
// endpoints without Authorization; never "Token not found.".
func TestAnonymousWhileGuestMintUnavailable(t *testing.T) {
	for _, tt := range []struct {
		name string
		// down makes the guest mint impossible and returns the number of
		// guest calls the backend may have received.
		down func(e *env) int64
	}{
		{"guest 503", func(e *env) int64 {
			e.backend.SetFault("auth/guest", testkit.Status(503))
			return -1
		}},
		{"guest breaker open", func(e *env) int64 {
			e.backend.SetFault("auth/guest", testkit.Status(503))
			wantJSON(e.t, e.do(req{path: "/api/posts"}), http.StatusServiceUnavailable, respond.MsgUnavailable)
			e.backend.SetFault("auth/guest", testkit.None) // not asked again: the breaker is open
			return 1
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) {
				breakerFor(1)(c)
				c.API.PublicEndpoints = []string{"public/**"}
			})
			calls := tt.down(e)

			wantJSON(t, e.do(req{path: "/api/posts"}), http.StatusServiceUnavailable, respond.MsgUnavailable)
			wantPage(t, e.do(req{path: "/dashboard"}), http.StatusServiceUnavailable)
			wantJSON(t, e.do(req{path: "/dashboard", header: map[string]string{"Sec-Fetch-Mode": "cors"}}),
				http.StatusServiceUnavailable, respond.MsgUnavailable)
			res := e.do(req{path: "/about"})
			wantForwarded(t, res, "/about")
			wantNoSetCookie(t, res)
			wantIdentity(t, e.lastUpstream(), "", "")
			for _, r := range []req{
				{path: "/api/public/info", header: map[string]string{"Authorization": "Bearer forged"}},
				{path: "/api/other/info", header: map[string]string{"Authorization": "Bearer forged", "X-Skip-Auth": "true"}},
			} {
				res := e.do(r)
				if res.StatusCode == http.StatusServiceUnavailable {
					t.Fatalf("%s: 503, want it forwarded", r.path)
				}
				if got := bearer(e.lastBackend(r.path)); got != "" {
					t.Errorf("%s: the backend received Authorization %q, want none", r.path, got)
				}
			}
			if calls >= 0 {
				e.wantCalls(map[string]int64{"auth/guest": calls})
			}
			e.wantNoUpstreamPath("/dashboard")
		})
	}

	t.Run("guests disabled: 401 as before", func(t *testing.T) {
		e := newEnv(t, func(c *config.Config) { c.Guest.Enabled = false })
		e.backend.SetFault("auth/guest", testkit.Status(503))
		wantJSON(t, e.do(req{path: "/api/posts"}), http.StatusUnauthorized, respond.MsgTokenNotFound)
	})

	t.Run("guest refused: 401 as before", func(t *testing.T) {
		e := newEnv(t, nil)
		e.backend.SetFault("auth/guest", testkit.Status(403))
		wantJSON(t, e.do(req{path: "/api/posts"}), http.StatusUnauthorized, respond.MsgTokenNotFound)
	})
}

// wantNoUpstreamPath checks that the web app never received path.
func (e *env) wantNoUpstreamPath(path string) {
	e.t.Helper()
	for _, r := range e.upstream.Requests() {
		if r.Path == path {
			e.t.Errorf("the web app received %s", path)
		}
	}
}

// TestBackendHangThroughTheGateway: while the backend hangs, only the calls
// before the breakers open wait for backend.timeout; then visitors with a
// token and without one are answered without a backend call, and the log
// holds one line per breaker, not one per request.
func TestBackendHangThroughTheGateway(t *testing.T) {
	log := &lockedBuffer{}
	e := newEnvWith(t, setup{
		edit: func(c *config.Config) {
			breakerFor(5)(c)
			c.Backend.Timeout = 100 * time.Millisecond
		},
		opts: []apilayer.Option{apilayer.WithLogger(slog.New(slog.NewTextHandler(log, nil)))},
	})
	admin := e.login("admin")
	startup := log.lines() // the config's warnings
	e.backend.SetFault("auth/me", testkit.Hang)
	e.backend.SetFault("auth/guest", testkit.Hang)
	for range 20 {
		wantJSON(t, e.do(req{path: "/api/posts", cookies: map[string]string{userCookie: admin}}), http.StatusServiceUnavailable, respond.MsgUnavailable)
		wantJSON(t, e.do(req{path: "/api/posts"}), http.StatusServiceUnavailable, respond.MsgUnavailable)
		wantForwarded(t, e.do(req{path: "/about"}), "/about")
	}
	// 5 validations and 5 guest mints waited for backend.timeout; the 95
	// requests after them were answered at once.
	e.wantCalls(map[string]int64{"auth/me": 5, "auth/guest": 5})
	if n, want := log.lines()-startup, 2; n != want {
		t.Errorf("%d log lines, want %d (one per breaker):\n%s", n, want, log.b.String())
	}
	if n := log.count("backend: circuit open"); n != 2 {
		t.Errorf("%d \"circuit open\" lines, want 2 (validate, guest)", n)
	}
}
