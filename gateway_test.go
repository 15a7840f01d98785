package apilayer_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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
	client   *http.Client // does not follow redirects
}

// setup says how newEnvWith builds an env.
type setup struct {
	// edit may change the config before the gateway is built.
	edit func(*config.Config)
	// tls serves the gateway with httptest.NewTLSServer.
	tls bool
	// transport, when set, is given to apilayer.WithTransport.
	transport http.RoundTripper
	// wrap, when set, wraps the gateway's handler in the test server.
	wrap func(http.Handler) http.Handler
	// opts are more options of apilayer.New.
	opts []apilayer.Option
}

// newEnv starts the backend, the web app and the gateway. edit may change
// the config before the gateway is built.
func newEnv(t *testing.T, edit func(*config.Config)) *env {
	t.Helper()
	return newEnvWith(t, setup{edit: edit})
}

// baseConfig is the config of every env before setup.edit: guests on,
// /dashboard protected, /login an auth route, /assets excluded.
func baseConfig(e *env) config.Config {
	return config.Config{
		Backend:  config.Backend{URL: e.backend.URL(), Timeout: 2 * time.Second},
		Upstream: config.Upstream{URL: e.upstream.URL()},
		Guest: config.Guest{
			Enabled:     true,
			Credentials: map[string]any{"username": demo.GuestUsername, "password": demo.GuestPassword},
			// Every test client is 127.0.0.1: the cap must not decide.
			MaxPerMinute: 1000,
		},
		Access: config.Access{
			ProtectedRoutes: []string{"/dashboard"},
			AuthRoutes:      []string{"/login"},
			ExcludedPaths:   []string{"/assets"},
		},
	}
}

func newEnvWith(t *testing.T, s setup) *env {
	t.Helper()
	clock := testkit.NewClock(time.Now())
	e := &env{t: t, clock: clock}
	e.backend = testkit.NewBackend(t, demo.BackendOptions{Now: clock.Now})
	e.upstream = testkit.NewUpstream(t)
	cfg := baseConfig(e)
	if s.edit != nil {
		s.edit(&cfg)
	}
	opts := append([]apilayer.Option(nil), s.opts...)
	if s.transport != nil {
		opts = append(opts, apilayer.WithTransport(s.transport))
	}
	gw, err := apilayer.New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.gw = gw
	h := gw.Handler()
	if s.wrap != nil {
		h = s.wrap(h)
	}
	if s.tls {
		e.srv = httptest.NewTLSServer(h)
	} else {
		e.srv = httptest.NewServer(h)
	}
	e.client = e.srv.Client()
	e.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
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
	res, err := e.client.Do(e.request(context.Background(), r))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { res.Body.Close() })
	return res
}

