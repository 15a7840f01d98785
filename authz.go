package apilayer

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/apilayer/apilayer/i18n"
	"github.com/apilayer/apilayer/proxy"
	"github.com/apilayer/apilayer/respond"
	"golang.org/x/net/http/httpguts"
)

// Forward-auth mode (authz.enabled, docs/forward-auth.md). A proxy that
// stays in front of the web app sends the gateway a sub-request that
// describes each request it received. describe makes the exchange stand
// for the described request, and every later phase of serve runs on it as
// on a request the gateway received itself. Only the answers differ:
// where the pipeline would forward, allowSub answers 200 with the identity
// headers; redirects go through redirect; refusals are written as usual.

// convention is how a sub-request describes the original request.
type convention uint8

const (
	notSub       convention = iota // an ordinary request
	subForwarded                   // X-Forwarded-Method and X-Forwarded-Uri: Traefik, Caddy
	subNginx                       // X-Original-Method and X-Original-URI (or X-Original-URL): nginx, ingress-nginx
	subPath                        // authz.path + the original path, the original method: Envoy's path_prefix
)

// The request headers that describe the original request, in canonical
// form.
const (
	headerForwardedMethod = "X-Forwarded-Method"
	headerForwardedURI    = "X-Forwarded-Uri"
	headerOriginalMethod  = "X-Original-Method"
	headerOriginalURI     = "X-Original-Uri"
	headerOriginalURL     = "X-Original-Url"
)

// headerSetCookie is the prefix of the numbered copies of an answer's
// Set-Cookie lines for nginx, X-Authz-Set-Cookie-1, -2...: nginx's
// $upstream_http_set_cookie holds only the first Set-Cookie line of the
// auth response, so each cookie needs a header of its own to reach the
// browser (docs/forward-auth.md). One copy per cookie name, the last line
// of that name: at most five (user, guest, refresh, CSRF and locale).
const headerSetCookie = "X-Authz-Set-Cookie-"

// The messages of the sub-requests refused before the pipeline runs.
const (
	msgUntrustedPeer = "Forward-auth sub-requests are accepted only from trusted proxies."
	msgBadSubrequest = "Bad forward-auth sub-request."
)

// describe recognises a forward-auth sub-request: a request to authz.path
// (X-Forwarded-* or X-Original-* headers) or below it (Envoy's
// path_prefix). Any other request costs one string comparison here. A
// sub-request from a peer outside clientIP.trustedProxies is refused 403,
// an unreadable one 400; otherwise the exchange's request becomes the
// described one and the pipeline goes on.
func (g *Gateway) describe(x *exchange) bool {
	p := x.r.URL.Path
	if g.authzPath == "" || !strings.HasPrefix(p, g.authzPath) {
		return false
	}
	if rest := p[len(g.authzPath):]; rest != "" && rest[0] != '/' {
		return false // /_apilayer/authzfoo: a page like any other
	}
	if !g.clientIP.Trusted(x.info.Peer) {
		// Anyone else could describe any request and read the identity
		// headers of the answer.
		g.log.Debug("authz: sub-request from an untrusted peer refused", "peer", x.info.Peer.String())
		respond.Error(x.w, http.StatusForbidden, msgUntrustedPeer)
		return true
	}
	conv, method, target, why := g.description(x.r)
	if why != "" {
		g.log.Debug("authz: bad sub-request", "reason", why)
		respond.Error(x.w, http.StatusBadRequest, msgBadSubrequest)
		return true
	}
	rawPath, query, _ := strings.Cut(target, "?")
	dec, err := url.PathUnescape(rawPath)
	if err != nil {
		// The proxy forwards this path as it is: it must mean here what it
		// means to the web app.
		respond.Error(x.w, http.StatusBadRequest, respond.MsgBadPath)
		return true
	}
	ds := new(described)
	d := &ds.r
	*d = *x.r // the headers (Cookie, Sec-Fetch-*, Accept...) are the original request's
	d.Method = method
	ds.u = url.URL{Path: dec, RawPath: rawPath, RawQuery: query}
	d.URL = &ds.u
	d.RequestURI = target
	d.Host = x.info.Host
	d.Body, d.ContentLength, d.TransferEncoding = http.NoBody, 0, nil
	x.r, x.url, x.sub = d, d.URL, conv
	x.origin = origin(x.r.Header, x.info.Proto, x.info.Host)
	x.rec.copyCookies = conv == subNginx
	return false
}

// described is the request a sub-request describes, with its URL, in one
// allocation.
type described struct {
	r http.Request
	u url.URL
}

