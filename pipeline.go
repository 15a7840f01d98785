package apilayer

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/apilayer/apilayer/access"
	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/i18n"
	"github.com/apilayer/apilayer/peer"
	"github.com/apilayer/apilayer/proxy"
	"github.com/apilayer/apilayer/ratelimit"
	"github.com/apilayer/apilayer/requestid"
	"github.com/apilayer/apilayer/respond"
	"github.com/apilayer/apilayer/route"
	"github.com/apilayer/apilayer/session"
)

// serve is the whole request pipeline (docs/how-it-works.md), one phase per
// line, outermost first. Every path takes it: pages, the API proxy and the
// built-in auth API pass through the same authentication phase, whose
// audit events, hooks, metrics and cookie changes are the same for all.
// A phase returns true when it has answered the request. next receives the
// page requests that are allowed through (the upstream proxy, or the next
// handler of Middleware).
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if g.operational(w, r) { // health, metrics, peers: never authenticated, never forwarded
		return
	}
	x := g.begin(w, r, next) // recorder, request ID, client IP, forged identity headers removed
	defer func() {
		g.finish(x, recover())
		x.put()
	}()

	if g.describe(x) || // forward-auth (authz.path): the rest runs on the request a proxy describes
		g.preflight(x) || // CORS: preflights answered, CORS headers on every later answer
		g.route(x) || // the path cleaned; page, API, app route or auth endpoint; locale
		g.limit(x, false) || // rate limit by client IP: a blocked request costs no backend call
		g.checkOrigin(x) || // CSRF, Fetch Metadata part: cross-site refused before any backend call
		g.beforeAuth(x) || // the BeforeAuth hook may answer (it cannot forward)
		g.unauthenticated(x) || // excluded and bypassed paths: forwarded without authentication
		g.validate(x) || // the token cascade's token validated (cached, single-flight): once
		g.limit(x, true) || // rate limit by user, keyed by the user just validated
		g.authenticate(x) || // refresh, guest minting; audit, OnRefreshFail hook, metrics
		g.decide(x) || // access decision: route lists, token types, role rules
		g.commit(x) || // cookie changes written, on whatever answer ends the request
		g.authAPI(x) || // the built-in auth API answers here
		g.checkToken(x) || // CSRF, double-submit part: it needs the session's user
		g.respond(x) || // refusals and redirects of the decision; locale redirects
		g.afterAuth(x) { // the AfterAuth hook may refuse
		return
	}
	g.forward(x) // to the web app or the API proxy, with the verified identity
}

// operational answers the health and metrics paths, and the peer
// endpoints under /_apilayer/peer/ in any spelling (store.peers: signed
// requests only, else 403). A health path in another spelling is answered
// once the path is cleaned (route).
func (g *Gateway) operational(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.URL.Path == g.cfg.Health.Path:
		g.health(w, r)
	case g.metricsH != nil && r.URL.Path == g.cfg.Metrics.Path:
		g.metricsH.ServeHTTP(w, r)
	case g.jwksH != nil && r.URL.Path == assertion.JWKSPath:
		g.jwksH.ServeHTTP(w, r)
	case peer.Reserved(r.URL.EscapedPath()):
		g.peerH.ServeHTTP(w, r)
	default:
		return false
	}
	return true
}

// begin makes the request's exchange: the recorder (access log, metrics,
// recovery), the server span (tracing: a child of the request's
// traceparent), the request ID (kept when well-formed, sent on to the web
// app and the backend, returned to the browser), and who the client is
// (forwarded headers believed only from trusted proxies). Identity headers
// a client forged, in any spelling, are gone before any hook, the auth API
// or a proxy sees the request.
func (g *Gateway) begin(w http.ResponseWriter, r *http.Request, next http.Handler) *exchange {
	x := exchanges.Get().(*exchange)
	x.next = next
	x.rec = &recorder{ResponseWriter: w, start: time.Now(), kind: "page"}
	x.w = x.rec
	x.id = requestid.Accept(r.Header.Get(requestid.Header))
	x.info = g.clientIP.Resolve(r)
	x.r, x.url = r, r.URL
	parent := r.Context()
	if g.tracer != nil {
		parent, x.span = g.startSpan(r)
	}
	x.rc = newReqContext(parent, x.id, x.info)
	x.ctx = &x.rc.ip
	idv := x.rc.idv[:] // Set would replace it, Add copy it: safe to share
	x.w.Header()[requestid.Header] = idv
	r.Header[requestid.Header] = idv
	proxy.StripInternal(r.Header)
	if g.assertionName != "" {
		proxy.StripName(r.Header, g.assertionName) // identity.header under another name
	}
	return x
}

