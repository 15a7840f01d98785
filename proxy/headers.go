package proxy

import (
	"net/http"
	"net/netip"
	"strings"
)

// Internal headers the gateway sets for the web app (docs/security.md).
// Whatever a client sends under these names, in any spelling, is removed
// before anything is forwarded.
const (
	HeaderAuthUser          = "X-Auth-User"
	HeaderAuthUserTruncated = "X-Auth-User-Truncated"
	HeaderAuthAssertion     = "X-Auth-Assertion"
	HeaderRefreshed         = "X-Refreshed-Token"
	HeaderLocale            = "X-Locale"
	HeaderTokenType         = "X-Auth-Token-Type"
	HeaderSkipAuth          = "X-Skip-Auth"
	headerRequestID         = "X-Request-Id"
)

// headerClass is what a request header name means to the proxies.
type headerClass uint8

const (
	// classIdentity: the identity headers of the web app and every
	// X-Middleware-* header (Next.js's CVE-2025-29927 class of bugs).
	classIdentity headerClass = 1 << iota
	// classForwarded: who the client is and what it asked for, as a
	// client could claim it (X-Forwarded-*, Forwarded, X-Real-IP,
	// CF-Connecting-IP, True-Client-IP). The proxies set their own.
	classForwarded
	// classRequestID: X-Request-ID, which the pipeline sets.
	classRequestID
	// classRouting: headers some frameworks route or dispatch by after the
	// gateway authorized another path or method (X-Original-URL,
	// X-Rewrite-URL, X-HTTP-Method-Override).
	classRouting
	// classSkipAuth: X-Skip-Auth, read by the gateway, never forwarded.
	classSkipAuth
	// classProxy: every Proxy-* header.
	classProxy
)

// reservedNames are the names of the classes, lower case with '-'.
var reservedNames = []struct {
	name  string
	class headerClass
}{
	{"x-auth-user", classIdentity},
	{"x-auth-user-truncated", classIdentity},
	{"x-auth-assertion", classIdentity},
	{"x-auth-token-type", classIdentity},
	{"x-refreshed-token", classIdentity},
	{"x-locale", classIdentity},
	{"x-forwarded-for", classForwarded},
	{"x-forwarded-proto", classForwarded},
	{"x-forwarded-host", classForwarded},
	{"x-forwarded-port", classForwarded},
	{"x-forwarded-prefix", classForwarded | classRouting},
	{"forwarded", classForwarded},
	{"x-real-ip", classForwarded},
	{"x-client-ip", classForwarded},        // Rails' remote_ip
	{"x-forwarded-scheme", classForwarded}, // Rack's request scheme
	{"x-forwarded-ssl", classForwarded},    // Rack's request scheme
	{"cf-connecting-ip", classForwarded},
	{"true-client-ip", classForwarded},
	{"x-request-id", classRequestID},
	{"x-original-url", classRouting},
	{"x-rewrite-url", classRouting},
	{"x-http-method-override", classRouting},
	{"x-skip-auth", classSkipAuth},
}

// The name prefixes of classIdentity and classProxy.
const (
	middlewarePrefix = "x-middleware-"
	proxyPrefix      = "proxy-"
)

// reservedByLen indexes reservedNames by length, so that a name is
// compared with the two or three reserved names of its length only.
var reservedByLen = func() (t [23][]int) {
	for i, r := range reservedNames {
		t[len(r.name)] = append(t[len(r.name)], i)
	}
	return t
}()

// foldByte is c as an app server that follows CGI reads it in a header
// name: case ignored, '_' the same as '-'.
func foldByte(c byte) byte {
	switch {
	case c == '_':
		return '-'
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	}
	return c
}