// description reads how r describes the original request: the convention,
// the method and the request target (path and query, as the client sent
// them). why is non-empty when r describes nothing, or describes it twice:
// a proxy sets the headers of its own convention and passes the client's
// others on, so a client could otherwise name another path than the one
// the proxy will forward.
func (g *Gateway) description(r *http.Request) (conv convention, method, target, why string) {
	h := r.Header
	fwd := h[headerForwardedMethod] != nil || h[headerForwardedURI] != nil
	ngx := h[headerOriginalMethod] != nil || h[headerOriginalURI] != nil || h[headerOriginalURL] != nil
	escaped := r.URL.EscapedPath()
	if !strings.HasPrefix(escaped, g.authzPath) {
		return 0, "", "", "the authz path is escaped"
	}
	if rest := escaped[len(g.authzPath):]; rest != "" {
		// Envoy: the original path follows authz.path, with the original
		// method and query.
		if fwd || ngx {
			return 0, "", "", "a path below authz.path and description headers"
		}
		target = rest
		if r.URL.RawQuery != "" || r.URL.ForceQuery {
			target += "?" + r.URL.RawQuery
		}
		return subPath, r.Method, target, ""
	}
	switch {
	case fwd && ngx:
		return 0, "", "", "both X-Forwarded-Method/-Uri and X-Original-*"
	case fwd:
		conv = subForwarded
		method, target = single(h, headerForwardedMethod), single(h, headerForwardedURI)
	case ngx:
		conv = subNginx
		method, target = single(h, headerOriginalMethod), single(h, headerOriginalURI)
		if full := single(h, headerOriginalURL); full != "" {
			// ingress-nginx always sends X-Original-URL, and X-Original-URI
			// only with an auth-method: both must name one target.
			u, err := url.Parse(full)
			if err != nil || !u.IsAbs() || u.Host == "" {
				return 0, "", "", "X-Original-URL is not an absolute URL"
			}
			if t := u.RequestURI(); target == "" {
				target = t
			} else if t != target {
				return 0, "", "", "X-Original-URI and X-Original-URL differ"
			}
		}
	default:
		return 0, "", "", "no X-Forwarded-Method/-Uri or X-Original-Method/-URI"
	}
	switch {
	case method == "" || !httpguts.ValidHeaderFieldName(method):
		return 0, "", "", "no single valid method"
	case target == "" || target[0] != '/':
		return 0, "", "", "no single path (origin form, starting with /)"
	}
	return conv, method, target, ""
}

// single returns the value of header k when r has exactly one, else "".
func single(h http.Header, k string) string {
	if v := h[k]; len(v) == 1 {
		return v[0]
	}
	return ""
}

// origin is "proto://host" of the original request when the sub-request
// names its host in X-Forwarded-Host and clientip believed it (host is
// then that value), else "": redirects of a sub-request are then absolute
// URLs, which a proxy that resolves a relative Location against the
// gateway's own address (Traefik) passes on unchanged.
func origin(h http.Header, proto, host string) string {
	v := h.Values("X-Forwarded-Host")
	for i := len(v) - 1; i >= 0; i-- {
		line := strings.TrimSpace(v[i])
		if line == "" {
			continue
		}
		if j := strings.LastIndexByte(line, ','); j >= 0 {
			line = strings.TrimSpace(line[j+1:])
		}
		if line != host || host == "" {
			return ""
		}
		return proto + "://" + host
	}
	return ""
}

// allowSub answers a sub-request whose described request the pipeline lets
// through: 200, an empty body, and the headers the proxy copies onto the
// request it forwards: X-Auth-User, X-Auth-User-Truncated,
// X-Auth-Token-Type and X-Locale, identity.header with identity.sign, and
// Authorization with authz.passAuthorization (Bearer <effective token> for
// an API path). Each is present, empty when it does not apply, so that a
// proxy that copies a header the answer lacks neither keeps what the
// client sent under that name nor writes a placeholder of its own (Caddy
// 2.6 does). X-Request-ID and the Set-Cookie lines of the pipeline's
// cookie changes are on every answer already.
func (g *Gateway) allowSub(x *exchange, a *Auth) {
	h := x.w.Header()
	v := new([6]string) // every value in one allocation
	var truncated bool
	v[0], truncated = x.userHeader()
	v[2], v[3] = a.TokenType, a.Locale
	if truncated {
		v[1] = "1"
	}
	h[proxy.HeaderAuthUser] = v[0:1:1]
	h[proxy.HeaderAuthUserTruncated] = v[1:2:2]
	h[proxy.HeaderTokenType] = v[2:3:3]
	h[i18n.Header] = v[3:4:4]
	if g.signer != nil {
		if a.TokenType != "" && x.kind != apiKind { // the backend never receives it
			v[4] = g.assertion(a)
		}
		h[g.assertionHeader()] = v[4:5:5]
	}
	if g.cfg.Authz.PassAuthorization {
		if x.kind == apiKind && !x.skip && a.Token != "" {
			v[5] = "Bearer " + a.Token
		}
		h["Authorization"] = v[5:6:6]
	}
	x.w.WriteHeader(http.StatusOK)
}

// redirect answers a redirect of the pipeline (the login or home path, a
// locale redirect): 307 to loc. A sub-request's redirect is an absolute
// URL when the original host is known (origin), and comes as 401 with
// the same Location in nginx's convention, since nginx's auth_request
// passes on only 2xx, 401 and 403 (its error_page 401 turns it into the
// redirect, docs/forward-auth.md).
func (g *Gateway) redirect(x *exchange, loc string) {
	if x.sub == notSub {
		http.Redirect(x.w, x.r, loc, http.StatusTemporaryRedirect)
		return
	}
	if x.origin != "" && strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") {
		loc = x.origin + loc
	}
	code := http.StatusTemporaryRedirect
	if x.sub == subNginx {
		code = http.StatusUnauthorized
	}
	x.w.Header().Set("Location", loc)
	x.w.WriteHeader(code)
}

// numberCookies adds to h the numbered copies of its Set-Cookie lines
// (headerSetCookie): one per cookie name, the last line of that name,
// numbered from 1 in the order the names first appear.
func numberCookies(h http.Header) {
	lines := h["Set-Cookie"]
	if len(lines) == 0 {
		return
	}
	var names []string
	last := make(map[string]string, len(lines))
	for _, l := range lines {
		name, _, _ := strings.Cut(l, "=")
		name = strings.TrimSpace(name)
		if _, seen := last[name]; !seen {
			names = append(names, name)
		}
		last[name] = l
	}
	for i, name := range names {
		h[headerSetCookie+strconv.Itoa(i+1)] = []string{last[name]}
	}
}
