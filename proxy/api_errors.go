package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/apilayer/apilayer/respond"
)

// errAPITimeout is the error of a backend that did not send its response
// headers within APIOptions.Timeout.
var errAPITimeout = errors.New("proxy: backend response header timeout")

// handleError answers a request the backend did not answer. The error
// text goes to the log only (it names private hosts and ports), and never
// the URL of the request (its query may carry secrets).
func (a *API) handleError(w http.ResponseWriter, r *http.Request, err error) {
	call := apiCallFrom(r.Context())
	logged := err
	if ue, ok := errors.AsType[*url.Error](err); ok {
		logged = ue.Err
	}
	_, tooLarge := errors.AsType[*http.MaxBytesError](err)
	if call != nil && call.guard != nil && call.guard.tooLarge.Load() {
		tooLarge = true
	}
	switch {
	case tooLarge:
		a.log.Info("proxy: api: request body too large", a.logAttrs(r, call, http.StatusRequestEntityTooLarge)...)
		respond.Error(w, http.StatusRequestEntityTooLarge, respond.MsgTooLarge)
	case errors.Is(err, errAPITimeout):
		a.log.Warn("proxy: api: backend timed out", append(a.logAttrs(r, call, http.StatusGatewayTimeout), "error", logged)...)
		respond.Error(w, http.StatusGatewayTimeout, respond.MsgBackendTimeout)
	default:
		switch f := ClassifyError(r, err); f {
		case FailureClientGone:
			// Nothing can reach the client; 499 is for the log only.
			a.log.Debug("proxy: api: client gone", a.logAttrs(r, call, f.Status())...)
		case FailureTimeout:
			a.log.Warn("proxy: api: backend timed out", append(a.logAttrs(r, call, f.Status()), "error", logged)...)
			respond.Error(w, http.StatusGatewayTimeout, respond.MsgBackendTimeout)
		default:
			a.log.Warn("proxy: api: backend unreachable", append(a.logAttrs(r, call, f.Status()), "error", logged)...)
			respond.Error(w, http.StatusBadGateway, respond.MsgProxyError)
		}
	}
}

// apiStopper is the part of *time.Timer the header timeout uses.
type apiStopper interface{ Stop() bool }

func apiRealAfterFunc(d time.Duration, f func()) apiStopper { return time.AfterFunc(d, f) }

// apiHeaderTimeout bounds the wait for the response headers of base, for
// any RoundTripper (http.Transport's ResponseHeaderTimeout would bind only
// a transport of our own). Once the headers are in, the timer is stopped:
// bodies, server-sent events and WebSockets are never cut.
type apiHeaderTimeout struct {
	base      http.RoundTripper
	timeout   time.Duration
	afterFunc func(time.Duration, func()) apiStopper // the clock; replaced in tests
}

func (t *apiHeaderTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.timeout <= 0 {
		return t.base.RoundTrip(req)
	}
	// The context ends with the response body (closed by ReverseProxy),
	// or at once if the round trip fails.
	ctx, cancel := context.WithCancel(req.Context())
	timer := t.afterFunc(t.timeout, cancel)
	res, err := t.base.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		// The timer fired (or is firing): the context is canceled, so a
		// response that slipped in would be cut anyway.
		if err == nil {
			res.Body.Close()
		}
		cancel()
		return nil, fmt.Errorf("%w (%v)", errAPITimeout, t.timeout)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	res.Body = apiCancelOnClose(res.Body, cancel)
	return res, nil
}

// apiCancelOnClose returns body with a Close that also calls cancel. The
// body of a 101 response stays writable: ReverseProxy needs it to be an
// io.ReadWriteCloser.
func apiCancelOnClose(body io.ReadCloser, cancel context.CancelFunc) io.ReadCloser {
	if rwc, ok := body.(io.ReadWriteCloser); ok {
		return &apiCancelRWC{ReadWriteCloser: rwc, cancel: cancel}
	}
	return &apiCancelRC{ReadCloser: body, cancel: cancel}
}

type apiCancelRC struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *apiCancelRC) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

type apiCancelRWC struct {
	io.ReadWriteCloser
	cancel context.CancelFunc
}

func (b *apiCancelRWC) Close() error {
	err := b.ReadWriteCloser.Close()
	b.cancel()
	return err
}
