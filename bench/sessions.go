package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
)

// tokenPad makes the synthetic tokens as long as the demo backend's EdDSA
// JWTs (about 330 bytes), in case anything keeps the raw token.
var tokenPad = strings.Repeat("x", 320)

// sessionToken is the synthetic token of session i.
func sessionToken(i int) string { return "t" + strconv.Itoa(i) + "." + tokenPad }

// memBackend answers the gateway's validate calls in memory, with the
// demo backend's user object, so that filling the cache with 100 000
// sessions takes seconds, not minutes of loopback calls. Only the
// gateway's own memory is measured.
type memBackend struct {
	exp   int64
	calls atomic.Int64
}

func (m *memBackend) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	if !strings.HasSuffix(r.URL.Path, "/auth/me") {
		return nil, fmt.Errorf("bench: sessions: unexpected call to %s", r.URL.Path)
	}
	m.calls.Add(1)
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	id, _, _ := strings.Cut(strings.TrimPrefix(tok, "t"), ".")
	body := fmt.Sprintf(`{"success":true,"data":{"id":%s,"username":"user%s","name":"User %s","email":"user%s@example.com","roles":["user"],"type":"user","exp":%d}}`,
		id, id, id, id, m.exp)
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader([]byte(body))),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// measureSessions fills a gateway's validation cache with n sessions (one
// request per distinct user token, through the whole pipeline) and returns
// the heap the gateway holds per session after a full GC, and the backend
// calls that a second pass over every session made (0: they were all
// cached).
func measureSessions(n int) (perSession int64, secondPass int64, err error) {
	be := &memBackend{exp: time.Now().Add(2 * time.Hour).Unix()}
	ttl := time.Hour
	var c config.Config
	c.Backend.URL = "http://backend.invalid/api/"
	c.Validation.CacheTTL = &ttl
	c.Validation.CacheSize = n + 1 // the n sessions and the warm-up visit
	gw, err := apilayer.New(c, apilayer.WithTransport(be))
	if err != nil {
		return 0, 0, fmt.Errorf("bench: sessions: %w", err)
	}
	defer gw.Close()
	h := gw.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !apilayer.AuthFrom(r.Context()).Authenticated {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	visit := func(i int) error {
		r, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://gw.test/dashboard", nil)
		if err != nil {
			return err
		}
		r.RemoteAddr = "127.0.0.1:40000"
		r.Header.Set("Cookie", "userAuthToken="+sessionToken(i))
		h.ServeHTTP(&discard{h: make(http.Header)}, r)
		return nil
	}
	if err := visit(-1); err != nil { // warm every lazy structure first
		return 0, 0, fmt.Errorf("bench: sessions: %w", err)
	}
	before := heap()
	for i := range n {
		if err := visit(i); err != nil {
			return 0, 0, fmt.Errorf("bench: sessions: %w", err)
		}
	}
	after := heap()
	calls := be.calls.Load()
	for i := range n {
		if err := visit(i); err != nil {
			return 0, 0, fmt.Errorf("bench: sessions: %w", err)
		}
	}
	runtime.KeepAlive(gw)
	return max(int64(after)-int64(before), 0) / int64(n), be.calls.Load() - calls, nil
}

// heap returns the live heap after a full collection.
func heap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// pipelineAllocs returns the heap allocations of one cache-hit page
// request in the pipeline's own code: the whole gateway as Middleware in
// front of a handler that allocates nothing, minus the allocations of
// building the request itself.
func pipelineAllocs() (float64, error) {
	be := &memBackend{exp: time.Now().Add(2 * time.Hour).Unix()}
	ttl := time.Hour
	var c config.Config
	c.Backend.URL = "http://backend.invalid/api/"
	c.Validation.CacheTTL = &ttl
	gw, err := apilayer.New(c, apilayer.WithTransport(be))
	if err != nil {
		return 0, fmt.Errorf("bench: allocs: %w", err)
	}
	defer gw.Close()
	h := gw.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	cookie := "userAuthToken=" + sessionToken(1) + "; theme=dark"
	w := &discard{h: make(http.Header)}
	mk := func() *http.Request {
		r := &http.Request{
			Method: http.MethodGet, URL: &url.URL{Path: "/dashboard"}, Host: "gw.test",
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, RemoteAddr: "127.0.0.1:40000",
			Header: http.Header{"Cookie": {cookie}, "Accept": {"text/html"}, "User-Agent": {"apilayer-bench"}},
		}
		clear(w.h)
		return r.WithContext(context.Background())
	}
	h.ServeHTTP(w, mk())
	if be.calls.Load() != 1 {
		return 0, fmt.Errorf("bench: allocs: %d validate calls to warm the cache, want 1", be.calls.Load())
	}
	base := testing.AllocsPerRun(2000, func() { mk() })
	all := testing.AllocsPerRun(2000, func() { h.ServeHTTP(w, mk()) })
	if be.calls.Load() != 1 {
		return 0, fmt.Errorf("bench: allocs: %d validate calls, want 1 (cache hits only)", be.calls.Load())
	}
	return all - base, nil
}
