package apilayer

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/apilayer/apilayer/access"
	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/i18n"
	"github.com/apilayer/apilayer/proxy"
	"github.com/apilayer/apilayer/ratelimit"
	"github.com/apilayer/apilayer/requestid"
	"github.com/apilayer/apilayer/respond"
	"github.com/apilayer/apilayer/route"
	"github.com/apilayer/apilayer/session"
)

// serve is the whole request pipeline of SPEC.md section 4, outermost step
// first. pages receives the page requests that are allowed through (the
// upstream proxy, or the next handler of Middleware).
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, pages http.Handler) {
	// 1. Health and metrics: never authenticated, never forwarded.
	// (A health path in another spelling is answered after step 6.)
	if r.URL.Path == g.cfg.Health.Path {
		g.health(w, r)
		return
	}
	if g.metricsH != nil && r.URL.Path == g.cfg.Metrics.Path {
		g.metricsH.ServeHTTP(w, r)
		return
	}

	// 2. Recover, access log and metrics.
	rec := newRecorder(w)
	w = rec
	defer func() { g.finish(rec, r, recover()) }()

	// 3. Request ID: kept when well-formed, sent on to the web app and the
	// backend, returned to the browser.
	id := requestid.Accept(r.Header.Get(requestid.Header))
	idv := []string{id} // Set would replace it, Add copy it: safe to share
	w.Header()[requestid.Header] = idv

	// 4. Client IP: forwarded headers believed only from trusted proxies.
	// Both go into the request's context with, later, its Auth.
	info := g.clientIP.Resolve(r)
	r = withContext(r, id, info)
	ctx := r.Context()
	r.Header[requestid.Header] = idv
	// Identity headers a client forged, in any spelling, are gone before
	// any hook, the auth API or a proxy sees the request.
	proxy.StripInternal(r.Header)

	// 5. CORS: preflights are answered here, and every later response to an
	// allowed origin, refusals included, carries the CORS headers.
	if g.cors != nil && g.cors.Apply(w, r) {
		return
	}

	// 6. The path is cleaned before anything is matched on it.
	raw := r.URL.EscapedPath()
	clean, ok := route.Clean(raw)
	rawAPI := route.Under(raw, g.prefix)
	if !ok || (rawAPI && !route.Under(clean, g.prefix)) {
		g.refuse(w, r, rawAPI, http.StatusBadRequest, respond.MsgBadPath)
		return
	}
	r.URL = withPath(r.URL, clean)
	isAPI := route.Under(clean, g.prefix)
	// app: a route of the web app under the prefix (api.appRoutes); from
	// here on it is a page. ep: a built-in auth API endpoint, in any case.
	app, ep := false, ""
	if isAPI {
		if app = g.app.Match(clean); app {
			isAPI = false
		} else {
			rec.kind = "api"
			ep = g.authEndpoint(clean)
		}
	}
	if strings.TrimSuffix(clean, "/") == strings.TrimSuffix(g.cfg.Health.Path, "/") {
		g.health(w, r) // /_apilayer/health/ or //_apilayer/health: still never forwarded
		return
	}

	// 7. Locale: the path prefix, else the cookie, Accept-Language and the
	// default. Route lists are matched on the path without the prefix.
	match, loc := clean, i18n.Result{}
	if g.i18n != nil {
		loc = g.i18n.Resolve(r, clean, isAPI || app)
		match = loc.Path
		if loc.Locale != "" {
			w.Header().Set(i18n.Header, loc.Locale)
		}
	}
	// Rate-limit rules and skipRoutes see the path as route lists do, and
	// a built-in endpoint by its own name.
	limited := match
	if ep != "" {
		limited = g.prefix + "/auth/" + ep
	}

	// 8. Rate limit by client IP: a blocked request costs no backend call.
	// A router's prefetch of a page is not counted (rateLimit.skipPrefetch);
	// an API request claiming to be one is.
	counted := g.limiter != nil && (isAPI || !*g.cfg.RateLimit.SkipPrefetch || !ratelimit.IsPrefetch(r))
	if counted && !g.byUser && !g.allow(w, r, limited, g.clientKey(info.IP)) {
		return
	}

	// 9. CSRF, Fetch Metadata part: a cross-site request is refused before
	// it costs a backend call. needToken: the double-submit part must pass
	// once the session is known.
	needToken, ok := g.checkOrigin(w, r)
	if !ok {
		return
	}

	// 10. The BeforeAuth hook may answer the request itself (it cannot forward).
	if g.hooks.BeforeAuth != nil && g.hooks.BeforeAuth(w, r) {
		return
	}

	// 11. Paths that are not authenticated at all.
	toks := g.jar.read(r)
	bare := ""
	switch {
	case g.access.Excluded(clean) || g.access.Excluded(match):
		bare = BypassedExcluded
	case g.bypass.Match(clean):
		bare = BypassedAuthAPI
	}
	if bare != "" {
		if needToken && !g.checkToken(w, r, g.identify(ctx, toks)) {
			return
		}
		g.forwardBare(w, r, isAPI, pages, Auth{Bypassed: bare, Locale: loc.Locale})
		return
	}
	if isAPI && ep == "" && g.tokenEndpoint(clean) {
		// The backend's login, refresh... in another spelling: its answer
		// would hand tokens to page script.
		respond.Error(w, http.StatusNotFound, respond.MsgNotFound)
		return
	}
	if isAPI && g.cfg.Access.BlockBrowserAPIAccess && access.AcceptsHTML(r) && !access.IsFetch(r) {
		http.Redirect(w, r, g.cfg.Access.HomePath, http.StatusTemporaryRedirect)
		return
	}

	// 12. Rate limit by user: keyed by the user's id once its token is
	// validated (cached); guests, anonymous visitors and invalid tokens by IP.
	if counted && g.byUser && !g.allow(w, r, limited, g.userKey(ctx, toks, info.IP)) {
		return
	}

	// 13. Token cascade, validation (cached, single-flight), refresh and
	// guest minting. The built-in auth API runs its own part of it.
	if ep != "" {
		rec.kind = "auth"
		g.serveAuthAPI(w, r, ep, toks, needToken)
		return
	}
	out := g.sessions.Authenticate(ctx, g.input(r, toks, info.IP.String()))
	g.emitSession(r, toks, out)
	g.refreshFailed(r, string(out.Reason))
	g.metrics.Session(stateName(out), refreshResult(out))

	// 14. The access decision.
	req := access.Request{
		Path:      match,
		API:       isAPI,
		App:       app,
		Fetch:     !isAPI && access.IsFetch(r),
		Query:     r.URL.RawQuery,
		State:     stateOf(out),
		TokenType: typeOf(out),
		// No guest for want of the backend: 503, not 401 (docs/how-it-works.md).
		GuestUnavailable: out.GuestUnavailable,
	}
	if out.Identity != nil {
		req.User = out.Identity.User
	}
	if loc.Prefixed {
		req.Return = clean
	}
	if isAPI {
		req.SkipAuth = g.skipAuth(r, clean)
	}
	d := g.access.Decide(req)
	if d.Action == access.Redirect && g.i18n != nil {
		d.Location = g.i18n.Localize(d.Location, loc) // /tr/dashboard => /tr/login
	}
	if d.Denied {
		g.emit(r, audit.TypeAccessDenied, false, bindingOf(out), map[string]any{"tokenType": req.TokenType})
	}

	// 15. Cookie changes are written on whatever response ends the request;
	// every visitor gets a CSRF token bound to its session.
	secure := g.jar.secureFor(info.Proto)
	eff := g.writeCookies(w, toks, out, d.ClearAuth, secure)
	// 16. CSRF, double-submit part: it needs the user, known only now. It
	// comes before a refusal for want of a token, so an anonymous request
	// without the CSRF token learns nothing more.
	if needToken && (d.Action == access.Forward || out.State == session.StateAnonymous) {
		if out.State == session.StateUnavailable {
			// The backend is unavailable: the binding cannot be known.
			g.refuse(w, r, isAPI, http.StatusServiceUnavailable, respond.MsgUnavailable)
			return
		}
		if !g.checkToken(w, r, bindingOf(out)) {
			return
		}
	}
	if !d.ClearAuth {
		g.ensureCSRF(w, r, bindingOf(out), secure)
	} else {
		g.ensureCSRF(w, r, "", secure)
	}
	if loc.SetCookie {
		c := g.i18n.Cookie(loc.Locale)
		c.Secure = secure
		http.SetCookie(w, c)
	}
	// 17. A locale redirect of page routing (prefix as-needed or always) comes
	// after the auth decision, which always wins over it.
	if d.Action == access.Forward && loc.Redirect != "" {
		http.Redirect(w, r, loc.Redirect, http.StatusTemporaryRedirect)
		return
	}

	switch d.Action {
	case access.Redirect:
		http.Redirect(w, r, d.Location, http.StatusTemporaryRedirect)
		return
	case access.Refuse:
		if d.JSON {
			respond.Error(w, d.Status, d.Message)
		} else {
			respond.Page(w, d.Status, d.Message)
		}
		return
	}

	// 18. AfterAuth hook, then forward with the verified identity (or none).
	var a *Auth
	if d.Anonymous {
		r, a = withAuth(r, Auth{Locale: loc.Locale})
		eff = effective{}
	} else {
		r, a = withAuth(r, authOf(out, loc.Locale))
	}
	if g.hooks.AfterAuth != nil && !g.hooks.AfterAuth(w, r, *a) {
		return
	}
	if isAPI {
		g.forwardAPI(w, r, a, req.SkipAuth)
		return
	}
	g.forwardPage(w, r, pages, a, eff)
}

