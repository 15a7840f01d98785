package apilayer

import (
	"context"
	"encoding/json"
	"net/http"

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
	a, _ := ctx.Value(authKey{}).(*Auth)
	if a == nil {
		return Auth{}
	}
	return *a
}

// reqContext is the context the pipeline gives each request: it carries
// the request ID, the client and, once decided, the Auth, for
// requestid.FromContext, clientip.FromContext and AuthFrom: one value
// instead of three context layers and a second Request copy.
type reqContext struct {
	context.Context
	id   string
	info clientip.Info
	// auth is set once, by withAuth, before the request is handed on; the
	// goroutines that read it (the handler's, and any it starts) come after.
	auth    Auth
	authSet bool
}

func (c *reqContext) Value(key any) any {
	switch key {
	case requestid.ContextKey():
		return &c.id
	case clientip.ContextKey():
		return &c.info
	case authKey{}:
		if c.authSet {
			return &c.auth
		}
	}
	return c.Context.Value(key)
}

// withContext returns r with the pipeline's request context.
func withContext(r *http.Request, id string, info clientip.Info) *http.Request {
	return r.WithContext(&reqContext{Context: r.Context(), id: id, info: info})
}

// withAuth returns r carrying a for AuthFrom, and the copy of a it carries.
// On the pipeline's own context the Auth is set in place.
func withAuth(r *http.Request, a Auth) (*http.Request, *Auth) {
	if c, ok := r.Context().(*reqContext); ok && !c.authSet {
		c.auth, c.authSet = a, true
		return r, &c.auth
	}
	p := new(Auth) // a copy, so that a itself stays on the stack
	*p = a
	return r.WithContext(context.WithValue(r.Context(), authKey{}, p)), p
}
