package apilayer_test

import (
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
	"github.com/apilayer/apilayer/internal/testkit"
)

// The benchmarks of the whole pipeline (go test -run '^$' -bench . -benchmem).
// Each request is built by hand (benchRequest, 5 allocations) and answered
// into benchWriter (none), so that -benchmem shows the pipeline's own
// allocations plus those 5. The "pipeline" variants use Middleware with a
// handler that does nothing in place of the web app: the gateway's cost
// alone. The full end-to-end harness, with processes and load, is
// `go run ./bench`.

// benchGateway is the gateway of f's config with edit applied.
func benchGateway(b *testing.B, f *testkit.BenchFixture, edit func(*config.Config)) *apilayer.Gateway {
	b.Helper()
	gw, err := apilayer.New(f.Config(edit))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { gw.Close() })
	return gw
}

// serveLoop is testkit.ServeLoop on page requests carrying cookie.
func serveLoop(b *testing.B, h http.Handler, cookie string) {
	b.Helper()
	testkit.ServeLoop(b, h, func() *http.Request { return testkit.BenchRequest(cookie) })
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
	f := testkit.NewBenchFixture(b)
	u, _ := url.Parse(f.UpstreamURL)
	p := &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
		BufferPool: &benchPool{},
	}
	serveLoop(b, p, "userAuthToken="+f.Token+"; theme=dark")
}

// BenchmarkCacheHit is a page request whose token validation is a cache
// hit (backend mode, default cacheTTL): one backend call in all. "authz"
// is the same page request described by a forward-auth sub-request
// (nginx's convention) and answered 200 with the identity headers: the
// pipeline's cost without the web app, as "pipeline". With tracing on, the
// same requests are BenchmarkTracing in package tracing: a test binary
// that links the OpenTelemetry SDK and exporters, which this one does not.
func BenchmarkCacheHit(b *testing.B) {
	for _, bc := range []struct {
		name     string
		upstream bool
		signed   bool // identity.sign: a signed assertion, reused in the steady state
		authz    bool // a forward-auth sub-request (authz)
	}{{"pipeline", false, false, false}, {"upstream", true, false, false}, {"upstream-signed", true, true, false},
		{"authz", false, false, true}} {
		b.Run(bc.name, func(b *testing.B) {
			f := testkit.NewBenchFixture(b)
			gw := benchGateway(b, f, func(c *config.Config) {
				ttl := time.Hour
				c.Validation.CacheTTL = &ttl
				c.Identity.Sign = bc.signed
				if bc.authz {
					c.Authz.Enabled = true
					c.ClientIP.TrustedProxies = []string{"127.0.0.1"}
				}
			})
			h := gw.Middleware(nothing)
			if bc.upstream {
				h = gw.Handler()
			}
			cookie := "userAuthToken=" + f.Token + "; theme=dark"
			if bc.authz {
				testkit.ServeLoop(b, h, func() *http.Request { return testkit.BenchSubrequest(cookie) })
			} else {
				serveLoop(b, h, cookie)
			}
			if n := f.Backend.Calls("auth/me"); n != 1 {
				b.Fatalf("%d validate calls, want 1", n)
			}
		})
	}
}

// BenchmarkCacheHitParallel is the cache hit from every core at once.
func BenchmarkCacheHitParallel(b *testing.B) {
	f := testkit.NewBenchFixture(b)
	h := benchGateway(b, f, nil).Middleware(nothing)
	cookie := "userAuthToken=" + f.Token
	h.ServeHTTP(testkit.NewBenchWriter(), testkit.BenchRequest(cookie))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := testkit.NewBenchWriter()
		for pb.Next() {
			w.Reset()
			h.ServeHTTP(w, testkit.BenchRequest(cookie))
			if w.Status != http.StatusOK {
				b.Errorf("status %d", w.Status)
				return
			}
		}
	})
}

// BenchmarkLocalVerify is local JWT mode: an EdDSA signature check per
// request, with the key from the backend's JWKS, and no backend call.
func BenchmarkLocalVerify(b *testing.B) {
	f := testkit.NewBenchFixture(b)
	gw := benchGateway(b, f, func(c *config.Config) {
		c.Validation.Mode = "local"
		c.Validation.Local.JWKSURL = f.BackendURL + "/api/.well-known/jwks.json"
		c.Validation.Local.Algorithms = []string{"EdDSA"}
	})
	serveLoop(b, gw.Middleware(nothing), "userAuthToken="+f.Token)
	if n := f.Backend.Calls("auth/me"); n != 0 {
		b.Fatalf("%d validate calls, want 0", n)
	}
}

// BenchmarkCacheMiss is validation on every request (cacheTTL 0): one
// loopback call to the demo backend per request.
func BenchmarkCacheMiss(b *testing.B) {
	f := testkit.NewBenchFixture(b)
	gw := benchGateway(b, f, func(c *config.Config) {
		zero := time.Duration(0)
		c.Validation.CacheTTL = &zero
		// The session layer keeps a zero-TTL entry until the token's exp
		// when the backend reports one (see bench/roles.go): without exp,
		// every request is validated.
		c.Backend.Mapping.ExpiresAt = "/data/noExpForBench"
	})
	serveLoop(b, gw.Middleware(nothing), "userAuthToken="+f.Token)
	if n := int64(b.N); f.Backend.Calls("auth/me") < n {
		b.Fatalf("%d validate calls for %d requests, want one each", f.Backend.Calls("auth/me"), n)
	}
}

// BenchmarkFullSecurity is the cache hit with CSRF (both strategies), rate
// limiting by IP and audit events written to a file.
func BenchmarkFullSecurity(b *testing.B) {
	f := testkit.NewBenchFixture(b)
	gw := benchGateway(b, f, func(c *config.Config) {
		c.CSRF.Enabled = true
		c.CSRF.Secret = "bench-csrf-secret-0123456789abcdef"
		c.RateLimit.Enabled = true
		c.RateLimit.MaxRequests = 1 << 30
		c.Audit.Enabled = true
		c.Audit.Output = "file:" + b.TempDir() + "/audit.log"
	})
	h := gw.Middleware(nothing)
	cookie := "userAuthToken=" + f.Token
	// The browser keeps the CSRF cookie the first answer issues.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, testkit.BenchRequest(cookie))
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
