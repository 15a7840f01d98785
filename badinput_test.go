package apilayer_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/testkit"
)

func TestMalformedCookieHeadersAreHarmless(t *testing.T) {
	for _, line := range []string{
		"Cookie: ;;;=;userAuthToken;===",
		`Cookie: userAuthToken="unterminated; guestAuthToken=`,
		"Cookie: userAuthToken=a b c",
		"Cookie: " + strings.Repeat(";", 2000),
	} {
		t.Run(line[:min(len(line), 40)], func(t *testing.T) {
			e := newEnv(t, noGuest)
			res := e.raw("/about", line)
			wantForwarded(t, res, "/about")
			wantIdentity(t, e.lastUpstream(), "", "")
			if v, ok := e.lastUpstream().Cookie(userCookie); ok {
				t.Errorf("the web app received %s=%q", userCookie, v)
			}
		})
	}
}

func TestDuplicatedAuthCookieFirstWins(t *testing.T) {
	e := newEnv(t, noGuest)
	tok := e.login("alice")
	res := e.raw("/dashboard", "Cookie: "+userCookie+"="+tok+"; "+userCookie+"=garbage")
	wantForwarded(t, res, "/dashboard")
	wantNoSetCookie(t, res)
	wantIdentity(t, e.lastUpstream(), "user", "alice")
	e.wantCalls(map[string]int64{"auth/me": 1, "auth/refresh": 0})
	if got := bearer(e.lastBackend("/api/auth/me")); got != "Bearer "+tok {
		t.Errorf("validated %q, want the first cookie", got)
	}
	if v, _ := e.lastUpstream().Cookie(userCookie); v != tok {
		t.Errorf("the web app's Cookie carries %s=%q, want the first value only", userCookie, v)
	}
}

func TestOversizedAuthCookieIsNeverSentAndDeleted(t *testing.T) {
	e := newEnv(t, noGuest)
	big := strings.Repeat("x", 8<<10+1)
	res := e.do(req{path: "/about", cookies: map[string]string{userCookie: big, "theme": "dark"}})
	wantForwarded(t, res, "/about")
	wantDeleted(t, res, userCookie)
	wantSetCookieNames(t, res, userCookie)
	e.wantCalls(map[string]int64{"auth/me": 0, "auth/refresh": 0})
	if len(e.backend.Requests()) != 0 {
		t.Error("the oversized cookie reached the backend")
	}
	up := e.lastUpstream()
	if got := up.Header.Get("Cookie"); got != "theme=dark" {
		t.Errorf("the web app's Cookie = %.60q, want theme=dark", got)
	}
	wantIdentity(t, up, "", "")
}

func TestBackendNonsenseForValidationMeansInvalid(t *testing.T) {
	for _, f := range []testkit.Fault{testkit.NotJSON, testkit.WrongShape, testkit.Status(404)} {
		t.Run(f.String(), func(t *testing.T) {
			e := newEnv(t, both(noGuest, noFallback))
			tok := e.login("alice")
			e.backend.SetFault("auth/me", f)
			res := e.do(req{path: "/api/posts", cookies: map[string]string{userCookie: tok}})
			// Invalid: a refresh was tried, and its new token was not
			// confirmed by the broken validation either.
			wantJSON(t, res, http.StatusUnauthorized, "Session expired.")
			wantDeleted(t, res, userCookie)
			e.wantCalls(map[string]int64{"posts": 0, "auth/refresh": 1})
		})
	}
}

func TestHangingBackendIsBoundedByTheTimeout(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Backend.Timeout = 300 * time.Millisecond })
	tok := e.login("alice")
	e.backend.SetFault("auth/me", testkit.Hang)
	wantJSON(t, e.do(req{path: "/api/posts", cookies: map[string]string{userCookie: tok}}),
		http.StatusServiceUnavailable, "Authentication service unavailable.")
	res := e.do(req{path: "/about", cookies: map[string]string{userCookie: tok}})
	wantForwarded(t, res, "/about")
	wantNoSetCookie(t, res)
}

// serve runs e.gw.Serve on a fresh loopback listener and returns its
// address, a cancel that starts the graceful shutdown, a channel closed
// when Serve has returned (its result is then in *served), and one closed
// when the listener is closed.
func (e *env) serve() (addr string, cancel context.CancelFunc, done <-chan struct{}, served *error, closed <-chan struct{}) {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	cl := &closeNotify{Listener: ln, closed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	d := make(chan struct{})
	served = new(error)
	go func() {
		*served = e.gw.Serve(ctx, cl)
		close(d)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-d
	})
	return ln.Addr().String(), cancel, d, served, cl.closed
}