// preflight applies CORS: preflights are answered here, and every later
// response to an allowed origin, refusals included, carries the CORS
// headers.
func (g *Gateway) preflight(x *exchange) bool {
	return g.cors != nil && g.cors.Apply(x.w, x.r)
}

// route cleans the path before anything is matched on it (a path escaping
// "/" is 400), tells what the request is, and resolves its locale: the path
// prefix, else the cookie, Accept-Language and the default. Route lists are
// matched on the path without the locale prefix.
func (g *Gateway) route(x *exchange) bool {
	raw := x.r.URL.EscapedPath()
	clean, ok := route.Clean(raw)
	rawAPI := route.Under(raw, g.prefix)
	if !ok || (rawAPI && !route.Under(clean, g.prefix)) {
		g.refuse(x.w, x.r, rawAPI, http.StatusBadRequest, respond.MsgBadPath)
		return true
	}
	x.url = withPath(x.r.URL, clean)
	x.clean, x.match = clean, clean
	switch {
	case !route.Under(clean, g.prefix):
	case g.app.Match(clean):
		x.kind = appKind // the web app's own route under the prefix: a page
	default:
		x.kind, x.rec.kind = apiKind, "api"
		if x.ep = g.authEndpoint(clean); x.ep != "" {
			x.kind, x.rec.kind = authKind, "auth"
		}
	}
	if strings.TrimSuffix(clean, "/") == strings.TrimSuffix(g.cfg.Health.Path, "/") {
		g.health(x.w, x.r) // /_apilayer/health/ or //_apilayer/health: still never forwarded
		return true
	}
	if g.i18n != nil {
		x.loc = g.i18n.Resolve(x.r, clean, x.kind != pageKind)
		x.match = x.loc.Path
		if x.loc.Locale != "" {
			x.w.Header().Set(i18n.Header, x.loc.Locale)
		}
	}
	// Rate-limit rules and skipRoutes see the path as route lists do, and a
	// built-in endpoint by its own name. A router's prefetch of a page is
	// not counted (rateLimit.skipPrefetch); an API request claiming to be
	// one is.
	x.limited = x.match
	if x.ep != "" {
		x.limited = g.prefix + "/auth/" + x.ep
	}
	x.counted = g.limiter != nil && (x.kind == apiKind || x.kind == authKind ||
		!*g.cfg.RateLimit.SkipPrefetch || !ratelimit.IsPrefetch(x.r))
	return false
}

// limit counts the request once: by client IP before anything else costs
// a backend call, or (rateLimit.by: user, byUser) keyed by the user whose
// token was just validated; guests, anonymous visitors and invalid tokens
// by IP.
func (g *Gateway) limit(x *exchange, byUser bool) bool {
	if !x.counted || byUser != g.byUser {
		return false
	}
	key := g.clientKey(x.info.IP)
	if byUser {
		if u := x.val.User(); u != nil {
			key = "user:" + userID(u.User)
		}
	}
	return !g.allow(x, key)
}

// beforeAuth runs the BeforeAuth hook, with the request ID and client in
// the request's context and the cleaned path in its URL.
func (g *Gateway) beforeAuth(x *exchange) bool {
	if g.hooks.BeforeAuth == nil {
		return false
	}
	r := x.r.WithContext(x.ctx)
	r.URL = x.url
	return g.hooks.BeforeAuth(x.w, r)
}

