package authn

import (
	"context"
	"encoding/json"
	"time"
)

// Auth describes the identity of a request after the gateway's pipeline,
// including any refresh or guest minting it did (next-api-layer's
// AuthResult and getServerUser, without their stale-token defects).
type Auth struct {
	// Authenticated is true for a valid non-guest token.
	Authenticated bool
	// Guest is true for a valid guest token, including one minted in this
	// request.
	Guest bool
	// TokenType is the token's type ("user", "guest", or another type the
	// backend uses); empty without a token.
	TokenType string
	// User is the user object from the backend (or the claims in local
	// mode), without any token field. Nil for anonymous visitors and for a
	// guest minted in this request.
	User map[string]any
	// UserJSON is User as JSON, as the web app receives it in X-Auth-User.
	UserJSON json.RawMessage
	// Token is the effective token: the one refreshed or minted in this
	// request, else the cookie's.
	Token string
	// Bypassed is BypassedExcluded or BypassedAuthAPI when the request
	// skipped authentication (access.excludedPaths, authApi.bypassPaths);
	// empty otherwise.
	Bypassed string
	// Locale is the request's locale: the path's locale prefix, else the
	// i18n.cookie cookie, else the best match of Accept-Language, else
	// i18n.defaultLocale. It is "" when i18n is off.
	Locale string
	// Stale is true when the identity was served from the last good
	// validation because the backend was unavailable (validate.staleIfError).
	Stale bool
}

// The values of Auth.Bypassed.
const (
	BypassedExcluded = "excluded" // access.excludedPaths
	BypassedAuthAPI  = "auth-api" // authApi.bypassPaths (authApi.enabled false)
)

type authKey struct{}

// FromContext returns the identity the gateway attached to a request's
// context. Outside the gateway it returns the zero Auth (anonymous).
func FromContext(ctx context.Context) Auth {
	if a, _ := ctx.Value(authKey{}).(*Auth); a != nil {
		return *a
	}
	return Auth{}
}

// NewContext returns a copy of ctx that carries a, for FromContext: to test
// a handler that runs behind the gateway.
func NewContext(ctx context.Context, a Auth) context.Context {
	c := new(Context)
	c.Init(ctx, a)
	return c
}

// Context is a context.Context that carries an Auth for FromContext: what
// NewContext returns. A server that keeps a request's values in one
// allocation embeds a Context in it and calls Init once, before the
// context is used; it never changes afterwards.
type Context struct {
	parent context.Context
	a      Auth
}

// Init makes c the context parent with the identity a.
func (c *Context) Init(parent context.Context, a Auth) { c.parent, c.a = parent, a }

// Auth returns the identity c carries, for the server that made it.
func (c *Context) Auth() *Auth { return &c.a }

// Deadline, Done and Err are parent's.
func (c *Context) Deadline() (time.Time, bool) { return c.parent.Deadline() }
func (c *Context) Done() <-chan struct{}       { return c.parent.Done() }
func (c *Context) Err() error                  { return c.parent.Err() }

// Value returns the Auth for this package's key, else parent's value.
func (c *Context) Value(key any) any {
	if key == (authKey{}) {
		return &c.a
	}
	return c.parent.Value(key)
}
