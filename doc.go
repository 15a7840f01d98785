// Package apilayer is an auth gateway for web apps whose login lives in an
// external JWT backend (Laravel, Django, .NET, Express, Go...), usable as a
// binary (cmd/apilayer) or as net/http middleware.
//
// It keeps the tokens in httpOnly cookies, validates each request against
// the backend (cached by SHA-256 of the token, one backend call for any
// number of concurrent requests with one token) or locally (JWT with pinned
// algorithms), refreshes expired tokens transparently (single-flight,
// successor records so racing tabs never log a user out), mints guest tokens
// for anonymous visitors, enforces route and role rules, hands the verified
// identity to the web app, and proxies the API to the backend with the
// Bearer token, with CSRF protection, rate limiting, CORS and audit events.
//
// # Shapes of use
//
// Build a Gateway from a [Config] (in code, or from YAML with
// config.Load) and use one of:
//
//   - [Gateway.Handler]: the whole gateway, as the binary runs it: pages go
//     to the configured upstream web app, {api.prefix}/... to the backend.
//   - [Gateway.Middleware]: the same pipeline in front of your own handler;
//     it serves the built-in auth API and the API proxy itself and hands
//     every other request, after authentication, to next. Read the identity
//     with [AuthFrom].
//   - [Gateway.APIProxy]: the API proxy alone.
//   - [Gateway.ListenAndServe] and [Gateway.Serve]: run Handler on an HTTP
//     (or HTTPS, with tls set) server with the config's timeouts and a
//     graceful shutdown when the context ends.
//
// # The pipeline
//
// Every request goes through the same steps, in this order (the file
// pipeline.go holds the whole order in one function): health and metrics →
// recover → request ID → client IP (forwarded headers believed only from
// trusted proxies) → CORS → path cleaning (a path escaping "/" is 400) →
// locale (i18n: path prefix, cookie, Accept-Language, default; the prefix is
// stripped for route matching) → rate limit by IP → CSRF Fetch Metadata
// check → BeforeAuth hook → excluded and bypassed paths → rate limit by user
// → token cascade, validation, refresh and guest minting → access decision
// (route lists, token types, access.rules role rules) → CSRF double-submit
// check → locale redirect → AfterAuth hook → forward.
//
// A backend that cannot answer is never taken for an invalid token: no
// cookie is cleared, no token refreshed and no guest minted because the
// backend had a bad second.
//
// # Hooks
//
// [Hooks] (installed with [WithHooks]) let a program answer requests before
// authentication, refuse forwarded ones after it, and hear about failed
// refreshes. A hook can never forward a request the pipeline refused, nor
// make the web app see identity headers the gateway did not set.
package apilayer