// effective holds the token cookies as they stand after this request's
// cookie changes: what the web app's server code should see.
type effective struct {
	user, guest, refresh string
	// changed is set when a value differs from the request's Cookie header.
	changed bool
	// refreshed is the token minted or refreshed in this request.
	refreshed string
}

// writeCookies writes the cookie changes the session layer decided, or, when
// clear is set, deletes every auth cookie the request carried.
func (g *Gateway) writeCookies(w http.ResponseWriter, t tokens, out session.Outcome, clear, secure bool) effective {
	for _, name := range t.junk {
		g.jar.del(w, name, secure)
	}
	if clear {
		for _, c := range [...]struct{ name, value string }{{g.jar.user, t.user}, {g.jar.guest, t.guest}, {g.jar.refresh, t.refresh}} {
			if c.name != "" && c.value != "" {
				g.jar.del(w, c.name, secure)
			}
		}
		return effective{changed: true}
	}
	e := effective{user: t.user, guest: t.guest, refresh: t.refresh, changed: len(t.junk) > 0}
	change := func(name string, carried string, set string, del bool, dst *string) {
		switch {
		case set != "":
			g.jar.set(w, name, set, secure)
			*dst, e.changed = set, true
		case del && carried != "":
			g.jar.del(w, name, secure)
			*dst, e.changed = "", true
		}
	}
	change(g.jar.user, t.user, out.Set.User, out.Delete.User, &e.user)
	change(g.jar.guest, t.guest, out.Set.Guest, out.Delete.Guest, &e.guest)
	if g.jar.refresh != "" {
		change(g.jar.refresh, t.refresh, out.Set.Refresh, out.Delete.Refresh, &e.refresh)
	}
	if out.Refreshed || out.Minted {
		e.refreshed = out.Token
	}
	return e
}

