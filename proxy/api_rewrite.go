package proxy

import (
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/apilayer/apilayer/internal/tracectx"
)

// apiEndpoint returns the path of u relative to prefix, decoded and
// escaped (rawRel is "" when the escaped form is not known), and whether
// it is a path the API proxy may forward: under the prefix, with no "."
// or ".." segment in any encoding.
//
// The pipeline already cleaned the path; this is a second line of defence,
// because joining "..", "%2e%2e" or "..%2f" to the backend URL would reach
// backend paths above backend.url.
func apiEndpoint(prefix string, u *url.URL) (rel, rawRel string, ok bool) {
	p := u.Path
	switch {
	case p == prefix:
		rel = ""
	case strings.HasPrefix(p, prefix+"/"):
		rel = p[len(prefix)+1:]
	default:
		return "", "", false
	}
	if !apiSafeEndpoint(rel) {
		return "", "", false
	}
	if raw := u.EscapedPath(); strings.HasPrefix(raw, prefix+"/") {
		rawRel = raw[len(prefix)+1:]
	}
	return rel, rawRel, true
}

// apiSafeEndpoint reports whether the decoded relative path rel stays below
// the backend URL. Backslashes count as separators (some servers treat them
// so), and a percent-encoded dot, slash or backslash left after decoding
// (a double encoding) is refused, so that a backend decoding twice cannot
// be walked out of its base either.
func apiSafeEndpoint(rel string) bool {
	for i := 0; i < len(rel); i++ {
		if c := rel[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	lower := strings.ToLower(rel)
	if strings.Contains(lower, "%2e") || strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return false
	}
	for seg := range strings.FieldsFuncSeq(rel, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// rewrite maps the inbound request onto the backend. ReverseProxy has
// already removed the hop-by-hop headers (keeping an Upgrade), Forwarded
// and the client's X-Forwarded-*.
func (a *API) rewrite(pr *httputil.ProxyRequest) {
	call := apiCallFrom(pr.In.Context())
	out := pr.Out
	out.URL = call.target
	out.Host = "" // the backend's own Host

	h := out.Header
	h.Del("Cookie")
	h.Del("Te")
	// One pass over the names removes, in every spelling an app server
	// may read as them: identity headers and X-Middleware-*, the client's
	// claims about where it comes from (the first trap of auth proxies),
	// routing override headers, X-Skip-Auth, Proxy-* and any spelling of
	// X-Request-ID.
	stripClasses(h, apiStrip)
	for _, k := range a.drop {
		h.Del(k)
	}
	onlyWebSocketUpgrade(h)
	ip, proto, host := a.client(pr.In)
	setForwarded(h, ip, proto, host)
	if a.sanResp {
		// Only identity-encoded bodies can be sanitized.
		h.Set("Accept-Encoding", "identity")
	}
	// Last, what the pipeline set, from the inbound request: a client's
	// Connection header made ReverseProxy remove any of them it listed.
	copyOwned(pr.In.Header, h, apiOwned)
	if call.override != "" {
		h.Set(headerOverride, call.override)
	}
	if a.tracer != nil {
		tracectx.Inject(out.Context(), h) // the api span's
	}
}

// apiOwned are the request headers of the API proxy that the pipeline
// sets: the effective Bearer token (or none) and the request ID. The API
// proxy forwards no identity header (X-Locale included: the locale goes
// in the query, APIOptions.Query).
var apiOwned = []string{"Authorization", headerRequestID}

// apiStrip are the classes of request headers the API proxy removes.
const apiStrip = classIdentity | classForwarded | classRequestID | classRouting | classSkipAuth | classProxy
