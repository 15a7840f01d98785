package apiclient

import (
	"net/http"
	"net/url"
	"time"
)

// CallOption changes one call.
type CallOption func(*callOptions)

type callOptions struct {
	timeout       time.Duration
	header        http.Header
	query         url.Values
	skipAuth      *bool
	skipSanitize  bool
	skipFields    []string
	retry         *Retry
	retryUnsafe   bool
	noDedupe      bool
	requestID     *string // nil: Config.RequestID; "": generate; else this ID
	noRequestID   bool
	methodSpoofOn *bool
}

// WithTimeout bounds each attempt of this call by d instead of
// Config.Timeout.
func WithTimeout(d time.Duration) CallOption {
	return func(o *callOptions) { o.timeout = d }
}

// WithHeader sends a header with this call, replacing a default one of
// the same name. Calls with different headers are never deduplicated
// together.
func WithHeader(name, value string) CallOption {
	return func(o *callOptions) {
		if o.header == nil {
			o.header = make(http.Header)
		}
		o.header.Set(name, value)
	}
}

// WithQuery adds query parameters to the endpoint's (next-api-layer's
// documented params option); a value replaces the endpoint's own of the
// same name.
func WithQuery(q url.Values) CallOption {
	return func(o *callOptions) {
		if o.query == nil {
			o.query = make(url.Values)
		}
		for k, v := range q {
			o.query[k] = append([]string(nil), v...)
		}
	}
}

// SkipAuth sends this call without a token, and without failing when there
// is none.
func SkipAuth() CallOption {
	return func(o *callOptions) { t := true; o.skipAuth = &t }
}

// WithAuth sends the token with this call even when the endpoint is in
// Config.PublicEndpoints or Config.SkipAuthByDefault is set; without a
// token the call fails with an *AuthError.
func WithAuth() CallOption {
	return func(o *callOptions) { f := false; o.skipAuth = &f }
}

// SkipSanitize sends this call's body as it is.
func SkipSanitize() CallOption {
	return func(o *callOptions) { o.skipSanitize = true }
}

// SkipSanitizeFields leaves these fields of this call's body untouched, in
// addition to Config.Sanitize.SkipFields.
func SkipSanitizeFields(fields ...string) CallOption {
	return func(o *callOptions) { o.skipFields = append(o.skipFields, fields...) }
}

// WithRetry retries this call with r (zero fields take their defaults),
// even when Config.Retry is not enabled. Non-idempotent methods still need
// RetryNonIdempotent.
func WithRetry(r Retry) CallOption {
	return func(o *callOptions) {
		r.Enabled = true
		o.retry = &r
	}
}

// NoRetry makes this call a single attempt.
func NoRetry() CallOption {
	return func(o *callOptions) { o.retry = &Retry{} }
}

// RetryNonIdempotent lets this call be retried although its method (POST,
// PATCH) is not idempotent: use it when the backend deduplicates, for
// example with an idempotency key.
func RetryNonIdempotent() CallOption {
	return func(o *callOptions) { o.retryUnsafe = true }
}

// NoDedupe makes this call its own backend request.
func NoDedupe() CallOption {
	return func(o *callOptions) { o.noDedupe = true }
}

// WithRequestID sends id as this call's request ID, or a generated one
// when id is empty, even when Config.RequestID is not enabled.
func WithRequestID(id string) CallOption {
	return func(o *callOptions) { o.requestID = &id; o.noRequestID = false }
}

// NoRequestID sends this call without a request ID even when
// Config.RequestID is enabled.
func NoRequestID() CallOption {
	return func(o *callOptions) { o.requestID = nil; o.noRequestID = true }
}

// WithMethodSpoofing turns method spoofing on or off for this call.
func WithMethodSpoofing(on bool) CallOption {
	return func(o *callOptions) { o.methodSpoofOn = &on }
}
