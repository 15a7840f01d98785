package apilayer

import (
	"context"
	"net/http"
	"net/url"
	"sync"

	"github.com/apilayer/apilayer/access"
	"github.com/apilayer/apilayer/clientip"
	"github.com/apilayer/apilayer/i18n"
	"github.com/apilayer/apilayer/session"
	"go.opentelemetry.io/otel/trace"
)

// exchange is one request on its way through the pipeline: what each phase
// found out, for the phases after it. Exchanges are recycled (a pool): no
// pointer into one may outlive its request, so what handlers, hooks and
// goroutines can keep (the response writer, the request and its context)
// is allocated apart.
type exchange struct {
	rec  *recorder
	w    http.ResponseWriter // rec: what every phase writes to
	r    *http.Request       // the server's request, never changed: handOn makes the one handed on
	next http.Handler        // where an allowed page goes: the upstream, or Middleware's next
	rc   *reqContext         // the request's context values
	ctx  context.Context     // &rc.ip: request ID and client, the context of every phase
	url  *url.URL            // r.URL with the cleaned path

	id   string        // request ID
	info clientip.Info // who the client is
	span trace.Span    // the server span (tracing); nil without a tracer

	clean string      // the cleaned path (escaped form)
	match string      // clean without the locale prefix: what route lists see
	kind  kind        // page, API, app route or built-in auth endpoint
	ep    string      // the built-in auth endpoint ("login", "me"...) when kind is authKind
	loc   i18n.Result // the locale and its routing

	limited   string // the path rate-limit rules and skipRoutes see
	counted   bool   // the rate limiter counts this request
	needToken bool   // the CSRF double-submit token must pass once the session is known

	toks   tokens
	in     session.Input
	val    session.Validation // the cascade's token, validated
	out    session.Outcome    // the session after refresh and guest minting
	authed bool               // out is set (the auth API's login, register and logout only validate)
	dec    access.Decision
	skip   bool      // an API request sent without a token (publicEndpoints, skipAuthByDefault, X-Skip-Auth)
	secure bool      // cookies set on this response get Secure
	eff    effective // the auth cookies as the web app should see them
	auth   *Auth     // the identity the request is handed on with (in its context)

	sub    convention // a forward-auth sub-request (authz): r is the request it describes
	origin string     // a sub-request's "proto://host" for absolute redirects, or ""
}

// kind is what a request is to the pipeline.
type kind uint8

const (
	pageKind kind = iota // a page of the web app
	apiKind              // under api.prefix: the API proxy to the backend
	appKind              // under api.prefix but one of api.appRoutes: a page
	authKind             // a built-in auth API endpoint
)

// api reports whether the request goes to (or is answered like) the API:
// refusals are JSON.
func (x *exchange) api() bool { return x.kind == apiKind || x.kind == authKind }

// userHeader is the X-Auth-User value of the request's identity ("" for
// none, or when the request goes on without identity), and whether the
// user object was reduced to fit it.
func (x *exchange) userHeader() (string, bool) {
	id := x.out.Identity
	if id == nil || x.dec.Anonymous {
		return "", false
	}
	return id.HeaderValue(), id.Truncated
}

var exchanges = sync.Pool{New: func() any { return new(exchange) }}

// put returns x to the pool, emptied.
func (x *exchange) put() {
	*x = exchange{}
	exchanges.Put(x)
}
