package testkit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
)

// The fixture of the pipeline benchmarks. Each request is built by hand
// (BenchRequest, 5 allocations) and answered into a writer that allocates
// nothing, so that -benchmem shows the pipeline's own allocations plus
// those 5.

// BenchPage is the benchmark web app's 2 KB page.
var BenchPage = []byte(strings.Repeat("x", 2<<10))

// BenchFixture is a demo backend (EdDSA, JWKS) and a web app answering
// BenchPage, both real servers on loopback, and a token of alice's.
type BenchFixture struct {
	Backend     *demo.Backend
	BackendURL  string // the backend server's URL
	UpstreamURL string
	Token       string
}

// NewBenchFixture starts the servers; b's cleanup stops them.
func NewBenchFixture(b *testing.B) *BenchFixture {
	b.Helper()
	f := &BenchFixture{Backend: demo.NewBackend(demo.BackendOptions{Signing: "EdDSA"})}
	back := httptest.NewServer(f.Backend)
	b.Cleanup(back.Close)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(BenchPage)
	}))
	b.Cleanup(up.Close)
	tok, err := f.Backend.Issue("alice", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	f.BackendURL, f.UpstreamURL, f.Token = back.URL, up.URL, tok
	return f
}

// Config is the defaults, as a user runs them, with edit applied.
func (f *BenchFixture) Config(edit func(*config.Config)) config.Config {
	c := config.Config{
		Backend:  config.Backend{URL: f.BackendURL + "/api/"},
		Upstream: config.Upstream{URL: f.UpstreamURL},
	}
	if edit != nil {
		edit(&c)
	}
	return c
}

// BenchWriter is a ResponseWriter that keeps only the status.
type BenchWriter struct {
	H      http.Header
	Status int
}

// NewBenchWriter returns an empty BenchWriter.
func NewBenchWriter() *BenchWriter { return &BenchWriter{H: make(http.Header)} }

func (w *BenchWriter) Header() http.Header { return w.H }
func (w *BenchWriter) Write(p []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return len(p), nil
}
func (w *BenchWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
}

// Reset empties w for the next request.
func (w *BenchWriter) Reset() {
	clear(w.H)
	w.Status = 0
}

// BenchRequest is a browser's page request for /dashboard carrying cookie.
func BenchRequest(cookie string) *http.Request {
	r := &http.Request{
		Method: http.MethodGet, URL: &url.URL{Path: "/dashboard"}, Host: "app.test",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, RemoteAddr: "127.0.0.1:40000",
		Header: http.Header{"Cookie": {cookie}, "Accept": {"text/html"}, "User-Agent": {"bench"}},
	}
	return r.WithContext(context.Background())
}

// BenchSubrequest is nginx's forward-auth sub-request (authz) describing
// BenchRequest's page request: 7 allocations (two more header values).
func BenchSubrequest(cookie string) *http.Request {
	r := &http.Request{
		Method: http.MethodGet, URL: &url.URL{Path: "/_apilayer/authz"}, Host: "app.test",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, RemoteAddr: "127.0.0.1:40000",
		Header: http.Header{"Cookie": {cookie}, "Accept": {"text/html"}, "User-Agent": {"bench"},
			"X-Original-Method": {"GET"}, "X-Original-Uri": {"/dashboard"}},
	}
	return r.WithContext(context.Background())
}

// ServeLoop runs h once to warm it, then b.Loop times, on the requests
// newRequest makes, failing on any status but 200.
func ServeLoop(b *testing.B, h http.Handler, newRequest func() *http.Request) {
	b.Helper()
	w := NewBenchWriter()
	h.ServeHTTP(w, newRequest())
	if w.Status != http.StatusOK {
		b.Fatalf("warm-up: status %d", w.Status)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		h.ServeHTTP(w, newRequest())
		if w.Status != http.StatusOK {
			b.Fatalf("status %d", w.Status)
		}
	}
}