func (e *env) request(ctx context.Context, r req) *http.Request {
	e.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr, err := http.NewRequestWithContext(ctx, r.method, e.srv.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range r.cookies {
		hr.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	return hr
}

// raw sends a request line with target exactly as given (no client-side
// cleaning of the path) plus the extra header lines, and reads the answer.
func (e *env) raw(target string, header ...string) *http.Response {
	e.t.Helper()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	b.WriteString("GET " + target + " HTTP/1.1\r\nHost: " + e.srv.Listener.Addr().String() + "\r\nConnection: close\r\n")
	for _, h := range header {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		e.t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		e.t.Fatalf("GET %s: %v", target, err)
	}
	e.t.Cleanup(func() { res.Body.Close() })
	return res
}

// login issues a valid token for user straight from the demo backend.
func (e *env) login(user string) string {
	e.t.Helper()
	tok, err := e.backend.Demo().Issue(user, 15*time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// expired issues an expired but still refreshable token for user.
func (e *env) expired(user string) string {
	e.t.Helper()
	tok, err := e.backend.Demo().Issue(user, -time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// guestToken issues a valid guest token.
func (e *env) guestToken() string { return e.backend.Demo().IssueGuest(time.Hour) }

// backendRequests returns the requests the backend received on path (e.g.
// "/api/posts"), oldest first.
func (e *env) backendRequests(path string) []testkit.Recorded {
	var out []testkit.Recorded
	for _, r := range e.backend.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// lastBackend returns the last request the backend received on path; the
// test fails when there is none.
func (e *env) lastBackend(path string) testkit.Recorded {
	e.t.Helper()
	rs := e.backendRequests(path)
	if len(rs) == 0 {
		e.t.Fatalf("the backend received no request on %s", path)
	}
	return rs[len(rs)-1]
}

// lastUpstream returns the last request the web app received; the test
// fails when there is none.
func (e *env) lastUpstream() testkit.Recorded {
	e.t.Helper()
	rs := e.upstream.Requests()
	if len(rs) == 0 {
		e.t.Fatal("the web app received no request")
	}
	return rs[len(rs)-1]
}

// wantCalls checks the backend call count of each endpoint.
func (e *env) wantCalls(want map[string]int64) {
	e.t.Helper()
	for ep, n := range want {
		if got := e.backend.Calls(ep); got != n {
			e.t.Errorf("backend calls to %s = %d, want %d", ep, got, n)
		}
	}
}

// wantNoUpstream checks that the web app received nothing.
func (e *env) wantNoUpstream() {
	e.t.Helper()
	if n := len(e.upstream.Requests()); n != 0 {
		e.t.Errorf("the web app received %d requests, want none", n)
	}
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

// wantNoSetCookie checks that the response changes no cookie at all.
func wantNoSetCookie(t *testing.T, res *http.Response) {
	t.Helper()
	if v := res.Header.Values("Set-Cookie"); len(v) != 0 {
		t.Errorf("Set-Cookie = %q, want none", v)
	}
}

// wantSetCookieNames checks the exact set of cookie names the response sets
// or deletes.
func wantSetCookieNames(t *testing.T, res *http.Response, names ...string) {
	t.Helper()
	got := setCookies(res)
	if len(got) != len(res.Header.Values("Set-Cookie")) {
		t.Errorf("Set-Cookie names a cookie twice: %q", res.Header.Values("Set-Cookie"))
	}
	for _, n := range names {
		if got[n] == nil {
			t.Errorf("no Set-Cookie for %s (got %q)", n, res.Header.Values("Set-Cookie"))
		}
		delete(got, n)
	}
	for n := range got {
		t.Errorf("unexpected Set-Cookie for %s", n)
	}
}

// wantSet checks that the response sets cookie name with the default
// attributes (Path=/, HttpOnly, SameSite=Lax, no Secure over plain HTTP)
// and maxAge seconds, and returns its value.
func wantSet(t *testing.T, res *http.Response, name string, maxAge int) string {
	t.Helper()
	c := setCookies(res)[name]
	switch {
	case c == nil:
		t.Fatalf("no Set-Cookie for %s (got %q)", name, res.Header.Values("Set-Cookie"))
	case c.Value == "" || c.MaxAge != maxAge || c.Path != "/" || !c.HttpOnly ||
		c.SameSite != http.SameSiteLaxMode || c.Secure || c.Domain != "":
		t.Fatalf("Set-Cookie %s = %q, want a value, Max-Age=%d, Path=/, HttpOnly, SameSite=Lax, no Secure, no Domain",
			name, c.Raw, maxAge)
	}
	return c.Value
}

// wantDeleted checks that the response deletes cookie name with the
// attributes it was set with.
func wantDeleted(t *testing.T, res *http.Response, name string) {
	t.Helper()
	c := setCookies(res)[name]
	switch {
	case c == nil:
		t.Fatalf("no Set-Cookie deleting %s (got %q)", name, res.Header.Values("Set-Cookie"))
	case !deleted(c) || c.Value != "" || c.Path != "/" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode:
		t.Fatalf("Set-Cookie %s = %q, want an empty value, Max-Age=0, Path=/, HttpOnly, SameSite=Lax", name, c.Raw)
	}
}

// Cookie lifetimes of the default config, in seconds.
const (
	userMaxAge  = 168 * 3600
	guestMaxAge = 3600
)

func bodyJSON(t *testing.T, res *http.Response) map[string]any {
	t.Helper()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	return m
}

func bodyString(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return string(b)
}

func wantStatus(t *testing.T, res *http.Response, code int) {
	t.Helper()
	if res.StatusCode != code {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status = %d, want %d (body %q)", res.StatusCode, code, b)
	}
}

// wantJSON checks an exact {"success":false,"message":msg} answer.
func wantJSON(t *testing.T, res *http.Response, code int, msg string) {
	t.Helper()
	wantStatus(t, res, code)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	m := bodyJSON(t, res)
	if len(m) != 2 || m["success"] != false || m["message"] != msg {
		t.Fatalf("body = %v, want exactly success false and message %q", m, msg)
	}
}

// wantCSRFRefused checks the CSRF refusal: 403 with the message and the
// code a client program recognises.
func wantCSRFRefused(t *testing.T, res *http.Response) {
	t.Helper()
	wantStatus(t, res, http.StatusForbidden)
	m := bodyJSON(t, res)
	if len(m) != 3 || m["success"] != false || m["message"] != "CSRF validation failed." || m["code"] != "csrf" {
		t.Fatalf("body = %v, want success false, the CSRF message and code csrf", m)
	}
}

// wantPage checks a page the gateway answered itself: HTML with status.
func wantPage(t *testing.T, res *http.Response, code int) {
	t.Helper()
	wantStatus(t, res, code)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want an HTML page", ct)
	}
}

func wantRedirect(t *testing.T, res *http.Response, loc string) {
	t.Helper()
	wantStatus(t, res, http.StatusTemporaryRedirect)
	if got := res.Header.Get("Location"); got != loc {
		t.Fatalf("Location = %q, want %q", got, loc)
	}
}

// wantForwarded checks a 200 answered by the web app for path.
func wantForwarded(t *testing.T, res *http.Response, path string) {
	t.Helper()
	wantStatus(t, res, http.StatusOK)
	if got, want := bodyString(t, res), "upstream: GET "+path+"\n"; got != want {
		t.Fatalf("body = %q, want the web app's %q", got, want)
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

// wantIdentity checks the identity headers the web app received: the token
// type and, for a user, X-Auth-User naming them; "" means no identity.
func wantIdentity(t *testing.T, rec testkit.Recorded, tokenType, username string) {
	t.Helper()
	if got := rec.Header.Get("X-Auth-Token-Type"); got != tokenType {
		t.Errorf("X-Auth-Token-Type = %q, want %q", got, tokenType)
	}
	au := rec.Header.Get("X-Auth-User")
	switch {
	case username == "" && tokenType != "guest" && au != "":
		t.Errorf("X-Auth-User = %q, want none", au)
	case username != "":
		if au == "" {
			t.Fatalf("no X-Auth-User, want %s", username)
		}
		if u := decodeUser(t, au); u["username"] != username {
			t.Errorf("X-Auth-User = %v, want username %s", u, username)
		}
	}
}

// bearer returns the Authorization header a recorded request carried.
func bearer(rec testkit.Recorded) string { return rec.Header.Get("Authorization") }

// tap is a RoundTripper over http.DefaultTransport that reports every
// request to the backend's path on arrived before sending it on.
type tap struct {
	path    string
	arrived chan<- struct{}
}

func (tp tap) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, tp.path) {
		tp.arrived <- struct{}{}
	}
	return http.DefaultTransport.RoundTrip(r)
}