// closeNotify is a listener that reports when it is closed.
type closeNotify struct {
	net.Listener
	closed chan struct{}
	once   sync.Once
}

func (c *closeNotify) Close() error {
	err := c.Listener.Close()
	c.once.Do(func() { close(c.closed) })
	return err
}

func TestServeAnswers431ToAHugeHeader(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Server.MaxHeaderBytes = 64 * config.KiB })
	addr, _, _, _, _ := e.serve()
	r, err := http.NewRequest(http.MethodGet, "http://"+addr+"/about", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Big", strings.Repeat("a", 100<<10))
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	wantStatus(t, res, http.StatusRequestHeaderFieldsTooLarge)
	e.wantNoUpstream()
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	e := newEnv(t, noGuest)
	arrived, release := make(chan struct{}), make(chan struct{})
	e.upstream.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		io.WriteString(w, "slow page")
	}))
	addr, cancel, done, served, closed := e.serve()

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		got <- result{res.StatusCode, string(b), err}
	}()
	<-arrived
	cancel()
	<-closed // Shutdown closed the listener

	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("a new connection was accepted after shutdown began")
	}
	select {
	case <-done:
		t.Fatalf("Serve returned %v with a request in flight", *served)
	default:
	}

	close(release)
	r := <-got
	if r.err != nil || r.status != http.StatusOK || r.body != "slow page" {
		t.Fatalf("in-flight request: %d %q %v, want 200 \"slow page\"", r.status, r.body, r.err)
	}
	<-done
	if *served != nil {
		t.Fatalf("Serve returned %v, want nil", *served)
	}
}

// settle waits (bounded) until the goroutine count is at most want.
func settle(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for n > want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > want {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines, want at most %d:\n%s", n, want, buf[:runtime.Stack(buf, true)])
	}
}

func TestClientDisconnectLeaksNoGoroutine(t *testing.T) {
	tests := []struct {
		name string
		// backend: the request is held at the backend's validation (else
		// at the web app).
		backend bool
	}{
		{"waiting on the web app", false},
		{"waiting on the backend's validation", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			validated := make(chan struct{}, 8)
			e := newEnvWith(t, setup{
				edit:      func(c *config.Config) { c.Backend.Timeout = 300 * time.Millisecond },
				transport: tap{path: "/api/auth/me", arrived: validated},
			})
			atApp := make(chan struct{}, 1)
			e.upstream.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/slow" {
					atApp <- struct{}{}
					<-r.Context().Done()
					return
				}
				io.WriteString(w, "ok")
			}))
			tok := e.login("alice")
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()

			// Warm up every connection pool (and the validation cache), so
			// the baseline holds the idle connections a finished request
			// leaves behind.
			warm, err := client.Do(e.request(t.Context(), req{path: "/about", cookies: map[string]string{userCookie: tok}}))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, warm.Body)
			warm.Body.Close()
			<-validated
			client.CloseIdleConnections()

			r := req{path: "/slow", cookies: map[string]string{userCookie: tok}}
			arrived := (<-chan struct{})(atApp)
			if tt.backend {
				e.backend.SetFault("auth/me", testkit.Hang)
				r = req{path: "/about", cookies: map[string]string{userCookie: e.login("alice")}} // not cached
				arrived = validated
			}
			base := runtime.NumGoroutine()

			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() {
				res, err := client.Do(e.request(ctx, r))
				if err == nil {
					res.Body.Close()
				}
				errc <- err
			}()
			<-arrived
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("the cancelled request ended with %v", err)
			}
			client.CloseIdleConnections()
			settle(t, base)
		})
	}
}

// The auth cookies are read from the Cookie header in place: a quoted value
// is unquoted, a value with bytes outside RFC 6265 cookie-octets is ignored,
// other cookies and odd spacing do not matter.
func TestCookieHeaderParsing(t *testing.T) {
	e := newEnv(t, noGuest)
	tok := e.login("alice")
	for _, tc := range []struct {
		name, line, wantType string
	}{
		{"quoted", "Cookie: " + userCookie + `="` + tok + `"`, "user"},
		{"among others, with spaces", "Cookie: theme=dark;   " + userCookie + "=" + tok + " ; lang=tr", "user"},
		{"split over two lines", "Cookie: theme=dark\r\nCookie: " + userCookie + "=" + tok, "user"},
		{"a backslash makes it no cookie", "Cookie: " + userCookie + "=" + tok + `\x`, ""},
		{"a comma makes it no cookie", "Cookie: " + userCookie + "=" + tok + ",x", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.raw("/about", tc.line)
			wantForwarded(t, res, "/about")
			wantIdentity(t, e.lastUpstream(), tc.wantType, map[string]string{"user": "alice", "": ""}[tc.wantType])
		})
	}
}
