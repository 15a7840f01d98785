package apilayer_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
)

// The benchmarks of the whole pipeline (go test -run '^$' -bench . -benchmem).
// Each request is built by hand (benchRequest, 5 allocations) and answered
// into benchWriter (none), so that -benchmem shows the pipeline's own
// allocations plus those 5. The "pipeline" variants use Middleware with a
// handler that does nothing in place of the web app: the gateway's cost
// alone. The full end-to-end harness, with processes and load, is
// `go run ./bench`.

// benchPage is the upstream's 2 KB page.
var benchPage = []byte(strings.Repeat("x", 2<<10))

// benchFixture is a demo backend (EdDSA, JWKS) and a 2 KB upstream, both
// real servers on loopback.
type benchFixture struct {
	backend  *demo.Backend
	backSrv  *httptest.Server
	upstream *httptest.Server
	token    string
}

func newBenchFixture(b *testing.B) *benchFixture {
	b.Helper()
	f := &benchFixture{backend: demo.NewBackend(demo.BackendOptions{Signing: "EdDSA"})}
	f.backSrv = httptest.NewServer(f.backend)
	b.Cleanup(f.backSrv.Close)
	f.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(benchPage)
	}))
	b.Cleanup(f.upstream.Close)
	tok, err := f.backend.Issue("alice", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	f.token = tok
	return f
}

// config is the defaults, as a user runs them, with edit applied.
func (f *benchFixture) config(edit func(*config.Config)) config.Config {
	c := config.Config{
		Backend:  config.Backend{URL: f.backSrv.URL + "/api/"},
		Upstream: config.Upstream{URL: f.upstream.URL},
	}
	if edit != nil {
		edit(&c)
	}
	return c
}

func (f *benchFixture) gateway(b *testing.B, edit func(*config.Config)) *apilayer.Gateway {
	b.Helper()
	gw, err := apilayer.New(f.config(edit))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { gw.Close() })
	return gw
}

// benchWriter is a ResponseWriter that keeps only the status.
type benchWriter struct {
	h      http.Header
	status int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}
func (w *benchWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *benchWriter) reset() {
	clear(w.h)
	w.status = 0
}

// benchRequest is a browser's page request carrying cookie.
func benchRequest(cookie string) *http.Request {
	r := &http.Request{
		Method: http.MethodGet, URL: &url.URL{Path: "/dashboard"}, Host: "app.test",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, RemoteAddr: "127.0.0.1:40000",
		Header: http.Header{"Cookie": {cookie}, "Accept": {"text/html"}, "User-Agent": {"bench"}},
	}
	return r.WithContext(context.Background())
}

// benchSubrequest is nginx's forward-auth sub-request (authz) describing
// benchRequest's page request: 7 allocations (two more header values).
func benchSubrequest(cookie string) *http.Request {
	r := &http.Request{
		Method: http.MethodGet, URL: &url.URL{Path: "/_apilayer/authz"}, Host: "app.test",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, RemoteAddr: "127.0.0.1:40000",
		Header: http.Header{"Cookie": {cookie}, "Accept": {"text/html"}, "User-Agent": {"bench"},
			"X-Original-Method": {"GET"}, "X-Original-Uri": {"/dashboard"}},
	}
	return r.WithContext(context.Background())
}

// serveLoop runs h once to warm it, then b.Loop times, failing on any
// status but 200.
func serveLoop(b *testing.B, h http.Handler, cookie string) {
	b.Helper()
	serveLoopOf(b, h, func() *http.Request { return benchRequest(cookie) })
}

// serveLoopOf is serveLoop with the requests newRequest makes.
func serveLoopOf(b *testing.B, h http.Handler, newRequest func() *http.Request) {
	b.Helper()
	w := &benchWriter{h: make(http.Header)}
	h.ServeHTTP(w, newRequest())
	if w.status != http.StatusOK {
		b.Fatalf("warm-up: status %d", w.status)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, newRequest())
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// nothing stands for the web app in the "pipeline" variants.
var nothing = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if !apilayer.AuthFrom(r.Context()).Authenticated {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusOK)
})

// benchPool recycles the bare proxy's copy buffers, as the gateway's
// proxies do.
type benchPool struct{ p sync.Pool }

func (b *benchPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *benchPool) Put(v []byte) { b.p.Put(&v) }

// BenchmarkBareProxy is the reference of BenchmarkCacheHit/upstream: an
// httputil.ReverseProxy (with a buffer pool) to the same upstream.
func BenchmarkBareProxy(b *testing.B) {
	f := newBenchFixture(b)
	u, _ := url.Parse(f.upstream.URL)
	p := &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
		BufferPool: &benchPool{},
	}
	serveLoop(b, p, "userAuthToken="+f.token+"; theme=dark")
}

