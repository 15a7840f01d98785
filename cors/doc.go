// Package cors lets a front end on another origin call the gateway with
// credentials (cors.*, docs/security.md).
//
// Only the configured origins are allowed, each exactly (scheme, host and
// port); a wildcard is refused because the gateway's responses are
// credentialed (its session lives in cookies). A request from an allowed
// origin gets Access-Control-Allow-Origin set to that origin and
// Access-Control-Allow-Credentials: true; any other origin gets no CORS
// header at all, and the browser keeps the response from the calling script.
// Every response carries Vary: Origin so that caches never serve one
// origin's answer to another.
//
// Preflights (OPTIONS with Origin and Access-Control-Request-Method) are
// answered by the gateway itself with 204 and never forwarded. A preflight
// from a foreign origin also gets 204, without CORS headers: that is the
// standard refusal (the browser does not send the real request), and it
// tells a prober nothing that a 403 would not.
//
// The gateway calls [Policy.Apply] before rate limiting, CSRF, validation
// and access control, so the CORS headers are already on the response when
// any of them refuses the request (401, 403, 429, 503): the front end can
// read the refusal instead of seeing an opaque network error. The exposed
// headers (X-RateLimit-*, Retry-After, X-Request-ID) are readable by the
// front end's script for the same reason.
//
// When cors.allowedOrigins is empty the gateway should not install the
// policy at all, so that OPTIONS requests reach the web app as before.
package cors
