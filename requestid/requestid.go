// Package requestid carries the request ID of SPEC.md section 4.4: an
// incoming X-Request-ID of at most 128 characters of [A-Za-z0-9._-] is kept,
// anything else is replaced by a new random one. The ID is sent to the web
// app and the backend and returned to the browser.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Header is the header that carries the request ID (X-Request-ID), in the
// canonical form of net/http, so that Header.Get and Set need not
// canonicalize it on every request.
const Header = "X-Request-Id"

type ctxKey struct{}

// NewContext returns a copy of ctx that carries id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the request ID in ctx, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Accept returns in if it is a valid incoming request ID, else a new one.
func Accept(in string) string {
	if Valid(in) {
		return in
	}
	return New()
}

// Valid reports whether s is 1 to 128 characters of [A-Za-z0-9._-].
func Valid(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// New returns a random 32-character hex ID.
func New() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
