package apiclient

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"
)

// Config configures a Client. Only BaseURL is required; every other zero
// value says what it means.
type Config struct {
	// BaseURL is the backend's absolute http or https URL, such as
	// "http://backend:8000/api/". Endpoints are resolved below it (a
	// missing trailing slash is added).
	BaseURL string

	// HTTPClient sends the requests. If nil, a client with its own clone of
	// http.DefaultTransport is used (and released by Close). Its Timeout,
	// if any, applies on top of Timeout.
	HTTPClient *http.Client

	// Timeout bounds each attempt, from sending the request to reading the
	// whole answer. Zero means 30s; WithTimeout overrides it per call.
	Timeout time.Duration

	// Headers are sent with every call (next-api-layer's defaultHeaders).
	// Accept: application/json is sent unless Headers sets Accept.
	// Authorization is replaced by the user's token when the call has one.
	Headers http.Header

	// TokenFrom returns the token of the request being served. If nil, the
	// token is authn.FromContext(ctx).Token: the token the gateway
	// refreshed or minted in this request, else the cookie's.
	TokenFrom func(context.Context) string

	// LocaleFrom returns the locale of the request being served, sent as
	// the I18n.ParamName query parameter. If nil, the locale is
	// authn.FromContext(ctx).Locale (set by the gateway when its i18n is
	// enabled); when there is none, I18n.DefaultLocale (if set) is sent.
	LocaleFrom func(context.Context) string

	// I18n says how the locale is sent.
	I18n I18n

	// PublicEndpoints lists globs of endpoints called without a token
	// (relative to BaseURL, as api.publicEndpoints: "*" matches one
	// segment, "**" any number): no Authorization header is sent and a
	// missing token is not an error.
	PublicEndpoints []string

	// SkipAuthByDefault makes every call public unless it uses WithAuth
	// (api.skipAuthByDefault).
	SkipAuthByDefault bool

	// MethodSpoofing sends PUT, PATCH and DELETE as POST for backends
	// behind proxies that only pass GET and POST (Laravel, Rails).
	MethodSpoofing MethodSpoofing

	// RequestID sends a request ID header with every call.
	RequestID RequestID

	// Sanitizer, when set, cleans every string of every JSON body and form
	// field before it is sent (SkipSanitize and SkipSanitizeFields leave
	// some as written). A *sanitize.Sanitizer (package sanitize,
	// bluemonday) strips HTML as next-api-layer's client did by default:
	//
	//	san, _ := sanitize.New(sanitize.Options{}) // strip every tag
	//	c, _ := apiclient.New(apiclient.Config{BaseURL: u, Sanitizer: san})
	//
	// If nil, bodies are sent as written, as the gateway's API proxy does
	// with api.sanitize off.
	Sanitizer Sanitizer

	// Retry configures retries. The zero value never retries.
	Retry Retry

	// Dedupe makes concurrent identical calls share one backend request.
	Dedupe Dedupe

	// Logger receives the debug log (at slog.LevelDebug) when Debug.Enabled
	// is set. If nil, slog.Default() is used.
	Logger *slog.Logger

	// Debug configures the debug log.
	Debug Debug

	// MaxResponseBytes caps the size of a response body. Zero means 10 MiB.
	MaxResponseBytes int64

	// Now returns the current time, to read Retry-After dates. If nil,
	// time.Now is used.
	Now func() time.Time

	// Sleep waits d before a retry, returning early with ctx's error when
	// ctx ends. If nil, a timer is used. Tests inject one that returns at
	// once.
	Sleep func(ctx context.Context, d time.Duration) error

	// Rand returns a number in [0, 1) for the retry jitter. If nil,
	// math/rand/v2 is used.
	Rand func() float64
}

// I18n says how the locale is sent to the backend.
type I18n struct {
	// ParamName is the query parameter that carries the locale. Empty
	// means "lang".
	ParamName string
	// Locales, if set, lists the locales that may be sent; another locale
	// is replaced by DefaultLocale (or none).
	Locales []string
	// DefaultLocale is sent when the request has no (allowed) locale.
	// Empty means send none.
	DefaultLocale string
}

// The method spoofing strategies.
const (
	SpoofBody   = "body"   // a body field (FieldName) carries the method
	SpoofHeader = "header" // X-HTTP-Method-Override carries the method
)

// MethodSpoofing sends PUT, PATCH and DELETE as POST.
type MethodSpoofing struct {
	// Enabled turns spoofing on for every call; WithMethodSpoofing
	// overrides it per call.
	Enabled bool
	// Strategy is SpoofBody (the default) or SpoofHeader. With SpoofBody,
	// a JSON object or a Form gets the field, a call without a body sends
	// {"<FieldName>":"<METHOD>"}, and any other body (a JSON array) falls
	// back to the header.
	Strategy string
	// FieldName is the body field. Empty means "_method".
	FieldName string
}

// RequestID sends a request ID with every call.
type RequestID struct {
	// Enabled sends the header with every call; WithRequestID and
	// NoRequestID override it per call.
	Enabled bool
	// Header is the header name. Empty means "X-Request-ID".
	Header string
	// Generate returns a new ID. If nil, the ID of the request being served
	// (requestid.FromContext) is used, or a new random one without it.
	Generate func(context.Context) string
}

