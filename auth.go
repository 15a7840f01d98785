package apilayer

import (
	"context"
	"net/http"
	"net/url"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/clientip"
	"github.com/apilayer/apilayer/requestid"
)

// Auth describes the identity of a request after the gateway's pipeline:
// authn.Auth, whose package a program can import without the gateway.
type Auth = authn.Auth

// The values of Auth.Bypassed.
const (
	BypassedExcluded = authn.BypassedExcluded // access.excludedPaths
	BypassedAuthAPI  = authn.BypassedAuthAPI  // authApi.bypassPaths (authApi.enabled false)
)

// AuthFrom returns the identity the gateway attached to a request's
// context (authn.FromContext). Outside the gateway it returns the zero Auth
// (anonymous).
func AuthFrom(ctx context.Context) Auth { return authn.FromContext(ctx) }

// reqContext holds a request's context values, in one allocation: the
// request ID and the client, the context of every phase of the pipeline;
// and the Auth, in a layer of its own that only the request handed on
// (to the web app, the API proxy, Middleware's next, AfterAuth) reaches.
// Each layer is set once, before anything can read it, and never changes.
type reqContext struct {
	id   requestid.Context
	ip   clientip.Context
	auth authn.Context
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
	c.auth.Init(&c.ip, a)
	r = r.WithContext(&c.auth)
	r.URL = u
	return r
}
