package testkit

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/apilayer/apilayer/internal/demo"
)

// Backend runs a demo.Backend on a loopback httptest server, with fault
// injection and per-endpoint counters. Create it with NewBackend.
type Backend struct {
	demo *demo.Backend
	srv  *httptest.Server
	done chan struct{} // closed at cleanup: releases hung and delayed handlers
	rec  recorder

	mu     sync.Mutex
	faults map[string]Fault // guarded by mu; by endpoint, "*" for all
	calls  map[string]int64 // guarded by mu; by endpoint
	arrive chan<- string    // guarded by mu; tests of this package: told each endpoint as it arrives
}

// NewBackend starts a demo backend with opts. It is closed at t.Cleanup,
// after every hung handler has been released.
func NewBackend(t testing.TB, opts demo.BackendOptions) *Backend {
	t.Helper()
	b := &Backend{
		demo:   demo.NewBackend(opts),
		done:   make(chan struct{}),
		faults: make(map[string]Fault),
		calls:  make(map[string]int64),
	}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(func() {
		close(b.done)
		b.srv.Close()
	})
	return b
}

// URL returns the backend base URL, e.g. http://127.0.0.1:port/api/, ready
// for config.Backend.URL.
func (b *Backend) URL() string { return b.srv.URL + "/api/" }

// Demo returns the demo backend behind the server, to issue or revoke
// tokens and read the calls that reached it.
func (b *Backend) Demo() *demo.Backend { return b.demo }

// Client returns an HTTP client for the server.
func (b *Backend) Client() *http.Client { return b.srv.Client() }

// SetFault makes endpoint (a route relative to /api/, such as "auth/me", or
// "*" for every endpoint without its own fault) misbehave as f until it is
// set again; None restores normal answers.
func (b *Backend) SetFault(endpoint string, f Fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f == None {
		delete(b.faults, endpoint)
		return
	}
	b.faults[endpoint] = f
}

// Calls returns how many requests the server received for endpoint (a
// route relative to /api/), faulted ones included. Demo().Calls counts only
// those that reached the demo backend.
func (b *Backend) Calls(endpoint string) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[endpoint]
}

// ResetCalls sets every counter to zero, the demo backend's included, and
// forgets the recorded requests.
func (b *Backend) ResetCalls() {
	b.mu.Lock()
	clear(b.calls)
	b.mu.Unlock()
	b.demo.ResetCalls()
	b.rec.reset()
}

// Requests returns the requests the server received, oldest first.
func (b *Backend) Requests() []Recorded { return b.rec.requests() }

// Last returns the most recent request, or a zero Recorded if none came.
func (b *Backend) Last() Recorded { return b.rec.last() }

func (b *Backend) serve(w http.ResponseWriter, r *http.Request) {
	endpoint := strings.TrimPrefix(r.URL.Path, "/api/")
	b.rec.record(r)
	b.mu.Lock()
	b.calls[endpoint]++
	f, ok := b.faults[endpoint]
	if !ok {
		f = b.faults["*"]
	}
	arrive := b.arrive
	b.mu.Unlock()
	if arrive != nil {
		arrive <- endpoint
	}
	if f.apply(w, r, b.done) {
		return
	}
	b.demo.ServeHTTP(w, r)
}
