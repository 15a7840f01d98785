package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/tracing"
)

// roleArg is the hidden first argument with which the harness re-executes
// itself to run one server per process.
const roleArg = "__role"

// pageSize is the size of the upstream's page.
const pageSize = 2 << 10

// maxBulk caps the body the backend's bulk endpoint reads.
const maxBulk = 2 << 20

// healthPath is the gateway's health path (the default), also served by
// the bare proxies' upstream and backend so that burst can warm connections.
const healthPath = "/_apilayer/health"

// runRole runs the server of one role on a loopback port, prints
// "READY <url>" on stdout, and serves until its stdin is closed (the
// harness closes it, or dies). profile, if set, is a folder for CPU and
// heap profiles of a gateway.
func runRole(role string, args []string) error {
	if role == "sessions" {
		if len(args) != 1 {
			return errors.New("bench: sessions: want a count")
		}
		n, err := strconv.Atoi(args[0])
		if err != nil || n <= 0 {
			return fmt.Errorf("bench: sessions: bad count %q", args[0])
		}
		per, second, err := measureSessions(n)
		if err != nil {
			return err
		}
		allocs, err := pipelineAllocs()
		if err != nil {
			return err
		}
		fmt.Printf("SESSIONS %d %d %.0f\n", per, second, allocs)
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("bench: %s: listen: %w", role, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// The owner of this process is the harness: stdin closes when it
		// stops the role or exits.
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	base := "http://" + ln.Addr().String()
	switch role {
	case "backend":
		return serve(ctx, ln, base, newBackend())
	case "upstream":
		return serve(ctx, ln, base, upstreamHandler())
	case "chaos-backend":
		return serve(ctx, ln, base, newChaosBackend())
	case "chaos-upstream":
		return serve(ctx, ln, base, chaosUpstream())
	case "bare":
		if len(args) != 1 {
			return errors.New("bench: bare: want a target URL")
		}
		h, err := bareProxy(args[0])
		if err != nil {
			return err
		}
		return serve(ctx, ln, base, h)
	case "gateway":
		if len(args) != 5 {
			return errors.New("bench: gateway: want scenario, backend URL, upstream URL, profile folder and Redis URL")
		}
		return runGateway(ctx, ln, base, args[0], args[1], args[2], args[3], args[4])
	}
	return fmt.Errorf("bench: unknown role %q", role)
}

// serve serves h on ln until ctx is done.
func serve(ctx context.Context, ln net.Listener, base string, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	ready(base)
	select {
	case err := <-done:
		return fmt.Errorf("bench: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	err := srv.Shutdown(sctx)
	<-done
	return err
}

func ready(base string) {
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "READY %s\n", base)
	w.Flush()
}

// newBackend is the demo JWT backend (EdDSA tokens, JWKS) with the
// harness's own routes:
//   - GET /_bench/issue?user=alice&ttl=1h: a token (negative ttl: expired)
//   - GET /_bench/calls: {"auth/me":n,"auth/refresh":n,"auth/guest":n}
//   - POST /api/bulk: reads a body of up to 2 MiB, answers its size; the
//     API proxy scenario's endpoint (a bearer token is required, not
//     checked: the gateway's cost is measured, not the backend's)
//   - GET /_apilayer/health: 200
//
// GET /api/auth/me answers a token it has already validated from memory
// (the first answer of the demo backend, replayed), as a backend with a
// session cache does: the cache-miss scenario then measures the gateway's
// call, not the demo backend's Ed25519 check on the same two cores.
func newBackend() http.Handler {
	b := demo.NewBackend(demo.BackendOptions{Signing: "EdDSA"})
	mux := http.NewServeMux()
	mux.Handle("/", b)
	type answer struct {
		body []byte
		exp  time.Time
	}
	var (
		answers sync.Map // Authorization header -> answer (a 200 answer until the token's exp)
		replays atomic.Int64
	)
	mux.HandleFunc("GET /api/auth/me", func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Authorization")
		if a, ok := answers.Load(key); ok && time.Now().Before(a.(answer).exp) {
			replays.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Write(a.(answer).body)
			return
		}
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			var v struct {
				Data struct{ Exp int64 } `json:"data"`
			}
			if json.Unmarshal(rec.Body.Bytes(), &v) == nil && v.Data.Exp > 0 {
				answers.Store(key, answer{rec.Body.Bytes(), time.Unix(v.Data.Exp, 0)})
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
	mux.HandleFunc("GET /_bench/issue", func(w http.ResponseWriter, r *http.Request) {
		ttl, err := time.ParseDuration(r.URL.Query().Get("ttl"))
		if err != nil {
			http.Error(w, "bad ttl", http.StatusBadRequest)
			return
		}
		tok, err := b.Issue(r.URL.Query().Get("user"), ttl)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, tok)
	})
	mux.HandleFunc("GET /_bench/calls", func(w http.ResponseWriter, r *http.Request) {
		out := make(map[string]int64, len(countedEndpoints))
		for _, e := range countedEndpoints {
			out[e] = b.Calls(e)
		}
		out["auth/me"] += replays.Load()
		json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("POST /api/bulk", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.Error(w, `{"success":false,"message":"Unauthenticated."}`, http.StatusUnauthorized)
			return
		}
		n, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxBulk))
		if err != nil {
			http.Error(w, `{"success":false,"message":"Body too large."}`, http.StatusRequestEntityTooLarge)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"success":true,"data":{"bytes":%d}}`, n)
	})
	mux.HandleFunc("GET "+healthPath, func(w http.ResponseWriter, r *http.Request) {})
	return mux
}

// countedEndpoints are the backend calls the harness counts per request.
var countedEndpoints = []string{"auth/me", "auth/refresh", "auth/guest"}

// page is the upstream's 2 KB HTML page.
var page = func() []byte {
	head := "<!doctype html><html><head><title>bench</title></head><body><p>"
	tail := "</p></body></html>\n"
	return []byte(head + strings.Repeat("x", pageSize-len(head)-len(tail)) + tail)
}()

// upstreamHandler is the web app: the same 2 KB page for every path but
// /v1/traces, where it stands for the OTLP/HTTP collector of the traced
// scenario and discards the spans.
func upstreamHandler() http.Handler {
	size := strconv.Itoa(len(page))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-protobuf")
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", size)
		w.Write(page)
	})
}

// bareProxy is the baseline: an httputil.ReverseProxy to target with
// Rewrite (SetURL and SetXForwarded) and a keep-alive pool of the same
// size as the gateway's upstream and API transports, so that the
// difference measured is the gateway's own work.
func bareProxy(target string) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("bench: bare: %w", err)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
		},
		BufferPool: &bufferPool{},
		// Requests cut by the end of a run are not worth a log line.
		ErrorLog: log.New(io.Discard, "", 0),
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}, nil
}

// bufferPool recycles the 32 KiB copy buffers of the bare proxy, as the
// gateway's proxies do: without it the baseline would allocate one per
// request and flatter the gateway.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(v []byte) { b.p.Put(&v) }

// runGateway runs apilayer configured for scenario until ctx is done.
// redisURL is the Redis of the distributed scenario ("" for the others).
func runGateway(ctx context.Context, ln net.Listener, base, scenario, backendURL, upstreamURL, profile, redisURL string) error {
	dir, err := os.MkdirTemp("", "apilayer-bench-")
	if err != nil {
		return fmt.Errorf("bench: gateway: %w", err)
	}
	defer os.RemoveAll(dir)
	cfg, err := gatewayConfig(scenario, backendURL, upstreamURL, dir, redisURL)
	if err != nil {
		return err
	}
	// Built as the apilayer binary builds it: with the tracing exporters.
	gw, err := apilayer.New(cfg, apilayer.WithTracing(tracing.Build))
	if err != nil {
		return fmt.Errorf("bench: gateway %s: %w", scenario, err)
	}
	defer gw.Close()
	if profile != "" {
		stop, err := startProfile(profile, scenario)
		if err != nil {
			return err
		}
		defer stop()
	}
	errc := make(chan error, 1)
	go func() { errc <- gw.Serve(ctx, ln) }()
	ready(base)
	return <-errc
}

// startProfile starts a CPU profile of this process in folder; stop ends
// it and writes heap (with allocation counts), mutex and block profiles
// next to it.
func startProfile(folder, scenario string) (stop func(), err error) {
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return nil, fmt.Errorf("bench: profile: %w", err)
	}
	f, err := os.Create(filepath.Join(folder, "gw-"+scenario+".cpu.pprof"))
	if err != nil {
		return nil, fmt.Errorf("bench: profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: profile: %w", err)
	}
	// Where requests wait rather than work: contended locks, and blocking
	// of 10 µs or more.
	runtime.SetMutexProfileFraction(10)
	runtime.SetBlockProfileRate(10_000)
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		for _, name := range []string{"allocs", "mutex", "block"} {
			if h, err := os.Create(filepath.Join(folder, "gw-"+scenario+"."+name+".pprof")); err == nil {
				pprof.Lookup(name).WriteTo(h, 0)
				h.Close()
			}
		}
	}, nil
}

// gatewayConfig is the configuration of each gateway scenario. Every
// scenario starts from the defaults (cacheTTL 2s and nearCacheTTL 1s
// included), as a user would run it.
func gatewayConfig(scenario, backendURL, upstreamURL, dir, redisURL string) (config.Config, error) {
	var c config.Config
	c.Listen = "127.0.0.1:0"
	c.Backend.URL = backendURL + "/api/"
	c.Upstream.URL = upstreamURL
	switch scenario {
	case "cached", "api", "storm":
	case "signed":
		// Signed identity with a generated EdDSA key (no
		// identity.keyFile: one instance).
		c.Identity.Sign = true
	case "traced":
		// Tracing at 1 %, exported to the upstream process (which
		// discards the spans).
		ratio := 0.01
		c.Tracing = config.Tracing{Enabled: true, Endpoint: upstreamURL, SampleRatio: &ratio}
	case "miss":
		zero := time.Duration(0)
		c.Validation.CacheTTL = &zero
	case "local":
		c.Validation.Mode = "local"
		c.Validation.Local.JWKSURL = backendURL + "/api/.well-known/jwks.json"
		c.Validation.Local.Algorithms = []string{"EdDSA"}
	case "full":
		c.CSRF.Enabled = true
		c.CSRF.Secret = "bench-csrf-secret-0123456789abcdef"
		c.RateLimit.Enabled = true
		c.RateLimit.MaxRequests = 1 << 30 // counted, never blocking
		c.RateLimit.Window = time.Minute
		c.Audit.Enabled = true
		c.Audit.Output = "file:" + filepath.Join(dir, "audit.log")
	case "redis":
		c.Store.Driver = "redis"
		c.Store.Redis.URL = redisURL
	case "authz":
		// Forward-auth mode behind Caddy (docs/forward-auth.md): the
		// sub-requests come from loopback.
		c.Authz.Enabled = true
		c.Authz.PassAuthorization = true
		c.ClientIP.TrustedProxies = []string{"127.0.0.1/32"}
	case "guest":
		c.Guest.Enabled = true
		c.Guest.Credentials = demo.GuestCredentials()
		c.Guest.MaxPerMinute = 1 << 30 // every request mints
	default:
		return c, fmt.Errorf("bench: unknown gateway scenario %q", scenario)
	}
	return c, nil
}