// foldHasPrefix reports whether name, folded, starts with prefix (lower
// case, with '-').
func foldHasPrefix(name, prefix string) bool {
	if len(name) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if foldByte(name[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// classify returns the class of a request header name, comparing it the
// way many app servers read it: case ignored and '_' read as '-'. CGI,
// WSGI, Rack and older Puma and gunicorn turn both X-Auth-User and
// X_Auth_User into HTTP_X_AUTH_USER, so a forged X_Auth_User is
// X-Auth-User to the web app. A name net/http received with '_' is in the
// map as "X_auth_user" (it does not canonicalize it), so exact map keys
// cannot be trusted. It returns 0 for every other name, without
// allocating.
func classify(name string) headerClass {
	if name == "" {
		return 0
	}
	switch foldByte(name[0]) {
	case 'x':
		if foldHasPrefix(name, middlewarePrefix) {
			return classIdentity
		}
	case 'p':
		if foldHasPrefix(name, proxyPrefix) {
			return classProxy
		}
		return 0
	case 'f', 'c', 't':
	default:
		return 0
	}
	if len(name) >= len(reservedByLen) {
		return 0
	}
	for _, i := range reservedByLen[len(name)] {
		if foldHasPrefix(name, reservedNames[i].name) { // same length: equal
			return reservedNames[i].class
		}
	}
	return 0
}

// stripClasses removes from h every header whose name is of one of the
// classes, in one pass over the names.
func stripClasses(h http.Header, classes headerClass) {
	for k := range h {
		if classify(k)&classes != 0 {
			delete(h, k)
		}
	}
}

// StripInternal removes from h every internal header a client could forge,
// in any case and with '_' in place of '-': X-Auth-User,
// X-Auth-User-Truncated, X-Auth-Assertion, X-Auth-Token-Type,
// X-Refreshed-Token, X-Locale and every X-Middleware-* header (Next.js's
// CVE-2025-29927 class of bugs). It allocates nothing.
func StripInternal(h http.Header) {
	stripClasses(h, classIdentity)
}

// StripName removes from h every header named name in any case and with
// '_' in place of '-', the way CGI-style app servers read names: for a
// header the gateway sets under a configured name (identity.header).
func StripName(h http.Header, name string) {
	for k := range h {
		if foldEqual(k, name) {
			delete(h, k)
		}
	}
}

// foldEqual reports whether a and b are the same header name to a
// CGI-style app server: case ignored, '_' the same as '-'.
func foldEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if foldByte(a[i]) != foldByte(b[i]) {
			return false
		}
	}
	return true
}

// StripFromResponse removes from a response the headers the browser must
// never receive (docs/security.md).
func StripFromResponse(h http.Header) {
	// The names are canonical: delete spares Del's canonicalization, on
	// every response.
	delete(h, HeaderAuthUser)
	delete(h, HeaderRefreshed)
	delete(h, HeaderAuthAssertion)
	delete(h, HeaderAuthUserTruncated)
}

// onlyWebSocketUpgrade lets only a WebSocket upgrade through: any other
// protocol switch (h2c, ...) loses its Upgrade header and the Connection
// token ReverseProxy kept for it, and becomes a plain HTTP/1.1 request. A
// web app that switched to h2c would otherwise hand the client an HTTP/2
// connection the gateway no longer sees, skipping every check.
func onlyWebSocketUpgrade(h http.Header) {
	if up, ok := h["Upgrade"]; ok && !(len(up) == 1 && strings.EqualFold(up[0], "websocket")) {
		delete(h, "Upgrade")
		delete(h, "Connection")
	}
}

// setForwarded sets what the gateway decided about the client: its IP in
// X-Forwarded-For and X-Real-IP, the scheme and host it used. The chain is
// replaced, not extended: the gateway's client IP resolution already
// decided which hops to believe.
func setForwarded(h http.Header, ip netip.Addr, proto, host string) {
	// Canonical names, set without Set's canonicalization (every request).
	if ip.IsValid() {
		s := ip.Unmap().String()
		h["X-Forwarded-For"] = []string{s}
		h["X-Real-Ip"] = []string{s}
	}
	if proto != "" {
		h["X-Forwarded-Proto"] = []string{proto}
	}
	if host != "" {
		h["X-Forwarded-Host"] = []string{host}
	}
}

// copyOwned sets in out each named header as in holds it, and removes it
// from out when in has none. ReverseProxy removes the headers a client
// lists in Connection from the outbound request before Rewrite runs, and
// the inbound request still has what the pipeline set: copying it back
// last means a client's Connection header can never remove a header the
// gateway set. The values are shared, capped so that an append to one
// cannot write into the other.
func copyOwned(in, out http.Header, names []string) {
	for _, k := range names {
		if v, ok := in[k]; ok {
			out[k] = v[:len(v):len(v)]
		} else {
			delete(out, k)
		}
	}
}

// reservedSet is the set of the gateway's own cookie names (user, guest,
// refresh, CSRF and locale cookies).
func reservedSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		if n != "" {
			m[n] = true
		}
	}
	return m
}

// dropReservedCookies removes the Set-Cookie lines that would set one of
// the gateway's own cookies: only the gateway sets those. The name is read
// the way browsers parse a Set-Cookie line: the part before the first ';',
// then before the first '=', trimmed of spaces and tabs (so " user =x"
// sets "user"). A pair without '=' is a cookie with an empty name to a
// browser but its name to some server-side parsers: it is dropped too when
// it is a reserved name.
func dropReservedCookies(h http.Header, reserved map[string]bool) {
	lines := h["Set-Cookie"]
	if len(lines) == 0 || len(reserved) == 0 {
		return
	}
	var kept []string // nil until a line is dropped
	for i, line := range lines {
		if reserved[setCookieName(line)] {
			if kept == nil {
				kept = make([]string, i, len(lines))
				copy(kept, lines[:i])
			}
			continue
		}
		if kept != nil {
			kept = append(kept, line)
		}
	}
	switch {
	case kept == nil:
		// Nothing dropped.
	case len(kept) == 0:
		delete(h, "Set-Cookie")
	default:
		h["Set-Cookie"] = kept
	}
}

// setCookieName is the cookie name of a Set-Cookie line as a browser
// reads it, or the whole trimmed pair when it has no '='.
func setCookieName(line string) string {
	pair, _, _ := strings.Cut(line, ";")
	name, _, _ := strings.Cut(pair, "=")
	return strings.Trim(name, " \t")
}