// forwardBare forwards a request that skips authentication. Forged identity
// headers are stripped all the same.
func (g *Gateway) forwardBare(w http.ResponseWriter, r *http.Request, isAPI bool, pages http.Handler, a Auth) {
	g.stripAfterHooks(r.Header)
	if a.Locale != "" {
		r.Header.Set(proxy.HeaderLocale, a.Locale)
	}
	if g.cfg.Upstream.HideTokens {
		g.rewriteCookieHeader(r.Header, effective{}, true)
	}
	r, _ = withAuth(r, a)
	if isAPI && a.Bypassed == BypassedExcluded {
		r.Header.Del("Authorization")
		g.api.ServeHTTP(w, r)
		return
	}
	pages.ServeHTTP(w, r)
}

// forwardPage hands a page request to the web app with the headers of
// SPEC.md section 4.4.
func (g *Gateway) forwardPage(w http.ResponseWriter, r *http.Request, pages http.Handler, a *Auth, e effective) {
	h := r.Header
	g.stripAfterHooks(h)
	if a.Locale != "" {
		h.Set(proxy.HeaderLocale, a.Locale)
	}
	if a.TokenType != "" {
		h.Set(proxy.HeaderTokenType, a.TokenType)
	}
	if a.header != "" {
		h.Set(proxy.HeaderAuthUser, a.header)
		if a.truncated {
			h.Set(proxy.HeaderAuthUserTruncated, "1")
		}
	}
	hide := g.cfg.Upstream.HideTokens
	if e.refreshed != "" && !hide {
		h.Set(proxy.HeaderRefreshed, e.refreshed)
	}
	if g.cfg.Upstream.PassAuthorization {
		h.Del("Authorization")
		if a.Token != "" {
			h.Set("Authorization", "Bearer "+a.Token)
		}
	}
	if e.changed || hide || !g.cookiesAsEffective(h, e) {
		g.rewriteCookieHeader(h, e, hide)
	}
	pages.ServeHTTP(w, r)
}

// forwardAPI hands an API request to the API proxy with the effective
// token, unless the endpoint needs none.
func (g *Gateway) forwardAPI(w http.ResponseWriter, r *http.Request, a *Auth, skip bool) {
	h := r.Header
	g.stripAfterHooks(h)
	h.Del("Authorization")
	if !skip && a.Token != "" {
		h.Set("Authorization", "Bearer "+a.Token)
	}
	g.api.ServeHTTP(w, r)
}