// unauthenticated forwards the paths that are not authenticated at all
// (access.excludedPaths; authApi.bypassPaths with the auth API off), and
// refuses API paths no browser may use.
func (g *Gateway) unauthenticated(x *exchange) bool {
	x.toks = g.jar.read(x.r)
	ip := x.info.IP.String()
	x.in = session.Input{
		User: x.toks.user, Guest: x.toks.guest, Refresh: x.toks.refresh,
		Client:   ip,
		ClientID: x.r.UserAgent() + "|" + ip,
	}
	x.secure = g.jar.secureFor(x.info.Proto)
	bare := ""
	switch {
	case g.access.Excluded(x.clean) || g.access.Excluded(x.match):
		bare = BypassedExcluded
	case g.bypass.Match(x.clean):
		bare = BypassedAuthAPI
	}
	switch {
	case x.kind == authKind && x.sub != notSub:
		// The built-in auth API is the gateway's to answer, not the proxy's
		// to forward (a backend's login would hand tokens to page script):
		// the proxy routes it to the gateway without forward-auth.
		respond.Error(x.w, http.StatusNotFound, respond.MsgNotFound)
	case x.kind == authKind && g.authPrecheck(x):
	case bare != "":
		if x.needToken {
			// The double-submit token is bound to the user, if any.
			x.val = g.sessions.Validate(x.ctx, x.in)
			if !g.checkTokenFor(x, bindingOfUser(x.val.User())) {
				return true
			}
		}
		g.forwardBare(x, bare)
	case x.kind == apiKind && g.tokenEndpoint(x.clean):
		// The backend's login, refresh... in another spelling: its answer
		// would hand tokens to page script.
		respond.Error(x.w, http.StatusNotFound, respond.MsgNotFound)
	case x.kind == apiKind && g.cfg.Access.BlockBrowserAPIAccess && access.AcceptsHTML(x.r) && !access.IsFetch(x.r):
		g.redirect(x, g.cfg.Access.HomePath)
	default:
		return false
	}
	return true
}

// validate validates the token the cascade starts from (the user cookie,
// else the guest cookie) without refreshing or minting anything yet, so a
// rate limit by user knows the user. A forced refresh validates only when
// that limit needs it.
func (g *Gateway) validate(x *exchange) bool {
	if x.ep != "refresh" || g.byUser {
		x.val = g.sessions.Validate(x.ctx, x.in)
	}
	return false
}

// authenticate completes the token cascade (refresh, successor records,
// guest minting; POST {prefix}/auth/refresh forces a refresh) and reports
// it: audit events, the OnRefreshFail hook, metrics. The auth API's login,
// register and logout only needed the validation: they start a session or
// end it themselves.
func (g *Gateway) authenticate(x *exchange) bool {
	switch x.ep {
	case "login", "register", "logout":
		return false
	case "refresh":
		x.out = g.sessions.Refresh(x.ctx, x.in)
	default:
		x.out = g.sessions.Finish(x.ctx, x.val)
	}
	x.authed = true
	g.emitSession(x)
	g.refreshFailed(x, string(x.out.Reason))
	g.metrics.Session(x.out.State.String(), refreshResult(x.out))
	return false
}

// decide applies the access decision to pages and API requests (the auth
// API decides for itself).
func (g *Gateway) decide(x *exchange) bool {
	if x.kind == authKind {
		return false
	}
	out := x.out
	req := access.Request{
		Path:      x.match,
		API:       x.kind == apiKind,
		App:       x.kind == appKind,
		Fetch:     x.kind != apiKind && access.IsFetch(x.r),
		Query:     x.url.RawQuery,
		State:     out.State,
		TokenType: typeOf(out),
		// No guest for want of the backend: 503, not 401 (docs/how-it-works.md).
		GuestUnavailable: out.GuestUnavailable,
	}
	if out.Identity != nil {
		req.User = out.Identity.User
	}
	if x.loc.Prefixed {
		req.Return = x.clean
	}
	if x.kind == apiKind {
		req.SkipAuth = g.skipAuth(x.r, x.clean)
		x.skip = req.SkipAuth
	}
	x.dec = g.access.Decide(req)
	if x.dec.Action == access.Redirect && g.i18n != nil {
		x.dec.Location = g.i18n.Localize(x.dec.Location, x.loc) // /tr/dashboard => /tr/login
	}
	if x.dec.Denied {
		g.emit(x, audit.TypeAccessDenied, false, bindingOf(out), map[string]any{"tokenType": req.TokenType})
	}
	return false
}

