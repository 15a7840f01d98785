package apiclient

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Sentinels for errors.Is. The typed errors below match them; they are
// never returned bare.
var (
	// ErrNoToken matches an *AuthError with reason NoToken: the call needed
	// a token, the context had none, and the backend was not called.
	ErrNoToken = errors.New("apiclient: no token")
	// ErrInvalidToken matches an *AuthError with reason InvalidToken.
	ErrInvalidToken = errors.New("apiclient: invalid token")
	// ErrExpiredToken matches an *AuthError with reason ExpiredToken.
	ErrExpiredToken = errors.New("apiclient: expired token")
	// ErrTimeout matches a *TimeoutError.
	ErrTimeout = errors.New("apiclient: timeout")
	// ErrNetwork matches a *NetworkError.
	ErrNetwork = errors.New("apiclient: network error")
	// ErrRateLimited matches a *RateLimitError.
	ErrRateLimited = errors.New("apiclient: rate limited")
	// ErrValidation matches a *ValidationError.
	ErrValidation = errors.New("apiclient: validation failed")
)

// ErrBadEndpoint is wrapped by the error of a call whose endpoint is not a
// path below Config.BaseURL: an absolute URL, a "." or ".." segment
// (encoded or not), a bad escape or a control byte. Nothing is sent.
var ErrBadEndpoint = errors.New("apiclient: bad endpoint")

// ErrTooLarge is wrapped by the error of a call whose response body is
// larger than Config.MaxResponseBytes.
var ErrTooLarge = errors.New("apiclient: response too large")

// ErrClosed is returned by calls made after Client.Close.
var ErrClosed = errors.New("apiclient: client closed")

// HTTPError is the error of a call that the backend answered with a status
// outside 2xx. The more specific *AuthError, *ValidationError and
// *RateLimitError wrap one, so errors.As(err, &httpErr) finds it for any
// answered call.
type HTTPError struct {
	Method   string // the method of the call (before method spoofing)
	Endpoint string // the endpoint path, without its query (which may hold secrets)
	Status   int
	// Response is the backend's answer, the same the call returned.
	Response *Response
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("apiclient: %s %s: %d %s", e.Method, e.Endpoint, e.Status, http.StatusText(e.Status))
	if e.Response != nil && e.Response.Message != "" {
		s += ": " + truncate(e.Response.Message, 200)
	}
	return s
}

// ClientError reports whether the status is 4xx.
func (e *HTTPError) ClientError() bool { return e.Status >= 400 && e.Status < 500 }

// ServerError reports whether the status is 5xx.
func (e *HTTPError) ServerError() bool { return e.Status >= 500 }

// AuthReason says why a call was not authenticated.
type AuthReason string

// The AuthError reasons.
const (
	NoToken      AuthReason = "no_token"      // no token in the context; nothing was sent
	InvalidToken AuthReason = "invalid_token" // the backend answered 401
	ExpiredToken AuthReason = "expired_token" // the backend answered 401 and said the token expired
)

// AuthError is the error of a call without a usable token: none in the
// context (NoToken, the backend is not called), or a 401 from the backend
// (InvalidToken, or ExpiredToken when the answer's message, code or
// WWW-Authenticate header says "expired").
type AuthError struct {
	Reason   AuthReason
	Method   string
	Endpoint string
	// HTTP is the backend's 401; nil for NoToken.
	HTTP *HTTPError
}

func (e *AuthError) Error() string {
	if e.HTTP == nil {
		return fmt.Sprintf("apiclient: %s %s: %s", e.Method, e.Endpoint, e.Reason)
	}
	return fmt.Sprintf("apiclient: %s %s: %s (status %d)", e.Method, e.Endpoint, e.Reason, e.HTTP.Status)
}

// Status returns 401.
func (e *AuthError) Status() int { return http.StatusUnauthorized }

// Unwrap returns the backend's answer, if any.
func (e *AuthError) Unwrap() error {
	if e.HTTP == nil {
		return nil
	}
	return e.HTTP
}

// Is matches ErrNoToken, ErrInvalidToken or ErrExpiredToken by reason.
func (e *AuthError) Is(target error) bool {
	switch target {
	case ErrNoToken:
		return e.Reason == NoToken
	case ErrInvalidToken:
		return e.Reason == InvalidToken
	case ErrExpiredToken:
		return e.Reason == ExpiredToken
	}
	return false
}