// Sanitizer cleans the strings of request bodies. *sanitize.Sanitizer
// implements it; the client never needs more, so a program that sends
// bodies as written links no HTML sanitizer.
type Sanitizer interface {
	// SkipsEndpoint reports whether bodies sent to endpoint (relative to
	// BaseURL) are left as written.
	SkipsEndpoint(endpoint string) bool
	// Sanitize returns the sanitized JSON document body.
	Sanitize(endpoint string, body []byte) ([]byte, error)
	// Value returns v (decoded JSON) with its strings sanitized, leaving
	// the fields at the skip paths as they are.
	Value(v any, skip ...string) any
	// String returns s sanitized.
	String(s string) string
}

// Backoff is a retry delay schedule.
type Backoff int

// The backoff schedules. n is the number of the attempt that just failed
// (1 for the first).
const (
	Exponential Backoff = iota // BaseDelay * 2^(n-1): 1s, 2s, 4s...
	Linear                     // BaseDelay * n: 1s, 2s, 3s...
	Fixed                      // BaseDelay
)

func (b Backoff) String() string {
	switch b {
	case Exponential:
		return "exponential"
	case Linear:
		return "linear"
	case Fixed:
		return "fixed"
	}
	return "Backoff(?)"
}

// Retry configures retries. Only idempotent methods (GET, HEAD, OPTIONS,
// PUT, DELETE) are retried unless a call uses RetryNonIdempotent.
type Retry struct {
	// Enabled turns retries on for every call; WithRetry and NoRetry
	// override it per call.
	Enabled bool
	// MaxAttempts counts the first attempt too. Zero means 3.
	MaxAttempts int
	// Backoff is the delay schedule; the zero value is Exponential.
	Backoff Backoff
	// BaseDelay is the schedule's unit. Zero means 1s.
	BaseDelay time.Duration
	// MaxDelay caps each delay. A Retry-After longer than MaxDelay ends the
	// retries (the error carries it). Zero means 30s.
	MaxDelay time.Duration
	// Jitter, in [0, 1], spreads each delay uniformly over
	// [d*(1-Jitter), d*(1+Jitter)] (then capped by MaxDelay). Zero means
	// none.
	Jitter float64
	// RetryOn lists the statuses retried; 408 also covers timeouts. Nil
	// means 408, 429, 500, 502, 503 and 504.
	RetryOn []int
	// NoNetworkRetry stops network errors (connection refused, reset)
	// from being retried.
	NoNetworkRetry bool
}

// Dedupe makes concurrent identical calls share one backend request. Calls
// are identical when they have the same method, URL (query and locale
// included), token, locale and per-call headers: calls of two users never
// share a request. Each caller gets its own copy of the answer, and a
// caller whose context ends stops waiting without failing the others.
type Dedupe struct {
	// Enabled turns deduplication on; NoDedupe turns it off per call.
	Enabled bool
	// Methods lists the methods deduplicated, for calls without a body.
	// Nil means GET only.
	Methods []string
}

// Debug configures the debug log. Tokens, cookies and the Authorization
// header are never logged; fields whose names contain a sensitive word are
// masked as "***" at any depth.
type Debug struct {
	// Enabled turns the debug log on.
	Enabled bool
	// Headers logs the request headers (sensitive ones as "REDACTED").
	Headers bool
	// RequestBody and ResponseBody log a preview of the bodies.
	RequestBody, ResponseBody bool
	// MaxStringLength truncates strings in previews. Zero means 500.
	MaxStringLength int
	// MaxArrayItems limits the items shown per array. Zero means 10.
	MaxArrayItems int
	// MaxDepth limits the nesting shown. Zero means 5.
	MaxDepth int
	// SensitiveFields adds words to the masked ones (password, passwd,
	// token, secret, authorization, apikey, creditcard, cardnumber, cvv,
	// ssn, cookie, session, privatekey). A field is masked when its name
	// contains one, ignoring case, "-" and "_": access_token, user_password
	// and X-Api-Key are all masked.
	SensitiveFields []string
}

// defaults fills the zero values.
func (c *Config) defaults() {
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.I18n.ParamName == "" {
		c.I18n.ParamName = "lang"
	}
	if c.MethodSpoofing.Strategy == "" {
		c.MethodSpoofing.Strategy = SpoofBody
	}
	if c.MethodSpoofing.FieldName == "" {
		c.MethodSpoofing.FieldName = "_method"
	}
	if c.RequestID.Header == "" {
		c.RequestID.Header = "X-Request-ID"
	}
	c.Retry = c.Retry.withDefaults()
	if c.Dedupe.Methods == nil {
		c.Dedupe.Methods = []string{http.MethodGet}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Debug.MaxStringLength <= 0 {
		c.Debug.MaxStringLength = 500
	}
	if c.Debug.MaxArrayItems <= 0 {
		c.Debug.MaxArrayItems = 10
	}
	if c.Debug.MaxDepth <= 0 {
		c.Debug.MaxDepth = 5
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = 10 << 20
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 3
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = time.Second
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 30 * time.Second
	}
	if r.RetryOn == nil {
		r.RetryOn = retryableStatuses
	}
	return r
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
