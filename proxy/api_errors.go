package proxy

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/apilayer/apilayer/respond"
)

// handleError answers a request the backend did not answer. The error
// text goes to the log only (it names private hosts and ports), and never
// the URL of the request (its query may carry secrets).
func (a *API) handleError(w http.ResponseWriter, r *http.Request, err error) {
	if a.tracer != nil {
		spanFailed(r, err)
	}
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
	case isHeaderTimeout(err):
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
