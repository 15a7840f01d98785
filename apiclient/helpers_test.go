package apiclient

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// seen is one request as the test backend received it.
type seen struct {
	Method   string
	Path     string
	Query    url.Values
	RawQuery string
	Header   http.Header
	Body     []byte
}

// backend is a real HTTP server that records every request and answers
// with handle (200 {"success":true,"data":{}} when nil).
type backend struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []seen // guarded by mu
	handle func(w http.ResponseWriter, r *http.Request, n int)
}

func newBackend(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *backend {
	t.Helper()
	b := &backend{handle: handle}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.reqs = append(b.reqs, seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		n := len(b.reqs)
		b.mu.Unlock()
		if b.handle == nil {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"success":true,"data":{}}`)
			return
		}
		b.handle(w, r, n)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) URL() string { return b.srv.URL + "/api/" }

func (b *backend) requests() []seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]seen(nil), b.reqs...)
}

func (b *backend) last(t *testing.T) seen {
	t.Helper()
	r := b.requests()
	if len(r) == 0 {
		t.Fatal("the backend received no request")
	}
	return r[len(r)-1]
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.reqs)
}

// writeJSON answers status with a JSON body.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

type tokenKey struct{}

// withToken is the test's stand-in for the gateway's context.
func withToken(ctx context.Context, tok string) context.Context {
	return context.WithValue(ctx, tokenKey{}, tok)
}

func tokenFrom(ctx context.Context) string {
	s, _ := ctx.Value(tokenKey{}).(string)
	return s
}

// sleeps records the retry waits instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration // guarded by mu
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newClient builds a client for b with the test token source and a
// recording sleeper; edit may change the config first.
func newClient(t *testing.T, b *backend, edit func(*Config)) (*Client, *sleeps) {
	t.Helper()
	s := &sleeps{}
	cfg := Config{BaseURL: b.URL(), TokenFrom: tokenFrom, Sleep: s.sleep}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, s
}

// userCtx is a context with the token "tok-alice".
func userCtx(t *testing.T) context.Context { return withToken(t.Context(), "tok-alice") }

// decodeMap decodes a JSON object.
func decodeMap(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
	return m
}
