package proxy

import (
	"net/http"
	"strings"
)

// Internal headers the gateway sets for the web app (SPEC.md section 4.4).
// Whatever a client sends under these names is removed before anything is
// forwarded.
const (
	HeaderAuthUser      = "X-Auth-User"
	HeaderRefreshed     = "X-Refreshed-Token"
	HeaderLocale        = "X-Locale"
	HeaderTokenType     = "X-Auth-Token-Type"
	HeaderSkipAuth      = "X-Skip-Auth"
	middlewarePrefix    = "X-Middleware-"
	headerAuthorization = "Authorization"
)

// StripInternal removes from h every internal header a client could forge:
// X-Auth-User, X-Refreshed-Token, X-Locale, X-Auth-Token-Type and every
// X-Middleware-* header (Next.js's CVE-2025-29927 class of bugs).
func StripInternal(h http.Header) {
	h.Del(HeaderAuthUser)
	h.Del(HeaderRefreshed)
	h.Del(HeaderLocale)
	h.Del(HeaderTokenType)
	for k := range h {
		if len(k) >= len(middlewarePrefix) && strings.EqualFold(k[:len(middlewarePrefix)], middlewarePrefix) {
			delete(h, k)
		}
	}
}

// StripFromResponse removes from a response the headers the browser must
// never receive (SPEC.md section 4.4).
func StripFromResponse(h http.Header) {
	h.Del(HeaderAuthUser)
	h.Del(HeaderRefreshed)
}
