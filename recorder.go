package apilayer

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/respond"
)

// recorder remembers the status and size of a response for the access log
// and for recovering from a panic before anything was written. It also
// keeps a response that sets a token cookie out of shared caches.
type recorder struct {
	http.ResponseWriter
	start  time.Time
	status int
	bytes  int64
	kind   string // page, api or auth (metrics)
	// private is set when the response sets or deletes an auth cookie.
	private bool
	// copyCookies adds numbered copies of the Set-Cookie lines, for
	// nginx's auth_request (authz).
	copyCookies bool
}

// markPrivate records that the response to w carries an auth cookie.
func markPrivate(w http.ResponseWriter) {
	if r, ok := w.(*recorder); ok {
		r.private = true
	}
}

// started is called once, when the final response header is about to be
// written. A response carrying a token cookie is never stored by a shared
// cache, whatever the web app or the backend said: Cache-Control is
// exactly "private, no-store", the CDN-targeted fields are dropped (they
// take precedence over Cache-Control at a CDN) and Vary names Cookie.
func (r *recorder) started(code int) {
	r.status = code
	if r.copyCookies {
		numberCookies(r.ResponseWriter.Header())
	}
	if !r.private {
		return
	}
	h := r.ResponseWriter.Header()
	h["Cache-Control"] = []string{"private, no-store"}
	delete(h, "Cdn-Cache-Control")
	delete(h, "Surrogate-Control")
	for _, v := range h["Vary"] {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, "Cookie") {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.started(code)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.started(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flush,
// hijack, deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush keeps streaming responses streaming through the recorder.
func (r *recorder) Flush() {
	if r.status == 0 {
		r.started(http.StatusOK)
	}
	http.NewResponseController(r.ResponseWriter).Flush()
}

// Hijack supports WebSocket upgrades through the recorder.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// finish writes the access log line and handles v, what the pipeline
// panicked with (nil when it did not): answered 500 when nothing was
// written yet. The caller's deferred function passes recover() itself:
// recover stops a panic only when the deferred function calls it directly.
// http.ErrAbortHandler is passed on, so that a response cut off upstream
// stays cut off for the client.
func (g *Gateway) finish(x *exchange, v any) {
	rec, r, path := x.rec, x.r, x.url.Path
	if v != nil {
		if v == http.ErrAbortHandler {
			panic(v)
		}
		g.log.Error("panic serving request", "path", path, "requestId", x.id, "panic", fmt.Sprint(v))
		g.emit(x, audit.TypeError, false, "", map[string]any{"error": "internal error"})
		if rec.status == 0 {
			g.refuse(rec, r, x.api(), http.StatusInternalServerError, respond.MsgInternal)
		}
	}
	status := rec.status
	if status == 0 {
		status = 499 // the client went away before anything was written
	}
	g.metrics.Request(rec.kind, status, time.Since(rec.start))
	if x.span != nil {
		g.endSpan(x, status)
	}
	if !g.cfg.Log.Access {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", path), // never the query: it may carry secrets
		slog.Int("status", status),
		slog.Int64("bytes", rec.bytes),
		slog.Duration("duration", time.Since(rec.start)),
		slog.String("requestId", x.id),
		slog.String("ip", x.info.IP.String()),
	}
	level := slog.LevelInfo
	if status == http.StatusOK && strings.HasPrefix(path, g.cfg.Health.Path) {
		level = slog.LevelDebug // health checks are not logged at info level
	}
	g.log.LogAttrs(x.ctx, level, "request", attrs...)
}
