package apilayer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// env is a gateway in front of a real demo backend and a recording web app.
type env struct {
	t        *testing.T
	backend  *testkit.Backend
	upstream *testkit.Upstream
	clock    *testkit.Clock
	gw       *apilayer.Gateway
	srv      *httptest.Server
}

// newEnv starts the backend, the web app and the gateway. edit may change
// the config before the gateway is built.
func newEnv(t *testing.T, edit func(*config.Config)) *env {
	t.Helper()
	clock := testkit.NewClock(time.Now())
	e := &env{t: t, clock: clock}
	e.backend = testkit.NewBackend(t, demo.BackendOptions{Now: clock.Now})
	e.upstream = testkit.NewUpstream(t)
	cfg := config.Config{
		Backend:  config.Backend{URL: e.backend.URL(), Timeout: 2 * time.Second},
		Upstream: config.Upstream{URL: e.upstream.URL()},
		Guest: config.Guest{
			Enabled:     true,
			Credentials: map[string]any{"username": demo.GuestUsername, "password": demo.GuestPassword},
		},
		Access: config.Access{
			ProtectedRoutes: []string{"/dashboard"},
			AuthRoutes:      []string{"/login"},
			ExcludedPaths:   []string{"/assets"},
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	gw, err := apilayer.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.gw = gw
	e.srv = httptest.NewServer(gw.Handler())
	t.Cleanup(func() {
		e.srv.Close()
		gw.Close()
	})
	return e
}

// req is one request to the gateway.
type req struct {
	method  string
	path    string
	cookies map[string]string
	header  map[string]string
	body    string
}

// do sends r without following redirects.
func (e *env) do(r req) *http.Response {
	e.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range r.cookies {
		hr.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { res.Body.Close() })
	return res
}

func (e *env) login(user string) string {
	e.t.Helper()
	tok, err := e.backend.Demo().Issue(user, 15*time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) expired(user string) string {
	e.t.Helper()
	tok, err := e.backend.Demo().Issue(user, -time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// setCookies returns the response's Set-Cookie lines by cookie name.
func setCookies(res *http.Response) map[string]*http.Cookie {
	m := map[string]*http.Cookie{}
	for _, c := range res.Cookies() {
		m[c.Name] = c
	}
	return m
}

func deleted(c *http.Cookie) bool { return c != nil && c.MaxAge < 0 }

func bodyJSON(t *testing.T, res *http.Response) map[string]any {
	t.Helper()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	return m
}

func wantStatus(t *testing.T, res *http.Response, code int) {
	t.Helper()
	if res.StatusCode != code {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status = %d, want %d (body %q)", res.StatusCode, code, b)
	}
}

func wantJSON(t *testing.T, res *http.Response, code int, msg string) {
	t.Helper()
	wantStatus(t, res, code)
	m := bodyJSON(t, res)
	if m["success"] != false || m["message"] != msg {
		t.Fatalf("body = %v, want success false and message %q", m, msg)
	}
}

func wantRedirect(t *testing.T, res *http.Response, loc string) {
	t.Helper()
	wantStatus(t, res, http.StatusTemporaryRedirect)
	if got := res.Header.Get("Location"); got != loc {
		t.Fatalf("Location = %q, want %q", got, loc)
	}
}

// decodeUser decodes an X-Auth-User header value.
func decodeUser(t *testing.T, v string) map[string]any {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		t.Fatalf("X-Auth-User %q: %v", v, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("X-Auth-User JSON %q: %v", b, err)
	}
	return m
}

var _ = context.Background
var _ sync.Mutex
