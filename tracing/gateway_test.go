package tracing_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/tracing"
)

// A gateway built with apilayer.WithTracing(tracing.Build), as the
// apilayer binary builds it: tracing.* configures the exporter and the
// sampling.

// exportFailed is the one line a collector that cannot be reached logs.
const exportFailed = "tracing: cannot export spans: they are dropped until the collector answers (requests are not affected)"

// collector is a fake OTLP/HTTP collector that counts the exports it
// receives.
type collector struct {
	url     string
	exports atomic.Int64
}

func newCollector(t testing.TB) *collector {
	c := &collector{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			c.exports.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

// freeAddr returns a loopback address no one listens on: a collector that
// cannot be reached.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// logs is a JSON log destination safe for concurrent writes.
type logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// count returns the number of lines whose message is msg.
func (l *logs) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), `"msg":"`+msg+`"`)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// get asks h's server for path n times, failing on any status but 200.
func get(t *testing.T, srv *httptest.Server, n int) {
	t.Helper()
	for i := range n {
		res, err := srv.Client().Get(srv.URL + "/page")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d, want 200", i, res.StatusCode)
		}
	}
}

// tracing.* builds the provider: spans reach an OTLP collector;
// sampleRatio 0 records no new trace, but a sampled parent's, and the web
// app is told the decision.
func TestExportsToACollector(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	const parent = "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"
	for _, tc := range []struct {
		name        string
		ratio       float64
		traceparent string
		exported    bool
		flags       string
	}{
		{"ratio 1", 1, "", true, "01"},
		{"ratio 0", 0, "", false, "00"},
		{"ratio 0, sampled parent", 0, "00-" + parent + "-01", true, "01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			col := newCollector(t)
			ratio := tc.ratio
			gw, err := apilayer.New(config.Config{
				Backend:  config.Backend{URL: b.URL()},
				Upstream: config.Upstream{URL: up.URL()},
				Tracing:  config.Tracing{Enabled: true, Endpoint: col.url, SampleRatio: &ratio},
			}, apilayer.WithTracing(tracing.Build))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(gw.Handler())
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
			if tc.traceparent != "" {
				req.Header.Set("Traceparent", tc.traceparent)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			srv.Close()
			if err := gw.Close(); err != nil { // flushes the spans
				t.Fatal(err)
			}
			if got := col.exports.Load() > 0; got != tc.exported {
				t.Errorf("exported: %v, want %v", got, tc.exported)
			}
			tp := strings.Split(up.Last().Header.Get("Traceparent"), "-")
			if len(tp) != 4 || tp[0] != "00" {
				t.Fatalf("the web app got traceparent %q", up.Last().Header.Get("Traceparent"))
			}
			if tp[3] != tc.flags {
				t.Errorf("the web app got flags %s, want %s", tp[3], tc.flags)
			}
		})
	}
}

// A collector that cannot be reached changes nothing for requests: they
// are answered, and one log line says the spans are dropped.
func TestUnreachableCollector(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	one := 1.0
	for _, exporter := range []string{"otlp-http", "otlp-grpc"} {
		t.Run(exporter, func(t *testing.T) {
			var l logs
			gw, err := apilayer.New(config.Config{
				Backend:  config.Backend{URL: b.URL()},
				Upstream: config.Upstream{URL: up.URL()},
				Tracing:  config.Tracing{Enabled: true, Exporter: exporter, Endpoint: "http://" + freeAddr(t), SampleRatio: &one},
			}, apilayer.WithTracing(tracing.Build), apilayer.WithLogger(slog.New(slog.NewJSONHandler(&l, nil))))
			if err != nil {
				t.Fatalf("New with an unreachable collector: %v", err)
			}
			srv := httptest.NewServer(gw.Handler())
			get(t, srv, 20)
			srv.Close()
			if err := gw.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if n := l.count(exportFailed); n != 1 {
				t.Errorf("%d lines about the export, want 1:\n%s", n, l.String())
			}
		})
	}
}

// A reload that turns tracing on with a collector that cannot be reached
// succeeds, the gateway goes on serving, and the failed export is one log
// line.
func TestReloadToUnreachableCollector(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	var l logs
	c := config.Config{Backend: config.Backend{URL: b.URL()}, Upstream: config.Upstream{URL: up.URL()}}
	gw, err := apilayer.New(c, apilayer.WithTracing(tracing.Build), apilayer.WithLogger(slog.New(slog.NewJSONHandler(&l, nil))))
	if err != nil {
		t.Fatal(err)
	}
	s := apilayer.NewServer(gw)
	srv := httptest.NewServer(s.Handler())
	get(t, srv, 5)
	one := 1.0
	c.Tracing = config.Tracing{Enabled: true, Endpoint: "http://" + freeAddr(t), SampleRatio: &one}
	if err := s.Reload(func() (*config.Config, error) { return &c, nil }); err != nil {
		t.Fatalf("the reload failed: %v", err)
	}
	get(t, srv, 5)
	srv.Close()
	if err := s.Close(); err != nil { // flushes the spans: the export fails here
		t.Errorf("Close: %v", err)
	}
	if n := l.count(exportFailed); n != 1 {
		t.Errorf("%d lines about the export, want 1:\n%s", n, l.String())
	}
}

// Gateway.Close stops the exporters: no goroutine of theirs is left.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	before := goleak.IgnoreCurrent()
	one := 1.0
	for _, exporter := range []string{"otlp-http", "otlp-grpc", "stdout"} {
		t.Run(exporter, func(t *testing.T) {
			endpoint := ""
			if exporter != "stdout" {
				endpoint = "http://" + freeAddr(t)
			}
			gw, err := apilayer.New(config.Config{
				Backend:  config.Backend{URL: b.URL()},
				Upstream: config.Upstream{URL: up.URL()},
				Tracing:  config.Tracing{Enabled: true, Exporter: exporter, Endpoint: endpoint, SampleRatio: &one},
			}, apilayer.WithTracing(tracing.Build))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(gw.Handler())
			get(t, srv, 3)
			srv.Close()
			if err := gw.Close(); err != nil {
				t.Fatal(err)
			}
			goleak.VerifyNone(t, before)
		})
	}
}

// BenchmarkTracing is the apilayer package's BenchmarkCacheHit/upstream (a
// page request whose validation is a cache hit, forwarded to a 2 KB page)
// in a program that links the SDK and the exporters: "off" with tracing
// off, "ratio-0.01" with tracing on at sampleRatio 0.01, exporting over
// OTLP/HTTP to a collector on loopback that discards the spans (batching
// and export included).
func BenchmarkTracing(b *testing.B) {
	for _, bc := range []struct {
		name string
		on   bool
	}{{"off", false}, {"ratio-0.01", true}} {
		b.Run(bc.name, func(b *testing.B) {
			f := testkit.NewBenchFixture(b)
			col := newCollector(b)
			gw, err := apilayer.New(f.Config(func(c *config.Config) {
				ttl := time.Hour
				c.Validation.CacheTTL = &ttl
				if bc.on {
					ratio := 0.01
					c.Tracing = config.Tracing{Enabled: true, Endpoint: col.url, SampleRatio: &ratio}
				}
			}), apilayer.WithTracing(tracing.Build))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { gw.Close() })
			cookie := "userAuthToken=" + f.Token + "; theme=dark"
			testkit.ServeLoop(b, gw.Handler(), func() *http.Request { return testkit.BenchRequest(cookie) })
			if n := f.Backend.Calls("auth/me"); n != 1 {
				b.Fatalf("%d validate calls, want 1", n)
			}
		})
	}
}
