// Package cookieheader reads the Cookie header of a request in place.
// http.Request.Cookies and CookiesNamed build an *http.Cookie for every
// cookie of the site on every call; the gateway looks for two or three
// names on every request and needs none of that.
package cookieheader

import (
	"iter"
	"net/http"
	"strings"
)

// ows is the optional white space around a cookie pair (RFC 9110): space
// and tab only, as net/http trims them.
const ows = " \t"

// All yields the name and value of every cookie in h's Cookie header
// lines, in order, without parsing anything else. A pair is trimmed of
// surrounding spaces and tabs, and the name too; a value is as sent (see
// [Value]). Parts without "=" are skipped.
func All(h http.Header) iter.Seq2[string, string] {
	return func(yield func(name, value string) bool) {
		for _, line := range h["Cookie"] {
			for line != "" {
				var part string
				part, line, _ = strings.Cut(line, ";")
				name, value, ok := strings.Cut(strings.Trim(part, ows), "=")
				if !ok {
					continue
				}
				if !yield(strings.Trim(name, ows), value) {
					return
				}
			}
		}
	}
}

// Value unquotes a cookie value and reports whether it is made of RFC 6265
// cookie-octets (no control character, space, quote, comma, semicolon,
// backslash or non-ASCII byte).
func Value(v string) (string, bool) {
	if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	for i := 0; i < len(v); i++ {
		if !cookieOctet[v[i]] {
			return "", false
		}
	}
	return v, true
}

// cookieOctet tells the bytes of RFC 6265's cookie-octet: a table, since a
// token value is hundreds of bytes checked on every request.
var cookieOctet = func() (t [256]bool) {
	for b := 0x21; b < 0x7f; b++ {
		switch b {
		case '"', ';', '\\', ',':
		default:
			t[b] = true
		}
	}
	return t
}()
