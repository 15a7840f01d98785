package bodyidle

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apilayer/apilayer/respond"
)

// Options configures [Middleware]. The zero Options does nothing.
type Options struct {
	// Timeout is how long a read of the request body may wait for data
	// (server.bodyIdleTimeout). Zero: no such limit.
	Timeout time.Duration

	// ReadTimeout is the http.Server's ReadTimeout (server.readTimeout), if
	// any. Moving the read deadline would lift it, so Middleware never
	// moves the deadline past the request's arrival at the handler plus
	// ReadTimeout, and answers its expiry during the body 408 too. Zero:
	// none.
	ReadTimeout time.Duration
}

// errTimedOut is returned to a handler that writes after the upload was
// cut and the 408 sent in its place.
var errTimedOut = errors.New("bodyidle: request body timed out, 408 sent")

// Middleware returns the middleware of o: see the package documentation.
// It must wrap the handler given to the http.Server (it needs the server's
// own ResponseWriter, or wrappers that implement Unwrap, to set read
// deadlines); with a ResponseWriter that cannot set them, body reads are
// left alone.
func Middleware(o Options) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if o.Timeout <= 0 && o.ReadTimeout <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
				next.ServeHTTP(w, r)
				return
			}
			g := &guard{w: w, rc: http.NewResponseController(w), body: r.Body, timeout: o.Timeout, h1: r.ProtoMajor < 2}
			if o.ReadTimeout > 0 {
				g.limit = time.Now().Add(o.ReadTimeout)
			}
			if g.timeout > 0 && g.h1 {
				// Also bounds the server's own reads of the body, such as
				// the discard of an unread body when the response starts.
				g.setDeadline(g.deadline())
			}
			// A shallow copy: the server keeps its view of the request
			// (its own body), only the handler reads through the guard.
			r2 := r.WithContext(r.Context())
			r2.Body = (*guardBody)(g)
			defer g.finish()
			next.ServeHTTP(g, r2)
		})
	}
}

// guard is the ResponseWriter of a request with a body; as *guardBody, it
// is the body.
type guard struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	body    io.ReadCloser
	timeout time.Duration // Options.Timeout
	limit   time.Time     // arrival plus Options.ReadTimeout; zero: none
	h1      bool          // HTTP/1: the deadline is the connection's

	timedOut atomic.Bool // a body read failed on a deadline
	eof      atomic.Bool // the whole body was read

	mu   sync.Mutex // guards the deadline calls against done
	off  bool       // deadlines not supported, or the handler returned
	done bool

	// Used by the handler's goroutine only.
	started bool // a final response (not 1xx) began
	replied bool // the 408 was sent
	duplex  bool // the handler enabled full duplex
}

// deadline is the read deadline for a read starting now.
func (g *guard) deadline() time.Time {
	d := time.Now().Add(g.timeout)
	if !g.limit.IsZero() && d.After(g.limit) {
		d = g.limit
	}
	return d
}

// setDeadline sets the read deadline, unless the handler has returned (an
// HTTP/2 stream then no longer takes one) or deadlines are not supported.
func (g *guard) setDeadline(d time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.off {
		return
	}
	if err := g.rc.SetReadDeadline(d); err != nil {
		g.off = true
	}
}

type guardBody guard

// Read reads the body with the read deadline the timeout ahead.
func (b *guardBody) Read(p []byte) (int, error) {
	g := (*guard)(b)
	if g.eof.Load() {
		// HTTP/1 reads ahead in the background once the body is in, to
		// notice a client that goes away: no deadline may cut that read.
		return g.body.Read(p)
	}
	if g.timeout > 0 {
		g.setDeadline(g.deadline())
	}
	n, err := g.body.Read(p)
	switch {
	case err == io.EOF:
		g.eof.Store(true)
		if g.timeout > 0 || g.h1 {
			g.setDeadline(time.Time{})
		}
	case err != nil:
		if errors.Is(err, os.ErrDeadlineExceeded) {
			g.timedOut.Store(true)
		}
	case g.timeout > 0 && !g.h1:
		// An HTTP/2 stream's deadline runs even when nobody reads: the
		// time the handler spends between reads (a slow upstream) is not
		// the client's.
		g.setDeadline(g.limit)
	}
	return n, err
}

// Close closes the body.
func (b *guardBody) Close() error { return b.body.Close() }

// finish runs when the handler returns: no deadline is set after it, and a
// cut upload that got no response gets its 408.
func (g *guard) finish() {
	g.mu.Lock()
	g.off, g.done = true, true
	g.mu.Unlock()
	if !g.timedOut.Load() {
		return
	}
	switch {
	case !g.started && !g.replied:
		g.reply()
	case g.started && g.h1 && g.duplex:
		// net/http closes an HTTP/1 connection whose request body failed
		// when the response starts, as it then reads the rest of the body;
		// with full duplex it does not, and could read what the client
		// sends next as a new request. Abort: the connection is closed.
		g.rc.Flush()
		panic(http.ErrAbortHandler)
	}
}

// reply answers 408 in place of the handler's answer. The headers the
// handler set are kept (cookies, request ID), but those describing its body.
func (g *guard) reply() {
	g.replied = true
	h := g.w.Header()
	for _, k := range [...]string{"Content-Encoding", "Content-Range", "Content-Disposition", "Etag", "Last-Modified", "Location"} {
		h.Del(k)
	}
	// What remains of the body on the wire is not a request.
	h.Set("Connection", "close")
	respond.Error(g.w, http.StatusRequestTimeout, respond.MsgRequestTimeout)
}

// begin is called before the handler's response starts: it reports false
// when the 408 was (or is now) sent instead.
func (g *guard) begin() bool {
	if g.replied {
		return false
	}
	if !g.started && g.timedOut.Load() {
		g.reply()
		return false
	}
	g.started = true
	return true
}

// Header implements http.ResponseWriter.
func (g *guard) Header() http.Header { return g.w.Header() }

// WriteHeader implements http.ResponseWriter. 1xx responses pass through.
func (g *guard) WriteHeader(code int) {
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		if !g.replied {
			g.w.WriteHeader(code)
		}
		return
	}
	if g.started || g.begin() {
		g.w.WriteHeader(code)
	}
}

// Write implements http.ResponseWriter.
func (g *guard) Write(p []byte) (int, error) {
	if !g.started && !g.begin() {
		return 0, errTimedOut
	}
	return g.w.Write(p)
}

// FlushError flushes the response (through http.ResponseController).
func (g *guard) FlushError() error {
	if !g.started && !g.begin() {
		return errTimedOut
	}
	return g.rc.Flush()
}

// EnableFullDuplex enables full duplex (through http.ResponseController).
func (g *guard) EnableFullDuplex() error {
	g.duplex = true
	return g.rc.EnableFullDuplex()
}

// Unwrap returns the ResponseWriter the guard wraps, for
// http.ResponseController.
func (g *guard) Unwrap() http.ResponseWriter { return g.w }