// BenchmarkCacheHit is a page request whose token validation is a cache
// hit (backend mode, default cacheTTL): one backend call in all. "authz"
// is the same page request described by a forward-auth sub-request
// (nginx's convention) and answered 200 with the identity headers: the
// pipeline's cost without the web app, as "pipeline". "upstream-traced" is
// "upstream" with tracing on at sampleRatio 0.01, exporting over OTLP/HTTP
// to a collector on loopback that discards the spans: the cost of tracing,
// batching and export included.
func BenchmarkCacheHit(b *testing.B) {
	for _, bc := range []struct {
		name     string
		upstream bool
		signed   bool // identity.sign: a signed assertion, reused in the steady state
		authz    bool // a forward-auth sub-request (authz)
		traced   bool // tracing.enabled, sampleRatio 0.01
	}{{"pipeline", false, false, false, false}, {"upstream", true, false, false, false}, {"upstream-signed", true, true, false, false},
		{"authz", false, false, true, false}, {"upstream-traced", true, false, false, true}} {
		b.Run(bc.name, func(b *testing.B) {
			f := newBenchFixture(b)
			var collector string
			if bc.traced {
				col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					w.Header().Set("Content-Type", "application/x-protobuf")
				}))
				b.Cleanup(col.Close)
				collector = col.URL
			}
			gw := f.gateway(b, func(c *config.Config) {
				ttl := time.Hour
				c.Validation.CacheTTL = &ttl
				c.Identity.Sign = bc.signed
				if bc.authz {
					c.Authz.Enabled = true
					c.ClientIP.TrustedProxies = []string{"127.0.0.1"}
				}
				if bc.traced {
					ratio := 0.01
					c.Tracing = config.Tracing{Enabled: true, Endpoint: collector, SampleRatio: &ratio}
				}
			})
			h := gw.Middleware(nothing)
			if bc.upstream {
				h = gw.Handler()
			}
			cookie := "userAuthToken=" + f.token + "; theme=dark"
			if bc.authz {
				serveLoopOf(b, h, func() *http.Request { return benchSubrequest(cookie) })
			} else {
				serveLoop(b, h, cookie)
			}
			if n := f.backend.Calls("auth/me"); n != 1 {
				b.Fatalf("%d validate calls, want 1", n)
			}
		})
	}
}

// BenchmarkCacheHitParallel is the cache hit from every core at once.
func BenchmarkCacheHitParallel(b *testing.B) {
	f := newBenchFixture(b)
	h := f.gateway(b, nil).Middleware(nothing)
	cookie := "userAuthToken=" + f.token
	h.ServeHTTP(&benchWriter{h: make(http.Header)}, benchRequest(cookie))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &benchWriter{h: make(http.Header)}
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, benchRequest(cookie))
			if w.status != http.StatusOK {
				b.Errorf("status %d", w.status)
				return
			}
		}
	})
}

// BenchmarkLocalVerify is local JWT mode: an EdDSA signature check per
// request, with the key from the backend's JWKS, and no backend call.
func BenchmarkLocalVerify(b *testing.B) {
	f := newBenchFixture(b)
	gw := f.gateway(b, func(c *config.Config) {
		c.Validation.Mode = "local"
		c.Validation.Local.JWKSURL = f.backSrv.URL + "/api/.well-known/jwks.json"
		c.Validation.Local.Algorithms = []string{"EdDSA"}
	})
	serveLoop(b, gw.Middleware(nothing), "userAuthToken="+f.token)
	if n := f.backend.Calls("auth/me"); n != 0 {
		b.Fatalf("%d validate calls, want 0", n)
	}
}

// BenchmarkCacheMiss is validation on every request (cacheTTL 0): one
// loopback call to the demo backend per request.
func BenchmarkCacheMiss(b *testing.B) {
	f := newBenchFixture(b)
	gw := f.gateway(b, func(c *config.Config) {
		zero := time.Duration(0)
		c.Validation.CacheTTL = &zero
		// The session layer keeps a zero-TTL entry until the token's exp
		// when the backend reports one (see bench/roles.go): without exp,
		// every request is validated.
		c.Backend.Mapping.ExpiresAt = "/data/noExpForBench"
	})
	serveLoop(b, gw.Middleware(nothing), "userAuthToken="+f.token)
	if n := int64(b.N); f.backend.Calls("auth/me") < n {
		b.Fatalf("%d validate calls for %d requests, want one each", f.backend.Calls("auth/me"), n)
	}
}

// BenchmarkFullSecurity is the cache hit with CSRF (both strategies), rate
// limiting by IP and audit events written to a file.
func BenchmarkFullSecurity(b *testing.B) {
	f := newBenchFixture(b)
	gw := f.gateway(b, func(c *config.Config) {
		c.CSRF.Enabled = true
		c.CSRF.Secret = "bench-csrf-secret-0123456789abcdef"
		c.RateLimit.Enabled = true
		c.RateLimit.MaxRequests = 1 << 30
		c.Audit.Enabled = true
		c.Audit.Output = "file:" + b.TempDir() + "/audit.log"
	})
	h := gw.Middleware(nothing)
	cookie := "userAuthToken=" + f.token
	// The browser keeps the CSRF cookie the first answer issues.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, benchRequest(cookie))
	for _, c := range rec.Result().Cookies() {
		if c.Name == "__csrf" {
			cookie += "; __csrf=" + c.Value
		}
	}
	if !strings.Contains(cookie, "__csrf=") {
		b.Fatal("no CSRF cookie issued")
	}
	serveLoop(b, h, cookie)
}
