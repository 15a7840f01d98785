package apilayer_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/clientip"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/requestid"
)

// libEnv is a gateway used as net/http middleware in front of next.
type libEnv struct {
	backend *testkit.Backend
	gw      *apilayer.Gateway
	srv     *httptest.Server
}

func newLibEnv(t *testing.T, hooks apilayer.Hooks, next http.Handler, edit func(*config.Config)) *libEnv {
	t.Helper()
	b := testkit.NewBackend(t, demo.BackendOptions{})
	cfg := config.Config{
		Backend: config.Backend{URL: b.URL()},
		Guest:   config.Guest{Enabled: true, Credentials: demo.GuestCredentials()},
		Access:  config.Access{ProtectedRoutes: []string{"/dashboard"}},
	}
	if edit != nil {
		edit(&cfg)
	}
	gw, err := apilayer.New(cfg, apilayer.WithHooks(hooks))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Middleware(next))
	t.Cleanup(func() { srv.Close(); gw.Close() })
	return &libEnv{backend: b, gw: gw, srv: srv}
}

func (e *libEnv) get(t *testing.T, path string, cookies map[string]string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	for k, v := range cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// recordingNext is a next handler that remembers what it saw.
type recordingNext struct {
	mu    sync.Mutex
	auth  apilayer.Auth
	hdr   http.Header
	calls int
}

func (n *recordingNext) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	n.auth = apilayer.AuthFrom(r.Context())
	n.hdr = r.Header.Clone()
	w.Write([]byte("next"))
}

func TestMiddlewareAuthFromReportsTheRefreshedIdentity(t *testing.T) {
	next := &recordingNext{}
	e := newLibEnv(t, apilayer.Hooks{}, next, nil)
	old, err := e.backend.Demo().Issue("alice", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res := e.get(t, "/dashboard", map[string]string{"userAuthToken": old}, nil)
	if res.StatusCode != 200 {
		t.Fatalf("status %d, want 200 after a transparent refresh", res.StatusCode)
	}
	a := next.auth
	if !a.Authenticated || a.Guest || a.TokenType != "user" || a.User["name"] != "Alice" {
		t.Fatalf("AuthFrom = %+v, want alice authenticated (the seed reported the stale, unauthenticated result)", a)
	}
	if a.Token == "" || a.Token == old {
		t.Fatalf("AuthFrom.Token = %q, want the refreshed token, not the stale cookie", a.Token)
	}
	if got := e.backend.Calls("auth/refresh"); got != 1 {
		t.Fatalf("refresh calls = %d, want 1", got)
	}
}

func TestMiddlewareAuthFromGuestMinted(t *testing.T) {
	next := &recordingNext{}
	e := newLibEnv(t, apilayer.Hooks{}, next, nil)
	e.get(t, "/", nil, nil)
	if a := next.auth; !a.Guest || a.Authenticated || a.TokenType != "guest" || a.Token == "" {
		t.Fatalf("AuthFrom = %+v, want a freshly minted guest with its token", a)
	}
}

func TestAuthFromOutsideTheGateway(t *testing.T) {
	if a := apilayer.AuthFrom(context.Background()); a.Authenticated || a.Guest || a.Token != "" || a.User != nil {
		t.Fatalf("AuthFrom(empty context) = %+v, want the zero Auth", a)
	}
}

func TestBeforeAuthAnswersAndCannotForward(t *testing.T) {
	next := &recordingNext{}
	hooks := apilayer.Hooks{BeforeAuth: func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/maintenance" {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return true
		}
		r.Header.Set("X-Auth-User", "Zm9yZ2Vk") // a hook cannot inject identity either
		return false
	}}
	e := newLibEnv(t, hooks, next, nil)
	if res := e.get(t, "/maintenance", nil, nil); res.StatusCode != 503 || next.calls != 0 {
		t.Fatalf("status %d, next calls %d; want the hook's 503 and next never called", res.StatusCode, next.calls)
	}
	if e.backend.Calls("auth/guest")+e.backend.Calls("auth/me") != 0 {
		t.Fatal("BeforeAuth answered, yet the backend was called")
	}
	e.get(t, "/about", nil, map[string]string{"X-Auth-User": "Zm9yZ2Vk", "X-Middleware-Subrequest": "x"})
	if v := next.hdr.Get("X-Auth-User"); v == "Zm9yZ2Vk" {
		t.Fatal("a forged X-Auth-User reached next")
	}
	if next.hdr.Get("X-Middleware-Subrequest") != "" {
		t.Fatal("X-Middleware-Subrequest reached next")
	}
}