// commit writes the cookie changes of the session (or, for a token type
// that is not allowed, deletes every auth cookie), on whatever answer ends
// the request, a refusal included.
func (g *Gateway) commit(x *exchange) bool {
	x.eff = g.writeCookies(x.w, x.toks, x.out, x.dec.ClearAuth, x.secure)
	return false
}

// checkToken runs the CSRF double-submit check of pages and API requests
// with the session's user, then gives every visitor a CSRF token bound to
// its session, and the locale cookie. The check comes before a refusal for
// want of a token, so an anonymous request without the CSRF token learns
// nothing more.
func (g *Gateway) checkToken(x *exchange) bool {
	out := x.out
	if x.needToken && (x.dec.Action == access.Forward || out.State == session.StateAnonymous) {
		if out.State == session.StateUnavailable {
			// The backend is unavailable: the binding cannot be known.
			g.refuse(x.w, x.r, x.api(), http.StatusServiceUnavailable, respond.MsgUnavailable)
			return true
		}
		if !g.checkTokenFor(x, bindingOf(out)) {
			return true
		}
	}
	binding := bindingOf(out)
	if x.dec.ClearAuth {
		binding = ""
	}
	g.ensureCSRF(x, binding)
	if x.loc.SetCookie {
		c := g.i18n.Cookie(x.loc.Locale)
		c.Secure = x.secure
		http.SetCookie(x.w, c)
	}
	return false
}

// respond answers the refusals and redirects of the access decision, and
// the locale redirect of page routing (prefix as-needed or always), which
// the auth decision always wins over.
func (g *Gateway) respond(x *exchange) bool {
	d := x.dec
	switch d.Action {
	case access.Redirect:
		g.redirect(x, d.Location)
	case access.Refuse:
		if d.JSON {
			respond.Error(x.w, d.Status, d.Message)
		} else {
			respond.Page(x.w, d.Status, d.Message)
		}
	default:
		if x.loc.Redirect == "" {
			return false
		}
		g.redirect(x, x.loc.Redirect)
	}
	return true
}

// afterAuth makes the request handed on, with the verified identity (or
// none) for AuthFrom, and runs the AfterAuth hook, which may refuse it.
func (g *Gateway) afterAuth(x *exchange) bool {
	a := authOf(x.out, x.loc.Locale)
	if x.dec.Anonymous {
		a, x.eff = Auth{Locale: x.loc.Locale}, effective{}
	}
	x.r = x.rc.handOn(x.r, x.url, a)
	x.auth = x.rc.auth.Auth()
	return g.hooks.AfterAuth != nil && !g.hooks.AfterAuth(x.w, x.r, a)
}

// forward hands the request to the API proxy or to the web app; a
// forward-auth sub-request is answered instead (allowSub).
func (g *Gateway) forward(x *exchange) {
	if x.sub != notSub {
		g.allowSub(x, x.auth)
		return
	}
	if x.kind == apiKind {
		g.forwardAPI(x)
		return
	}
	g.forwardPage(x)
}

// refuse answers a request the gateway will not forward: JSON for API and
// fetch requests, a small HTML page otherwise.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, isAPI bool, status int, msg string) {
	if isAPI || access.IsFetch(r) {
		respond.Error(w, status, msg)
		return
	}
	respond.Page(w, status, msg)
}

// withPath returns u with the cleaned (escaped) path: u itself when its
// path is already clean, else a copy (the caller's URL is never changed).
func withPath(u *url.URL, clean string) *url.URL {
	if u.RawPath == "" && u.Path == clean {
		return u // nothing changes: no copy
	}
	c := *u
	dec, err := url.PathUnescape(clean)
	if err != nil {
		dec = clean
	}
	c.Path, c.RawPath = dec, ""
	if c.EscapedPath() != clean {
		c.RawPath = clean
	}
	return &c
}
