package apilayer

import (
	"context"
	"net/http"
)

// Hooks let a Go program take part in the pipeline (next-api-layer's
// beforeAuth, afterAuth and onRefreshFail) without being able to weaken it:
// forged identity headers are stripped whatever a hook does, and a hook can
// refuse a request the pipeline would forward but can never forward one the
// pipeline refused or redirected (next-api-layer's routing-authority rule).
type Hooks struct {
	// BeforeAuth runs after the CSRF origin check and, with rateLimit.by: ip,
	// after rate limiting; before excluded paths and authentication (with
	// rateLimit.by: user, the limit is applied after it, once the token is
	// validated). Returning true means it has written the response and the
	// request ends there; it cannot forward.
	BeforeAuth func(w http.ResponseWriter, r *http.Request) (handled bool)

	// AfterAuth runs when the pipeline has decided to forward a request,
	// with the identity after any refresh or guest minting (the same Auth as
	// AuthFrom). It may add response headers, or write a response itself
	// and return false to stop the request; returning true forwards it.
	// It is not called for requests the pipeline refuses or redirects: an
	// auth decision is final.
	AfterAuth func(w http.ResponseWriter, r *http.Request, a Auth) (proceed bool)

	// OnRefreshFail is told when a refresh failed, with the reason
	// ("expired", "revoked", "reuse", "network", "unknown"). It runs on the
	// request's goroutine: keep it short. A panic in it is recovered and
	// logged.
	OnRefreshFail func(ctx context.Context, reason string, r *http.Request)
}

// WithHooks installs hooks (see Hooks).
func WithHooks(h Hooks) Option { return func(o *options) { o.hooks = h } }

func (g *Gateway) refreshFailed(x *exchange, reason string) {
	if g.hooks.OnRefreshFail == nil || reason == "" {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			g.log.Error("OnRefreshFail hook panicked", "reason", reason)
		}
	}()
	r := x.r.WithContext(x.ctx)
	r.URL = x.url
	g.hooks.OnRefreshFail(x.ctx, reason, r)
}
