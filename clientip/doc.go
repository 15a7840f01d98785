// Package clientip works out who the client of a request is (clientIP.*,
// docs/configuration.md#clientip): its IP address, the scheme it used and
// the host it asked for.
//
// Forwarded headers (CF-Connecting-IP, X-Forwarded-For, X-Forwarded-Proto,
// X-Forwarded-Host...) are written by whoever sends the request, so they are
// believed only when the TCP peer is one of the configured trusted proxies.
// From anyone else they are ignored and the client is the peer itself: a
// client cannot pick its own IP to dodge a rate limit or to lock another
// user out (STYLE.md, trap 1).
//
// Every failure is closed: an unparsable trusted-proxy entry is a
// configuration error, and a forwarded header that cannot be read yields the
// peer address, never a guess.
//
// The pipeline resolves the client once, with [Resolver.Middleware], and the
// later stages read it with [FromContext].
package clientip
