// Package apiclient is the server-side API client for Go handlers behind
// the apilayer gateway: it calls the JWT backend with the token and locale
// of the request being served, the Go equivalent of next-api-layer's
// createApiClient, with its defects fixed (docs/apiclient.md lists them).
//
// Create one Client per backend with New and share it; every call takes
// the handler's request context:
//
//	api, err := apiclient.New(apiclient.Config{BaseURL: "http://backend:8000/api/"})
//	...
//	func posts(w http.ResponseWriter, r *http.Request) {
//		res, err := api.Get(r.Context(), "posts")
//		...
//	}
//
// # Token and locale
//
// The token is authn.FromContext(ctx).Token, which is the token the gateway
// refreshed or minted in this very request when it did (Config.TokenFrom
// replaces the source). A call without a token fails with an *AuthError
// (reason NoToken) without calling the backend, unless the endpoint is in
// Config.PublicEndpoints, Config.SkipAuthByDefault is set, or the call uses
// SkipAuth; those are sent without Authorization. The locale is the one the
// gateway resolved (authn.FromContext(ctx).Locale, when its i18n is on;
// Config.LocaleFrom replaces the source) and is sent as the query parameter
// I18n.ParamName ("lang").
//
// # Answers and errors
//
// Every answered call returns a *Response: the envelope fields (Success,
// Data, Message, Errors), the status, the headers and the raw body.
// Empty (204) and non-JSON answers (HTML error pages) are not errors in
// themselves. A status outside 2xx also returns an error usable with
// errors.As and errors.Is: *AuthError (401; ErrInvalidToken,
// ErrExpiredToken), *ValidationError (422, FirstMessage, AllMessages),
// *RateLimitError (429, RetryAfter), else *HTTPError, which the others
// wrap. Calls without an answer fail with *TimeoutError, *NetworkError or
// the context's error. IsRetryable tells whether trying again may help.
//
// # Retries, deduplication, bodies
//
// Retries (Config.Retry, WithRetry) use exponential, linear or fixed
// backoff with optional jitter, honour Retry-After in seconds or as an
// HTTP date, wait through Config.Sleep so that the caller's context
// cancels the wait, and apply to idempotent methods only unless the call
// uses RetryNonIdempotent.
//
// Deduplication (Config.Dedupe) merges concurrent identical calls into one
// backend request. The key holds the method, the full URL, the token and
// the locale, so two users never share an answer, and every caller gets
// its own copy of the response.
//
// Bodies are JSON (any value, or json.RawMessage as it is) or multipart
// (*Form, with files). With Config.Sanitizer (a *sanitize.Sanitizer:
// bluemonday, strip, escape or allowList), string values and text fields
// are sanitized, with fields skipped by whole path segments and endpoints
// by glob; no string is exempted for looking like a URL. Without one they
// are sent as written, and the program links no HTML sanitizer. PUT, PATCH and DELETE can be
// sent as POST with the method in a body field or in
// X-HTTP-Method-Override (Config.MethodSpoofing).
//
// # Debug log
//
// With Config.Debug.Enabled, requests, responses, retries and joins are
// logged through slog at debug level. The Authorization header, cookies
// and every field, header or query parameter whose name contains a
// sensitive word (password, token, secret, ...; so access_token and
// user_password too) are masked at any depth; long strings are truncated
// and base64 blobs and data URLs summarised.
package apiclient
