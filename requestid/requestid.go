// Package requestid carries the request ID (docs/api-reference.md): an
// incoming X-Request-ID of at most 128 characters of [A-Za-z0-9._-] is kept,
// anything else is replaced by a new random one. The ID is sent to the web
// app and the backend and returned to the browser.
package requestid

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"time"
)

// Header is the header that carries the request ID (X-Request-ID), in the
// canonical form of net/http, so that Header.Get and Set need not
// canonicalize it on every request.
const Header = "X-Request-Id"

type ctxKey struct{}

// NewContext returns a copy of ctx that carries id.
func NewContext(ctx context.Context, id string) context.Context {
	c := new(Context)
	c.Init(ctx, id)
	return c
}

// Context is a context.Context that carries a request ID for FromContext:
// what NewContext returns. A server that keeps a request's values in one
// allocation embeds a Context in it and calls Init once, before the
// context is used; it never changes afterwards.
type Context struct {
	parent context.Context
	id     string
}

// Init makes c the context parent with the request ID id.
func (c *Context) Init(parent context.Context, id string) { c.parent, c.id = parent, id }

// Deadline, Done and Err are parent's.
func (c *Context) Deadline() (time.Time, bool) { return c.parent.Deadline() }
func (c *Context) Done() <-chan struct{}       { return c.parent.Done() }
func (c *Context) Err() error                  { return c.parent.Err() }

// Value returns the request ID for this package's key, else parent's value.
func (c *Context) Value(key any) any {
	if key == (ctxKey{}) {
		return &c.id
	}
	return c.parent.Value(key)
}

// FromContext returns the request ID in ctx, or "".
func FromContext(ctx context.Context) string {
	if p, _ := ctx.Value(ctxKey{}).(*string); p != nil {
		return *p
	}
	return ""
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

// New returns a random 32-character hex ID. The 128 bits come from the
// runtime's per-thread ChaCha8 generator (math/rand/v2), seeded from the
// system's randomness: unique without a system call per request. An ID
// correlates log lines; it is not a secret and guards nothing.
func New() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	var out [32]byte
	hex.Encode(out[:], b[:])
	return string(out[:])
}
