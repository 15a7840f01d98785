package testkit

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Upstream is a recording web app on a loopback httptest server: every
// request's method, path, query, headers, cookies and body are recorded,
// then answered by its handler. Create it with NewUpstream.
type Upstream struct {
	srv *httptest.Server
	rec recorder

	mu      sync.Mutex
	handler http.Handler // guarded by mu; nil: the default answer
}

// NewUpstream starts a recording web app. It is closed at t.Cleanup.
func NewUpstream(t testing.TB) *Upstream {
	t.Helper()
	u := &Upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

// URL returns the app's base URL, e.g. http://127.0.0.1:port, ready for
// config.Upstream.URL.
func (u *Upstream) URL() string { return u.srv.URL }

// SetHandler makes h answer the requests after they are recorded; nil
// restores the default answer, 200 text/plain "upstream: METHOD PATH".
func (u *Upstream) SetHandler(h http.Handler) {
	u.mu.Lock()
	u.handler = h
	u.mu.Unlock()
}

// Requests returns the requests the app received, oldest first.
func (u *Upstream) Requests() []Recorded { return u.rec.requests() }

// Last returns the most recent request, or a zero Recorded if none came.
func (u *Upstream) Last() Recorded { return u.rec.last() }

// Reset forgets the recorded requests.
func (u *Upstream) Reset() { u.rec.reset() }

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	u.rec.record(r)
	u.mu.Lock()
	h := u.handler
	u.mu.Unlock()
	if h != nil {
		h.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write([]byte("upstream: " + r.Method + " " + r.URL.Path + "\n"))
}
