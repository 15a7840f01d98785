package session

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
)

// clock is an injectable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fake is a JWT backend over a real HTTP server, implementing the defaults
// of backend.endpoints and backend.mapping. Each endpoint answers normally
// unless a mode is set:
// "500", "503", "429", "hang", "401", "403", "409", "reuse-code", "nonjson",
// "string-data", "huge", "no-token", "new-invalid", "leaky".
type fake struct {
	srv   *httptest.Server
	clock *clock

	validates, refreshes, guests atomic.Int64
	seq                          atomic.Int64

	mu      sync.Mutex
	valid   map[string]tokenInfo // the tokens the backend accepts
	modes   map[string]string    // endpoint => mode
	gate    chan struct{}        // non-nil: validate and refresh wait for it
	entered chan string          // non-nil: gets the endpoint of every call
	rotate  bool                 // refresh answers a rotated refresh token
	oneUse  bool                 // a refresh credential used twice answers 409 (reuse)
	used    map[string]bool      // the refresh credentials used
	creds   []string             // the credential of every refresh call
	issued  map[string]tokenInfo // every token ever added ("signed"), revoked or not
}

type tokenInfo struct {
	typ string
	exp time.Time
}

func newFake(t testing.TB, c *clock) *fake {
	f := &fake{clock: c, valid: map[string]tokenInfo{}, modes: map[string]string{},
		used: map[string]bool{}, issued: map[string]tokenInfo{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/auth/me", f.validate)
	mux.HandleFunc("POST /api/auth/refresh", f.refresh)
	mux.HandleFunc("POST /api/auth/guest", f.guest)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a backend client for f.
func (f *fake) client(t testing.TB, timeout time.Duration) *backend.Client {
	c, err := backend.New(backend.Options{URL: f.srv.URL + "/api/", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func (f *fake) add(token, typ string, exp time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.valid[token] = tokenInfo{typ, exp}
	f.issued[token] = tokenInfo{typ, exp}
}

func (f *fake) drop(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.valid, token)
}

func (f *fake) setMode(endpoint, mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.modes[endpoint] = mode
}

func (f *fake) setGate(g chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gate = g
}

func (f *fake) state(endpoint string) (string, chan struct{}, chan string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.modes[endpoint], f.gate, f.entered
}

// common handles the modes shared by every endpoint; it reports whether it
// answered.
func (f *fake) common(w http.ResponseWriter, r *http.Request, endpoint string) (string, bool) {
	io.Copy(io.Discard, r.Body) // so a closed client connection is noticed
	mode, gate, entered := f.state(endpoint)
	if entered != nil {
		entered <- endpoint
	}
	if gate != nil && endpoint != "guest" {
		select {
		case <-gate:
		case <-r.Context().Done():
			return mode, true
		}
	}
	w.Header().Set("Content-Type", "application/json")
	switch mode {
	case "hang":
		<-r.Context().Done()
	case "500", "503", "429", "401", "403", "409":
		var code int
		fmt.Sscan(mode, &code)
		w.WriteHeader(code)
		io.WriteString(w, `{"success":false,"message":"no"}`)
	case "reuse-code":
		w.WriteHeader(400)
		io.WriteString(w, `{"success":false,"code":"token_reuse"}`)
	case "nonjson":
		io.WriteString(w, `<html>hello</html>`)
	case "string-data":
		io.WriteString(w, `{"success":true,"data":"user"}`)
	case "huge":
		io.WriteString(w, `{"success":true,"data":{"pad":"`+strings.Repeat("x", 2<<20)+`"}}`)
	default:
		return mode, false
	}
	return mode, true
}

func (f *fake) validate(w http.ResponseWriter, r *http.Request) {
	f.validates.Add(1)
	mode, done := f.common(w, r, "validate")
	if done {
		return
	}
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	ti, ok := f.valid[tok]
	f.mu.Unlock()
	if !ok || (!ti.exp.IsZero() && !f.clock.Now().Before(ti.exp)) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"success":false,"message":"Unauthenticated."}`)
		return
	}
	exp := ""
	if !ti.exp.IsZero() {
		exp = fmt.Sprintf(`,"exp":%d`, ti.exp.Unix())
	}
	leak := ""
	if mode == "leaky" {
		leak = `,"accessToken":"LEAK1","token":"LEAK2","refresh_token":"LEAK3"`
	}
	fmt.Fprintf(w, `{"success":true,"data":{"id":%q,"email":"u@example.com","type":%q%s%s}}`, "id-"+tok, ti.typ, exp, leak)
}

func (f *fake) refresh(w http.ResponseWriter, r *http.Request) {
	f.refreshes.Add(1)
	cred := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	f.creds = append(f.creds, cred)
	f.mu.Unlock()
	mode, done := f.common(w, r, "refresh")
	if done {
		return
	}
	f.mu.Lock()
	reused := f.oneUse && f.used[cred]
	f.used[cred] = true
	f.mu.Unlock()
	if reused {
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, `{"success":false,"code":"token_reuse"}`)
		return
	}
	switch mode {
	case "no-token":
		io.WriteString(w, `{"success":true,"data":{}}`)
		return
	case "new-invalid":
		io.WriteString(w, `{"success":true,"data":{"accessToken":"not-known-to-validate"}}`)
		return
	}
	n := f.seq.Add(1)
	tok := fmt.Sprintf("u-%d", n)
	f.add(tok, "user", f.clock.Now().Add(time.Hour))
	f.mu.Lock()
	rotate := f.rotate
	f.mu.Unlock()
	if rotate {
		fmt.Fprintf(w, `{"success":true,"data":{"accessToken":%q,"refreshToken":"r-%d"}}`, tok, n)
		return
	}
	fmt.Fprintf(w, `{"success":true,"data":{"accessToken":%q}}`, tok)
}

func (f *fake) guest(w http.ResponseWriter, r *http.Request) {
	f.guests.Add(1)
	if _, done := f.common(w, r, "guest"); done {
		return
	}
	tok := fmt.Sprintf("g-%d", f.seq.Add(1))
	f.add(tok, "guest", f.clock.Now().Add(time.Hour))
	fmt.Fprintf(w, `{"success":true,"data":{"accessToken":%q}}`, tok)
}

// calls returns the validate, refresh and guest call counts.
func (f *fake) calls() [3]int64 {
	return [3]int64{f.validates.Load(), f.refreshes.Load(), f.guests.Load()}
}

// doneCounter is a context that reports each call of Done: the Manager
// calls it when it starts waiting for a shared flight, after joining it,
// which lets tests release the backend only once every caller has joined.
type doneCounter struct {
	context.Context
	n chan struct{}
}

func (c doneCounter) Done() <-chan struct{} {
	c.n <- struct{}{}
	return c.Context.Done()
}

// usedCreds returns the credentials of the refresh calls so far.
func (f *fake) usedCreds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.creds...)
}

// verifier is a local-mode verifier that signs nothing: a token is valid
// when the fake backend ever issued it (revoked or not) and it has not
// expired by the injected clock. Its user object is the "claim set".
type verifier struct {
	f     *fake
	calls atomic.Int64
	down  atomic.Bool // answers unavailable (its key set cannot be fetched)
}

func (v *verifier) Verify(_ context.Context, token string) (Identity, error) {
	v.calls.Add(1)
	if v.down.Load() {
		return Identity{}, fmt.Errorf("verifier: jwks: %w", backend.ErrUnavailable)
	}
	v.f.mu.Lock()
	ti, ok := v.f.issued[token]
	v.f.mu.Unlock()
	if !ok || (!ti.exp.IsZero() && !v.f.clock.Now().Before(ti.exp)) {
		return Identity{}, backend.ErrInvalid
	}
	return Identity{Type: ti.typ, User: map[string]any{"sub": "id-" + token, "type": ti.typ}, Exp: ti.exp}, nil
}
