package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// headerTimeout bounds the wait for the response headers of base, for any
// RoundTripper (http.Transport's ResponseHeaderTimeout would bind only a
// transport of our own): upstream.timeout for the page proxy, api.timeout
// for the API proxy. The wait starts once the request body has been sent
// (read to its end or closed by base), or at once when there is none: a
// slow upload is not a slow server. Once the headers are in, the timer is
// stopped: bodies, server-sent events and WebSockets are never cut.
type headerTimeout struct {
	base      http.RoundTripper
	timeout   time.Duration                       // 0: no limit
	afterFunc func(time.Duration, func()) stopper // the clock; replaced in tests
}

// stopper is the part of *time.Timer the header timeout uses.
type stopper interface{ Stop() bool }

func realAfterFunc(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) }

// withHeaderTimeout returns the transport a proxy sends through, waiting at
// most d for response headers once the request body is sent (0: no limit).
// A transport the proxy made itself (owned) gets ResponseHeaderTimeout,
// which means exactly that at no cost per request; any other RoundTripper
// is wrapped in a headerTimeout.
func withHeaderTimeout(rt http.RoundTripper, owned bool, d time.Duration) http.RoundTripper {
	if d <= 0 {
		return rt
	}
	if t, ok := rt.(*http.Transport); ok && owned {
		t.ResponseHeaderTimeout = d
		return t
	}
	return &headerTimeout{base: rt, timeout: d, afterFunc: realAfterFunc}
}

// headerTimeoutError is the error of a server that did not send its
// response headers within the timeout. It is a net.Error whose Timeout is
// true, so ClassifyError maps it to FailureTimeout (504).
type headerTimeoutError struct{ timeout time.Duration }

func (e *headerTimeoutError) Error() string {
	return fmt.Sprintf("proxy: no response headers within %v of sending the request", e.timeout)
}
func (e *headerTimeoutError) Timeout() bool   { return true }
func (e *headerTimeoutError) Temporary() bool { return true }

func isHeaderTimeout(err error) bool {
	_, ok := errors.AsType[*headerTimeoutError](err)
	return ok
}

func (t *headerTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.timeout <= 0 {
		return t.base.RoundTrip(req)
	}
	// The context ends with the response body (closed by ReverseProxy),
	// or at once if the round trip fails.
	ctx, cancel := context.WithCancel(req.Context())
	wait := &headerWait{timeout: t.timeout, afterFunc: t.afterFunc, cancel: cancel}
	out := req.WithContext(ctx) // a copy: req keeps its body
	if req.Body == nil || req.Body == http.NoBody {
		wait.start()
	} else {
		out.Body = &sentBody{ReadCloser: req.Body, wait: wait}
		if getBody := req.GetBody; getBody != nil {
			// A retry on a fresh connection sends the body again.
			out.GetBody = func() (io.ReadCloser, error) {
				b, err := getBody()
				if err != nil {
					return nil, err
				}
				return &sentBody{ReadCloser: b, wait: wait}, nil
			}
		}
	}
	res, err := t.base.RoundTrip(out)
	if wait.stop() {
		// The timer fired: the context is canceled, so a response that
		// slipped in would be cut anyway.
		if err == nil {
			res.Body.Close()
		}
		cancel()
		return nil, &headerTimeoutError{t.timeout}
	}
	if err != nil {
		cancel()
		return nil, err
	}
	res.Body = cancelOnClose(res.Body, cancel)
	return res, nil
}

// headerWait is the timer of one round trip: not started until the body
// has been sent, and never started once the round trip has returned (base
// may close the body after a response that came early).
type headerWait struct {
	timeout   time.Duration
	afterFunc func(time.Duration, func()) stopper
	cancel    context.CancelFunc

	mu    sync.Mutex
	state uint8 // waitBody, waitHeaders or waitDone
	timer stopper
}

const (
	waitBody uint8 = iota
	waitHeaders
	waitDone
)

// start starts the timer, if it is not started yet and the round trip has
// not returned.
func (w *headerWait) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != waitBody {
		return
	}
	w.state = waitHeaders
	w.timer = w.afterFunc(w.timeout, w.cancel)
}

// stop ends the wait and reports whether the timer had fired.
func (w *headerWait) stop() (fired bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	started := w.state == waitHeaders
	w.state = waitDone
	return started && !w.timer.Stop()
}

// sentBody is a request body that starts the header wait when base has
// read it to its end, or closed it.
type sentBody struct {
	io.ReadCloser
	wait *headerWait
}

func (b *sentBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.wait.start()
	}
	return n, err
}

func (b *sentBody) Close() error {
	err := b.ReadCloser.Close()
	b.wait.start()
	return err
}

// cancelOnClose returns body with a Close that also calls cancel. The body
// of a 101 response stays writable: ReverseProxy needs it to be an
// io.ReadWriteCloser.
func cancelOnClose(body io.ReadCloser, cancel context.CancelFunc) io.ReadCloser {
	if rwc, ok := body.(io.ReadWriteCloser); ok {
		return &cancelRWC{ReadWriteCloser: rwc, cancel: cancel}
	}
	return &cancelRC{ReadCloser: body, cancel: cancel}
}

type cancelRC struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelRC) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

type cancelRWC struct {
	io.ReadWriteCloser
	cancel context.CancelFunc
}

func (b *cancelRWC) Close() error {
	err := b.ReadWriteCloser.Close()
	b.cancel()
	return err
}
