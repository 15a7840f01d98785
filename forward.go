package apilayer

import (
	"net/http"
	"strings"

	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/proxy"
	"github.com/apilayer/apilayer/route"
)

// effective holds the token cookies as they stand after this request's
// cookie changes: what the web app's server code should see.
type effective struct {
	user, guest, refresh string
	// changed is set when a value differs from the request's Cookie header.
	changed bool
	// refreshed is the token minted or refreshed in this request.
	refreshed string
}

// forwardBare forwards a request that skips authentication (bypassed is
// BypassedExcluded or BypassedAuthAPI). Forged identity headers were
// stripped all the same.
func (g *Gateway) forwardBare(x *exchange, bypassed string) {
	if x.sub != notSub {
		g.allowSub(x, &Auth{Bypassed: bypassed, Locale: x.loc.Locale})
		return
	}
	r := x.r
	g.stripAfterHooks(r.Header)
	if x.loc.Locale != "" {
		r.Header.Set(proxy.HeaderLocale, x.loc.Locale)
	}
	if g.cfg.Upstream.HideTokens {
		g.rewriteCookieHeader(r.Header, effective{}, true)
	}
	r = x.rc.handOn(r, x.url, Auth{Bypassed: bypassed, Locale: x.loc.Locale})
	if x.kind == apiKind && bypassed == BypassedExcluded {
		r.Header.Del("Authorization")
		g.api.ServeHTTP(x.w, r)
		return
	}
	x.next.ServeHTTP(x.w, r)
}

// forwardPage hands a page request to the web app with the identity headers
// of docs/api-reference.md.
func (g *Gateway) forwardPage(x *exchange) {
	r, a, e := x.r, x.auth, x.eff
	h := r.Header
	g.stripAfterHooks(h)
	// The names are canonical: set without Header.Set's canonicalization
	// (every forwarded request).
	if a.Locale != "" {
		h[proxy.HeaderLocale] = []string{a.Locale}
	}
	if a.TokenType != "" {
		h[proxy.HeaderTokenType] = []string{a.TokenType}
	}
	if v, truncated := x.userHeader(); v != "" {
		h[proxy.HeaderAuthUser] = []string{v}
		if truncated {
			h[proxy.HeaderAuthUserTruncated] = []string{"1"}
		}
	}
	if g.signer != nil && a.TokenType != "" {
		if tok := g.assertion(a); tok != "" {
			h[g.assertionHeader()] = []string{tok}
		}
	}
	hide := g.cfg.Upstream.HideTokens
	if e.refreshed != "" && !hide {
		h[proxy.HeaderRefreshed] = []string{e.refreshed}
	}
	if g.cfg.Upstream.PassAuthorization {
		delete(h, "Authorization")
		if a.Token != "" {
			h["Authorization"] = []string{"Bearer " + a.Token}
		}
	}
	if e.changed || hide || !g.cookiesAsEffective(h, e) {
		g.rewriteCookieHeader(h, e, hide)
	}
	x.next.ServeHTTP(x.w, r)
}

// assertion is the signed identity (identity.sign) of an identity; a
// signing failure is logged and the request goes on without it ("").
func (g *Gateway) assertion(a *Auth) string {
	tok, err := g.signer.Sign(assertion.Identity{User: a.UserJSON, Type: a.TokenType, Locale: a.Locale})
	if err != nil {
		g.log.Error("identity.sign: signing failed", "error", err)
		return ""
	}
	return tok
}

// assertionHeader is identity.header in canonical form.
func (g *Gateway) assertionHeader() string {
	if g.assertionName != "" {
		return g.assertionName
	}
	return proxy.HeaderAuthAssertion
}

// forwardAPI hands an API request to the API proxy with the effective
// token, unless the endpoint needs none.
func (g *Gateway) forwardAPI(x *exchange) {
	h := x.r.Header
	g.stripAfterHooks(h)
	h.Del("Authorization")
	if tok := x.auth.Token; tok != "" && !x.skip {
		h.Set("Authorization", "Bearer "+tok)
	}
	g.api.ServeHTTP(x.w, x.r)
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
