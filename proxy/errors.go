package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
)

// StatusClientClosedRequest is the non-standard status (nginx's and Caddy's
// 499) recorded when the client went away before the response started. No
// client ever receives it; it exists for access logs and metrics, so that a
// visitor closing a tab is not counted as a 5xx of the gateway.
const StatusClientClosedRequest = 499

// Failure says why a proxied request got no response from the server it was
// forwarded to. Both proxies map it to their own bodies: HTML pages for the
// upstream, JSON for the API proxy.
type Failure int

// The failures, in the order ClassifyError checks them.
const (
	// FailureClientGone: the client canceled the request or closed its
	// connection. Nothing can be answered (status 499 for the logs).
	FailureClientGone Failure = iota + 1
	// FailureTimeout: the server was reached but did not answer in time
	// (response header timeout, or a deadline on the request's context).
	// Status 504.
	FailureTimeout
	// FailureUnreachable: the server could not be reached or broke the
	// exchange (connection refused or reset, DNS failure, TLS failure,
	// dial timeout, malformed response). Status 502.
	FailureUnreachable
)

// Status returns the HTTP status that records f: 499, 504 or 502.
func (f Failure) Status() int {
	switch f {
	case FailureClientGone:
		return StatusClientClosedRequest
	case FailureTimeout:
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadGateway
	}
}

// String returns "client gone", "timeout" or "unreachable", suitable for a
// log attribute.
func (f Failure) String() string {
	switch f {
	case FailureClientGone:
		return "client gone"
	case FailureTimeout:
		return "timeout"
	default:
		return "unreachable"
	}
}

// ClassifyError says why forwarding r failed with err, the error of a
// RoundTrip (what httputil.ReverseProxy hands its ErrorHandler).
//
// A canceled request context means the client is gone, whatever err says:
// once the client has left, every later error is a consequence. A timeout
// while dialing is a failure to reach the server (502), not a slow answer;
// any other timeout is 504. Everything else is 502.
func ClassifyError(r *http.Request, err error) Failure {
	if ctxErr := r.Context().Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.Canceled) {
			return FailureClientGone
		}
		return FailureTimeout // the request's own deadline passed
	}
	if err == nil {
		return FailureUnreachable
	}
	if opErr, ok := errors.AsType[*net.OpError](err); ok && opErr.Op == "dial" {
		return FailureUnreachable
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return FailureUnreachable
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return FailureTimeout
	}
	if netErr, ok := errors.AsType[net.Error](err); ok && netErr.Timeout() {
		return FailureTimeout
	}
	return FailureUnreachable
}