func TestAfterAuthCannotOverrideARedirect(t *testing.T) {
	var called []string
	next := &recordingNext{}
	hooks := apilayer.Hooks{AfterAuth: func(w http.ResponseWriter, r *http.Request, a apilayer.Auth) bool {
		called = append(called, r.URL.Path)
		w.Header().Set("X-Hook", "1")
		if r.URL.Path == "/blocked" {
			http.Error(w, "blocked by hook", http.StatusForbidden)
			return false
		}
		return true
	}}
	e := newLibEnv(t, hooks, next, func(c *config.Config) { c.Guest.Enabled = false })
	res := e.get(t, "/dashboard", nil, nil)
	if res.StatusCode != http.StatusTemporaryRedirect || next.calls != 0 {
		t.Fatalf("status %d, next calls %d: the login redirect must stand", res.StatusCode, next.calls)
	}
	if len(called) != 0 {
		t.Fatalf("AfterAuth called for a redirect: %v", called)
	}
	res = e.get(t, "/blocked", nil, nil)
	if res.StatusCode != 403 || next.calls != 0 {
		t.Fatalf("status %d, next calls %d: a hook may refuse a forward", res.StatusCode, next.calls)
	}
	res = e.get(t, "/about", nil, nil)
	if res.StatusCode != 200 || res.Header.Get("X-Hook") != "1" || next.calls != 1 {
		t.Fatalf("status %d, X-Hook %q, next calls %d: want the forward with the hook's header", res.StatusCode, res.Header.Get("X-Hook"), next.calls)
	}
}

func TestOnRefreshFailTellsTheReason(t *testing.T) {
	var mu sync.Mutex
	var reasons []string
	hooks := apilayer.Hooks{OnRefreshFail: func(_ context.Context, reason string, _ *http.Request) {
		mu.Lock()
		reasons = append(reasons, reason)
		mu.Unlock()
	}}
	e := newLibEnv(t, hooks, &recordingNext{}, nil)
	old, _ := e.backend.Demo().Issue("alice", -time.Minute)
	e.get(t, "/", map[string]string{"userAuthToken": old}, map[string]string{"User-Agent": "tab-1"})
	// The same expired token again, from another client: the backend
	// detects the reuse (409).
	e.get(t, "/", map[string]string{"userAuthToken": old}, map[string]string{"User-Agent": "attacker"})
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(reasons, ",") != "reuse" {
		t.Fatalf("OnRefreshFail reasons = %v, want [reuse]", reasons)
	}
}

func TestAPIProxyAlone(t *testing.T) {
	e := newLibEnv(t, apilayer.Hooks{}, &recordingNext{}, nil)
	tok, _ := e.backend.Demo().Issue("alice", time.Minute)
	srv := httptest.NewServer(e.gw.APIProxy())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/posts", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("APIProxy status %d, want 200", res.StatusCode)
	}
	if got := e.backend.Last().Header.Get("Authorization"); got != "Bearer "+tok {
		t.Fatalf("backend saw Authorization %q", got)
	}
}

// The handler behind the middleware reads the request ID, the client and
// the Auth from its request context, also through contexts derived from
// it, and the values of the server's own base context are still there.
func TestMiddlewareRequestContext(t *testing.T) {
	type baseKey struct{}
	type got struct {
		id, derivedID string
		info, derived clientip.Info
		auth, dAuth   apilayer.Auth
		base          any
	}
	seen := make(chan got, 1)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		d, cancel := context.WithCancel(context.WithValue(context.WithoutCancel(ctx), baseKey{}, "shadowed"))
		defer cancel()
		var g got
		g.id, g.derivedID = requestid.FromContext(ctx), requestid.FromContext(d)
		g.info, _ = clientip.FromContext(ctx)
		g.derived, _ = clientip.FromContext(d)
		g.auth, g.dAuth = apilayer.AuthFrom(ctx), apilayer.AuthFrom(d)
		g.base = ctx.Value(baseKey{})
		seen <- g
	})
	b := testkit.NewBackend(t, demo.BackendOptions{})
	gw, err := apilayer.New(config.Config{
		Backend: config.Backend{URL: b.URL()},
		Guest:   config.Guest{Enabled: true, Credentials: demo.GuestCredentials()},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(gw.Middleware(next))
	srv.Config.BaseContext = func(net.Listener) context.Context {
		return context.WithValue(context.Background(), baseKey{}, "base")
	}
	srv.Start()
	t.Cleanup(func() { srv.Close(); gw.Close() })

	tok, err := b.Demo().Issue("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: "userAuthToken", Value: tok})
	req.Header.Set("X-Request-ID", "req-42")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	g := <-seen
	if g.id != "req-42" || g.derivedID != "req-42" || res.Header.Get("X-Request-ID") != "req-42" {
		t.Errorf("request ID %q, derived %q, response %q; want req-42 everywhere", g.id, g.derivedID, res.Header.Get("X-Request-ID"))
	}
	if ip := netip.MustParseAddr("127.0.0.1"); g.info.IP != ip || g.derived.IP != ip || g.info.Proto != "http" {
		t.Errorf("client %+v, derived %+v; want 127.0.0.1 over http", g.info, g.derived)
	}
	if !g.auth.Authenticated || g.auth.Token != tok || g.auth.User["name"] != "Alice" || g.dAuth.Token != tok {
		t.Errorf("AuthFrom = %+v, derived %+v; want alice with her token", g.auth, g.dAuth)
	}
	if g.base != "base" {
		t.Errorf("base context value = %v, want it seen through the request context", g.base)
	}
}
