package apilayer

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/apilayer/apilayer/clientip"
	"github.com/apilayer/apilayer/requestid"
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
	// header is the X-Auth-User value (UserJSON in base64).
	header string
	// truncated: UserJSON was reduced to fit X-Auth-User.
	truncated bool
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

// AuthFrom returns the identity the gateway attached to a request's
// context. Outside the gateway it returns the zero Auth (anonymous).
func AuthFrom(ctx context.Context) Auth {
	if a, _ := ctx.Value(authKey{}).(*Auth); a != nil {
		return *a
	}
	return Auth{}
}

// reqContext holds a request's context values, in one allocation: the
// request ID and the client, the context of every phase of the pipeline;
// and the Auth, in a layer of its own that only the request handed on
// (to the web app, the API proxy, Middleware's next, AfterAuth) reaches.
// Each layer is set once, before anything can read it, and never changes.
type reqContext struct {
	id   requestid.Context
	ip   clientip.Context
	auth authContext
	idv  [1]string // the X-Request-Id header value
}

// newReqContext returns the context values of a request from parent.
func newReqContext(parent context.Context, id string, info clientip.Info) *reqContext {
	c := &reqContext{idv: [1]string{id}}
	c.id.Init(parent, id)
	c.ip.Init(&c.id, info)
	return c
}

// handOn returns a copy of r (the server's request, which is never
// changed) for the handler after the pipeline: its context carries a for
// AuthFrom, its URL is u (the cleaned path).
func (c *reqContext) handOn(r *http.Request, u *url.URL, a Auth) *http.Request {
	c.auth = authContext{parent: &c.ip, a: a}
	r = r.WithContext(&c.auth)
	r.URL = u
	return r
}

// authContext is the context layer that carries a request's Auth.
type authContext struct {
	parent context.Context
	a      Auth
}

func (c *authContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }
func (c *authContext) Done() <-chan struct{}       { return c.parent.Done() }
func (c *authContext) Err() error                  { return c.parent.Err() }

func (c *authContext) Value(key any) any {
	if key == (authKey{}) {
		return &c.a
	}
	return c.parent.Value(key)
}