// stripAfterHooks removes identity headers a hook may have added: the
// request was stripped on arrival, so without hooks there is nothing to do.
func (g *Gateway) stripAfterHooks(h http.Header) {
	if g.hooks.BeforeAuth != nil || g.hooks.AfterAuth != nil {
		proxy.StripInternal(h)
	}
}

// skipAuth reports whether an API request is sent without a token:
// publicEndpoints, skipAuthByDefault or X-Skip-Auth: true.
func (g *Gateway) skipAuth(r *http.Request, clean string) bool {
	if g.cfg.API.SkipAuthByDefault || r.Header.Get(proxy.HeaderSkipAuth) == "true" {
		return true
	}
	rest, _ := route.Trim(clean, g.prefix)
	return g.public.Match(rest)
}

// rewriteCookieHeader makes the Cookie header the web app receives carry the
// effective tokens: a refreshed or minted token replaces the stale value and
// a deleted one is removed; with hide, no auth cookie is forwarded at all.
func (g *Gateway) rewriteCookieHeader(h http.Header, e effective, hide bool) {
	lines := h.Values("Cookie")
	if len(lines) == 0 && (hide || (e.user == "" && e.guest == "" && e.refresh == "")) {
		return
	}
	var b strings.Builder
	add := func(name, value string) {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(value)
	}
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if g.isAuthCookie(trimName(name)) {
				continue
			}
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(part)
		}
	}
	if !hide {
		for _, c := range [...]struct{ name, value string }{{g.jar.user, e.user}, {g.jar.guest, e.guest}, {g.jar.refresh, e.refresh}} {
			if c.name != "" && c.value != "" {
				add(c.name, c.value)
			}
		}
	}
	if b.Len() == 0 {
		h.Del("Cookie")
		return
	}
	h.Set("Cookie", b.String())
}

// cookiesAsEffective reports whether every auth cookie in the Cookie header
// already has its effective value, once (the common case: nothing to
// rewrite, and no allocation to find it out). Names are compared trimmed of
// spaces and tabs, as lenient cookie parsers read them: "userAuthToken =x"
// is the user cookie to a web app, so it must be rewritten too.
func (g *Gateway) cookiesAsEffective(h http.Header, e effective) bool {
	var seen [3]bool
	for _, line := range h.Values("Cookie") {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			name, value, _ := strings.Cut(part, "=")
			if name != trimName(name) {
				if g.isAuthCookie(trimName(name)) {
					return false
				}
				continue
			}
			var want string
			var i int
			switch {
			case name == g.jar.user:
				want, i = e.user, 0
			case name == g.jar.guest:
				want, i = e.guest, 1
			case g.jar.refresh != "" && name == g.jar.refresh:
				want, i = e.refresh, 2
			default:
				continue
			}
			if value != want || want == "" || seen[i] {
				return false
			}
			seen[i] = true
		}
	}
	return true
}

// trimName is a cookie name as lenient parsers read it: without the spaces
// and tabs around it.
func trimName(name string) string { return strings.Trim(name, " \t") }

func (g *Gateway) isAuthCookie(name string) bool {
	return name == g.jar.user || name == g.jar.guest || (g.jar.refresh != "" && name == g.jar.refresh)
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

// stateName names a session state for metrics.
func stateName(out session.Outcome) string {
	return [...]string{access.Anonymous: "anonymous", access.Guest: "guest", access.User: "user",
		access.Expired: "expired", access.Unavailable: "unavailable"}[stateOf(out)]
}

// refreshResult is "ok", a failure reason, or "" when nothing was refreshed.
func refreshResult(out session.Outcome) string {
	switch {
	case out.Reason != "":
		return string(out.Reason)
	case out.Refreshed:
		return "ok"
	}
	return ""
}

func stateOf(out session.Outcome) access.State {
	switch out.State {
	case session.StateGuest:
		return access.Guest
	case session.StateUser:
		return access.User
	case session.StateExpired:
		return access.Expired
	case session.StateUnavailable:
		return access.Unavailable
	}
	return access.Anonymous
}

func typeOf(out session.Outcome) string {
	if out.Identity != nil {
		return out.Identity.Type
	}
	if out.State == session.StateGuest {
		return "guest"
	}
	return ""
}

// authOf describes the request's identity for AuthFrom and the forwarders.
func authOf(out session.Outcome, locale string) Auth {
	a := Auth{Token: out.Token, Stale: out.Stale, Locale: locale}
	switch out.State {
	case session.StateUser:
		a.Authenticated = true
	case session.StateGuest:
		a.Guest = true
	default:
		return Auth{Locale: locale}
	}
	a.TokenType = typeOf(out)
	if out.Identity != nil {
		a.User = out.Identity.User
		a.UserJSON = out.Identity.UserJSON
		a.header = out.Identity.HeaderValue()
		a.truncated = out.Identity.Truncated
	}
	return a
}