// ValidationError is the error of a 422, or of a 400 whose body has an
// "errors" object: the backend refused some fields.
type ValidationError struct {
	HTTP *HTTPError
	// Fields maps each field to its messages, as in Response.Errors.
	Fields map[string][]string
	order  []string // field names in the order of the body
}

func (e *ValidationError) Error() string {
	s := fmt.Sprintf("apiclient: %s %s: validation failed (status %d)", e.HTTP.Method, e.HTTP.Endpoint, e.HTTP.Status)
	if m := e.FirstMessage(); m != "" {
		s += ": " + truncate(m, 200)
	}
	return s
}

// Unwrap returns the backend's answer.
func (e *ValidationError) Unwrap() error { return e.HTTP }

// Is matches ErrValidation.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// AllMessages returns every message, field by field in the order of the
// backend's body. Without field errors it returns the response's message,
// if any.
func (e *ValidationError) AllMessages() []string {
	var out []string
	for _, k := range e.order {
		out = append(out, e.Fields[k]...)
	}
	if len(out) == 0 && e.HTTP.Response != nil && e.HTTP.Response.Message != "" {
		out = append(out, e.HTTP.Response.Message)
	}
	return out
}

// FirstMessage returns the first of AllMessages, or "".
func (e *ValidationError) FirstMessage() string {
	if all := e.AllMessages(); len(all) > 0 {
		return all[0]
	}
	return ""
}

// RateLimitError is the error of a 429.
type RateLimitError struct {
	HTTP *HTTPError
	// RetryAfter is the wait the backend asked for in Retry-After (seconds
	// or an HTTP date); 0 when it did not say.
	RetryAfter time.Duration
	// Limit and Remaining come from X-RateLimit-Limit and
	// X-RateLimit-Remaining; -1 when absent.
	Limit, Remaining int
}

func (e *RateLimitError) Error() string {
	s := fmt.Sprintf("apiclient: %s %s: rate limited", e.HTTP.Method, e.HTTP.Endpoint)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Status returns 429.
func (e *RateLimitError) Status() int { return http.StatusTooManyRequests }

// Unwrap returns the backend's answer.
func (e *RateLimitError) Unwrap() error { return e.HTTP }

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// TimeoutError is the error of a call whose last attempt got no complete
// answer within its timeout (Config.Timeout or WithTimeout). The caller's
// own context ending is not a TimeoutError: the call then returns the
// context's error, wrapped.
type TimeoutError struct {
	Method   string
	Endpoint string
	Timeout  time.Duration
	Err      error // the cause (wraps context.DeadlineExceeded)
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("apiclient: %s %s: timed out after %s", e.Method, e.Endpoint, e.Timeout)
}

// Status returns 408, the status next-api-layer answered for a timeout.
func (e *TimeoutError) Status() int { return http.StatusRequestTimeout }

// Unwrap returns the cause.
func (e *TimeoutError) Unwrap() error { return e.Err }

// Is matches ErrTimeout.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// NetworkError is the error of a call whose last attempt could not reach
// the backend or read its answer (connection refused, reset, DNS).
type NetworkError struct {
	Method   string
	Endpoint string
	Err      error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("apiclient: %s %s: network error: %v", e.Method, e.Endpoint, e.Err)
}

// Unwrap returns the cause.
func (e *NetworkError) Unwrap() error { return e.Err }

// Is matches ErrNetwork.
func (e *NetworkError) Is(target error) bool { return target == ErrNetwork }

// retryableStatuses are the statuses IsRetryableStatus accepts and the
// default Retry.RetryOn.
var retryableStatuses = []int{408, 429, 500, 502, 503, 504}

// IsRetryableStatus reports whether status is 408, 429, 500, 502, 503 or
// 504.
func IsRetryableStatus(status int) bool { return slices.Contains(retryableStatuses, status) }

// IsRetryable reports whether trying err's call again may succeed: true for
// a timeout, a network error and a rate limit; for another answered call,
// IsRetryableStatus of its status (so false for *AuthError and
// *ValidationError); false for anything else, context errors included.
func IsRetryable(err error) bool {
	var (
		te *TimeoutError
		ne *NetworkError
		rl *RateLimitError
		ae *AuthError
		ve *ValidationError
		he *HTTPError
	)
	switch {
	case errors.As(err, &te), errors.As(err, &ne), errors.As(err, &rl):
		return true
	case errors.As(err, &ae), errors.As(err, &ve):
		return false
	case errors.As(err, &he):
		return IsRetryableStatus(he.Status)
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
