package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/internal/jsonpointer"
	"github.com/apilayer/apilayer/peer"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/text/language"
)

// Validate reports every problem of c at once, as *Errors, each by YAML
// path ("backend.url: required") and, when c came from Load or Parse, at
// its line. It validates c as Defaults would complete it, without changing
// c. Validate is pure: it reads no global state and makes no network call;
// it only checks that the files c names exist.
func (c *Config) Validate() error {
	d := c.clone()
	d.Defaults()
	v := &checker{src: c.src}
	v.config(d)
	v.errs.sortByLine()
	return v.errs.err()
}

// checker collects the problems of one Config.
type checker struct {
	src  *source
	errs Errors
}

// add records a problem of path, at the line of path.
func (v *checker) add(path, format string, args ...any) {
	v.addAt(path, path, format, args...)
}

// addAt records a problem of path at the line of linePath (a problem of
// two keys is reported at the one that is most likely to be wrong).
func (v *checker) addAt(linePath, path, format string, args ...any) {
	file := ""
	if v.src != nil {
		file = v.src.name
	}
	v.errs.add(file, v.src.line(linePath), path, fmt.Sprintf(format, args...))
}

func (v *checker) config(c *Config) {
	v.listen(c)
	v.tls(c.TLS)
	v.nonNegative("server.readHeaderTimeout", c.Server.ReadHeaderTimeout)
	v.nonNegative("server.idleTimeout", c.Server.IdleTimeout)
	v.nonNegative("server.shutdownTimeout", c.Server.ShutdownTimeout)
	v.nonNegative("server.readTimeout", c.Server.ReadTimeout)
	v.nonNegative("server.bodyIdleTimeout", *c.Server.BodyIdleTimeout)
	v.positiveSize("server.maxHeaderBytes", c.Server.MaxHeaderBytes)
	v.route("health.path", c.Health.Path)
	v.backend(c.Backend)
	v.upstream(c.Upstream)
	v.identity(c)
	v.authz(c)
	v.cookies(c)
	v.guest(c.Guest)
	v.validate(c.Validation)
	v.refresh(c.Refresh)
	v.access(c.Access)
	v.routes("authApi.bypassPaths", c.AuthAPI.BypassPaths)
	if len(c.AuthAPI.BypassPaths) > 0 && (c.AuthAPI.Enabled == nil || *c.AuthAPI.Enabled) {
		v.add("authApi.bypassPaths", "is used only when authApi.enabled is false; for the web app's own routes under api.prefix, use api.appRoutes")
	}
	v.api(c.API)
	v.csrf(c)
	v.clientIP(c.ClientIP)
	v.rateLimit(c.RateLimit)
	v.audit(c.Audit)
	v.i18n(c.I18n)
	v.cors(c.CORS)
	v.store(c.Store)
	v.route("metrics.path", c.Metrics.Path)
	if c.Metrics.Enabled && c.Metrics.Path == c.Health.Path {
		v.add("metrics.path", "must differ from health.path (both are %q)", c.Metrics.Path)
	}
	v.admin(c)
	v.tracing(c.Tracing)
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "json", "text")
}

func (v *checker) listen(c *Config) {
	host, port, err := net.SplitHostPort(c.Listen)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil || strings.ContainsAny(host, " /") {
		v.add("listen", "must be an address such as :8080 or 127.0.0.1:8080 (got %q)", c.Listen)
	}
}

// The paths the admin listener serves besides metrics.path.
var adminPaths = []string{"/livez", "/readyz", "/debug/pprof/", assertion.JWKSPath}

func (v *checker) admin(c *Config) {
	a := c.Admin
	if a.Listen == "" {
		if a.Pprof {
			v.add("admin.pprof", "requires admin.listen (profiles are never served on listen)")
		}
		return
	}
	host, port, err := net.SplitHostPort(a.Listen)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil || strings.ContainsAny(host, " /") {
		v.add("admin.listen", "must be an address such as 127.0.0.1:9090 (got %q)", a.Listen)
		return
	}
	if lhost, lport, err := net.SplitHostPort(c.Listen); err == nil && lport == port && port != "0" &&
		(lhost == host || wildcardHost(lhost) || wildcardHost(host)) {
		v.add("admin.listen", "must not share its port with listen (both on %s)", port)
	}
	if c.Metrics.Enabled {
		for _, p := range adminPaths {
			if strings.TrimSuffix(c.Metrics.Path, "/") == strings.TrimSuffix(p, "/") {
				v.add("metrics.path", "must differ from %s, which the admin listener serves (got %q)", p, c.Metrics.Path)
			}
		}
	}
}

// wildcardHost reports whether a listen host means every address.
func wildcardHost(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }

func (v *checker) tracing(t Tracing) {
	v.oneOf("tracing.exporter", t.Exporter, "otlp-http", "otlp-grpc", "stdout")
	if r := *t.SampleRatio; r < 0 || r > 1 || r != r {
		v.add("tracing.sampleRatio", "must be between 0 and 1 (got %g)", r)
	}
	if t.ServiceName == "" {
		v.add("tracing.serviceName", "must not be empty")
	}
	if t.Endpoint == "" {
		return
	}
	if t.Exporter == "stdout" {
		v.add("tracing.endpoint", "is not used by the stdout exporter; remove it or choose otlp-http or otlp-grpc")
		return
	}
	v.httpURL("tracing.endpoint", t.Endpoint)
}

func (v *checker) tls(t TLS) {
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		v.add("tls.keyFile", "required when tls.certFile is set (set both or neither)")
	case t.CertFile == "" && t.KeyFile != "":
		v.add("tls.certFile", "required when tls.keyFile is set (set both or neither)")
	}
	v.file("tls.certFile", t.CertFile)
	v.file("tls.keyFile", t.KeyFile)
}

func (v *checker) backend(b Backend) {
	if b.URL == "" {
		v.add("backend.url", "required")
	} else {
		v.httpURL("backend.url", b.URL)
	}
	v.nonNegative("backend.timeout", b.Timeout)
	v.positive("backend.breaker.failures", b.Breaker.Failures)
	v.positiveDur("backend.breaker.openFor", b.Breaker.OpenFor)
	if b.Breaker.OpenFor > 30*time.Second {
		v.add("backend.breaker.openFor", "must be at most 30s, the longest a breaker stays open (got %s)", formatDuration(b.Breaker.OpenFor))
	}
	e := b.Endpoints
	for _, ep := range []struct{ name, val string }{
		{"validate", e.Validate}, {"refresh", e.Refresh}, {"guest", e.Guest},
		{"login", e.Login}, {"register", e.Register}, {"logout", e.Logout},
	} {
		u, err := url.Parse(ep.val)
		if err != nil || u.Scheme != "" || u.Host != "" || u.Fragment != "" || strings.HasPrefix(ep.val, "//") {
			v.add("backend.endpoints."+ep.name, "must be a path relative to backend.url such as auth/me (got %q)", ep.val)
		}
	}
	m := b.Mapping
	for _, p := range []struct{ name, val string }{
		{"success", m.Success}, {"user", m.User}, {"tokenType", m.TokenType},
		{"expiresAt", m.ExpiresAt}, {"accessToken", m.AccessToken},
		{"refreshToken", m.RefreshToken}, {"errorCode", m.ErrorCode},
	} {
		v.pointer("backend.mapping."+p.name, p.val)
	}
}

func (v *checker) upstream(u Upstream) {
	if u.URL != "" && u.Static != "" {
		v.addAt("upstream.static", "upstream", "set at most one of url and static")
	}
	if u.URL != "" {
		v.httpURL("upstream.url", u.URL)
	}
	if u.Static != "" {
		if fi, err := os.Stat(u.Static); err != nil {
			v.add("upstream.static", "%s", statProblem(u.Static, err))
		} else if !fi.IsDir() {
			v.add("upstream.static", "must be a folder (got the file %q)", u.Static)
		}
	}
	v.nonNegative("upstream.timeout", u.Timeout)
	if u.PassAuthorization && u.HideTokens {
		v.addAt("upstream.hideTokens", "upstream", "passAuthorization and hideTokens cannot both be true")
	}
}

func (v *checker) identity(c *Config) {
	id := c.Identity
	algOK := assertion.ValidAlgorithm(id.Algorithm)
	if !algOK {
		v.add("identity.algorithm", "must be %s (got %q)", orList(assertion.Algorithms()), id.Algorithm)
	}
	if id.TTL < assertion.MinTTL || id.TTL > assertion.MaxTTL {
		v.add("identity.ttl", "must be between %s and %s (got %s)", formatDuration(assertion.MinTTL), formatDuration(assertion.MaxTTL), formatDuration(id.TTL))
	}
	v.identityHeader(id.Header)
	if id.Sign && id.KeyFile == "" && c.Store.Driver == "redis" {
		v.addAt("identity", "identity.keyFile", "required when identity.sign is true and store.driver is redis (every instance must sign with the same key)")
	}
	if id.KeyFile == "" {
		return
	}
	fi, err := os.Stat(id.KeyFile)
	switch {
	case err != nil:
		v.add("identity.keyFile", "%s", statProblem(id.KeyFile, err))
		return
	case fi.IsDir():
		v.add("identity.keyFile", "must be a file (got the folder %q)", id.KeyFile)
		return
	}
	data, err := os.ReadFile(id.KeyFile)
	if err != nil {
		v.add("identity.keyFile", "%s", statProblem(id.KeyFile, err))
		return
	}
	if !algOK {
		return // the key cannot be checked against an unknown algorithm
	}
	if err := assertion.CheckKeyFile(data, id.Algorithm); err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "assertion: "), "key file: ")
		v.add("identity.keyFile", "%q: %s", id.KeyFile, msg)
	}
}

// authz checks forward-auth mode. authz.path must be a clean path of
// unreserved characters (the proxies send it as written, and Envoy puts
// the original path right after it), and must not share a path with what
// the gateway answers itself.
func (v *checker) authz(c *Config) {
	a := c.Authz
	p := a.Path
	if !cleanPlainPath(p) {
		v.add("authz.path", "must be a path such as /_apilayer/authz: letters, digits and - . _ ~ between single slashes, no trailing slash (got %q)", p)
		return
	}
	if !a.Enabled {
		if a.PassAuthorization {
			v.add("authz.passAuthorization", "is used only when authz.enabled is true")
		}
		return
	}
	if prefix := strings.TrimSuffix(c.API.Prefix, "/"); prefix != "" && (p == prefix || strings.HasPrefix(p, prefix+"/")) {
		v.add("authz.path", "must not be under api.prefix %s: that is the API's (got %q)", prefix, p)
	}
	others := []struct{ key, path string }{{"health.path", c.Health.Path}, {"the JWKS path", assertion.JWKSPath}}
	if c.Metrics.Enabled {
		others = append(others, struct{ key, path string }{"metrics.path", c.Metrics.Path})
	}
	for _, o := range others {
		q := strings.TrimSuffix(o.path, "/")
		if p == q || strings.HasPrefix(p, q+"/") || strings.HasPrefix(q, p+"/") {
			v.add("authz.path", "must not be %s or share its path %s (got %q)", o.key, o.path, p)
		}
	}
}

// cleanPlainPath reports whether p is an absolute path other than "/",
// without a trailing slash, whose segments are non-empty, not "." or
// "..", and made of unreserved characters only (RFC 3986).
func cleanPlainPath(p string) bool {
	if len(p) < 2 || p[0] != '/' || p[len(p)-1] == '/' {
		return false
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
				return false
			}
		}
	}
	return true
}

// reservedIdentityHeaders are request headers identity.header must not
// be: the gateway's other identity headers, and headers that proxies and
// servers own. Compared as app servers read names: case ignored.
var reservedIdentityHeaders = []string{
	"x-auth-user", "x-auth-user-truncated", "x-auth-token-type", "x-refreshed-token", "x-locale", "x-request-id",
	"x-skip-auth", "authorization", "cookie", "host", "connection", "content-length", "content-type",
	"transfer-encoding", "te", "trailer", "upgrade", "keep-alive", "forwarded", "x-forwarded-for",
	"x-forwarded-host", "x-forwarded-proto", "x-real-ip",
}

func (v *checker) identityHeader(h string) {
	switch {
	case !httpguts.ValidHeaderFieldName(h):
		v.add("identity.header", "not a valid header name (got %q)", h)
	case strings.Contains(h, "_"):
		// nginx drops such headers by default and CGI-style servers read
		// "_" as "-": the web app might never see it, or see a forgery.
		v.add("identity.header", "must not contain _ (proxies drop such headers, and app servers read _ as -); use - (got %q)", h)
	case slices.Contains(reservedIdentityHeaders, strings.ToLower(h)) || strings.HasPrefix(strings.ToLower(h), "x-middleware-") || strings.HasPrefix(strings.ToLower(h), "proxy-"):
		v.add("identity.header", "%q is a header the gateway or HTTP already uses; choose another name such as X-Auth-Assertion", h)
	}
}

func (v *checker) cookies(c *Config) {
	ck := c.Cookies
	names := map[string]string{} // cookie name -> path of its first use
	name := func(path, n string) {
		if n == "" {
			return
		}
		if (&http.Cookie{Name: n, Value: "x"}).Valid() != nil {
			v.add(path, "not a valid cookie name (got %q)", n)
			return
		}
		if first, ok := names[n]; ok {
			v.add(path, "same cookie name as %s (%q)", first, n)
			return
		}
		names[n] = path
	}
	name("cookies.user", ck.User)
	name("cookies.guest", ck.Guest)
	name("cookies.refresh", ck.Refresh)
	name("csrf.cookieName", c.CSRF.CookieName)
	name("i18n.cookie", c.I18n.Cookie)
	v.route("cookies.path", ck.Path)
	if d := ck.Domain; d != "" && (strings.ContainsAny(d, "/:@ ;,=") || strings.Trim(d, ".") == "") {
		v.add("cookies.domain", "must be a domain such as example.com (got %q)", d)
	}
	switch ck.Secure {
	case SecureAuto, SecureAlways, SecureNever:
	default:
		v.add("cookies.secure", "must be auto, true or false (got %q)", string(ck.Secure))
	}
	v.oneOf("cookies.sameSite", ck.SameSite, "lax", "strict", "none")
	if ck.SameSite == "none" && ck.Secure == SecureNever {
		v.addAt("cookies.secure", "cookies.sameSite", "none requires cookies.secure true or auto (browsers drop SameSite=None cookies without Secure)")
	}
	v.nonNegative("cookies.maxAge", ck.MaxAge)
	v.nonNegative("cookies.guestMaxAge", ck.GuestMaxAge)
	v.nonNegative("cookies.refreshMaxAge", ck.RefreshMaxAge)
}

func (v *checker) guest(g Guest) {
	v.positive("guest.maxPerMinute", g.MaxPerMinute)
	if _, err := json.Marshal(g.Credentials); err != nil {
		v.add("guest.credentials", "cannot be sent as JSON: %v", err)
	}
}

func (v *checker) validate(c Validate) {
	v.oneOf("validate.mode", c.Mode, "backend", "local")
	v.nonNegative("validate.cacheTTL", *c.CacheTTL)
	v.positive("validate.cacheSize", c.CacheSize)
	v.nonNegative("validate.staleIfError", *c.StaleIfError)
	v.nonNegative("validate.revalidateInterval", c.RevalidateInterval)
	if c.Mode != "local" {
		return
	}
	l := c.Local
	keys := 0
	for _, k := range []string{l.Secret, l.PublicKeyFile, l.JWKSURL} {
		if k != "" {
			keys++
		}
	}
	switch {
	case keys == 0:
		v.add("validate.local", "local mode needs a key: set one of secret, publicKeyFile and jwksURL")
	case keys > 1:
		v.add("validate.local", "set exactly one of secret, publicKeyFile and jwksURL")
	}
	v.file("validate.local.publicKeyFile", l.PublicKeyFile)
	if l.JWKSURL != "" {
		v.httpURL("validate.local.jwksURL", l.JWKSURL)
	}
	if len(l.Algorithms) == 0 {
		v.add("validate.local.algorithms", "must list at least one algorithm")
	}
	for i, alg := range l.Algorithms {
		p := index("validate.local.algorithms", i)
		hmac, ok := algorithms[alg]
		switch {
		case !ok:
			v.add(p, "unknown algorithm %q (want HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA)", alg)
		case keys != 1:
		case l.Secret != "" && !hmac:
			v.add(p, "%s does not fit validate.local.secret (an HMAC secret takes HS256, HS384 or HS512)", alg)
		case l.Secret == "" && hmac:
			v.add(p, "%s does not fit a public key (publicKeyFile and jwksURL take RS*, PS*, ES* or EdDSA)", alg)
		}
	}
	v.nonNegative("validate.local.leeway", *l.Leeway)
}

// algorithms maps each supported JWT algorithm to whether it is HMAC.
var algorithms = map[string]bool{
	"HS256": true, "HS384": true, "HS512": true,
	"RS256": false, "RS384": false, "RS512": false,
	"PS256": false, "PS384": false, "PS512": false,
	"ES256": false, "ES384": false, "ES512": false,
	"EdDSA": false,
}

func (v *checker) refresh(r Refresh) {
	v.nonNegative("refresh.proactiveWindow", r.ProactiveWindow)
	v.nonNegative("refresh.successorTTL", *r.SuccessorTTL)
	for i, s := range r.ReuseStatusCodes {
		if s < 100 || s > 599 {
			v.add(index("refresh.reuseStatusCodes", i), "must be an HTTP status code (got %d)", s)
		}
	}
	v.nonEmpty("refresh.reuseCodes", r.ReuseCodes)
}

func (v *checker) access(a Access) {
	v.routes("access.protectedRoutes", a.ProtectedRoutes)
	v.routes("access.authRoutes", a.AuthRoutes)
	v.routes("access.publicRoutes", a.PublicRoutes)
	v.routes("access.excludedPaths", a.ExcludedPaths)
	v.nonEmpty("access.allowedTokenTypes", a.AllowedTokenTypes)
	v.route("access.loginPath", a.LoginPath)
	v.route("access.homePath", a.HomePath)
	if p := a.ReturnParam; p != "" && (!httpguts.ValidHeaderFieldName(p) || strings.ContainsAny(p, "&=?#+%")) {
		v.add("access.returnParam", "must be a query parameter name such as next (got %q)", p)
	}
	for i, r := range a.Rules {
		p := index("access.rules", i)
		if r.Path == "" {
			v.add(p+".path", "required")
		} else {
			v.glob(p+".path", r.Path, true)
		}
		if len(r.Roles) == 0 {
			v.add(p+".roles", "must list at least one role")
		}
		v.nonEmpty(p+".roles", r.Roles)
		v.pointer(p+".rolesField", r.RolesField)
	}
}

func (v *checker) api(a API) {
	if !strings.HasPrefix(a.Prefix, "/") || a.Prefix == "/" || strings.ContainsAny(a.Prefix, "*?# ") {
		v.add("api.prefix", "must be a path such as /api (got %q)", a.Prefix)
	}
	v.globs("api.publicEndpoints", a.PublicEndpoints, false)
	v.globs("api.appRoutes", a.AppRoutes, true)
	for i, g := range a.AppRoutes {
		if p := strings.TrimSuffix(a.Prefix, "/"); p != "" && g != p && !strings.HasPrefix(g, p+"/") {
			v.add(index("api.appRoutes", i), "must be a full path under api.prefix %s, such as %s/revalidate (got %q)", p, p, g)
		}
	}
	v.nonNegative("api.timeout", a.Timeout)
	v.positiveSize("api.maxBodySize", a.MaxBodySize)
	v.oneOf("api.methodSpoofing.strategy", a.MethodSpoofing.Strategy, "body", "header")
	if !httpguts.ValidHeaderFieldName(a.MethodSpoofing.FieldName) {
		v.add("api.methodSpoofing.fieldName", "must be a field or header name such as _method (got %q)", a.MethodSpoofing.FieldName)
	}
	s := a.Sanitize
	v.oneOf("api.sanitize.mode", s.Mode, "strip", "escape", "allowList")
	for i, t := range s.AllowedTags {
		if !isTagName(t) {
			v.add(index("api.sanitize.allowedTags", i), "must be an HTML tag name such as b (got %q)", t)
		}
	}
	v.nonEmpty("api.sanitize.skipFields", s.SkipFields)
	v.globs("api.sanitize.skipEndpoints", s.SkipEndpoints, false)
}

func (v *checker) csrf(c *Config) {
	cs := c.CSRF
	v.oneOf("csrf.strategy", cs.Strategy, "both", "fetch-metadata", "double-submit")
	if cs.Enabled && c.Store.Driver == "redis" && cs.Secret == "" {
		v.addAt("csrf", "csrf.secret", "required when store.driver is redis (every instance must sign with the same secret)")
	}
	v.nonEmpty("csrf.previousSecrets", cs.PreviousSecrets)
	if !httpguts.ValidHeaderFieldName(cs.HeaderName) {
		v.add("csrf.headerName", "not a valid header name (got %q)", cs.HeaderName)
	}
	for i, m := range cs.IgnoreMethods {
		if !httpguts.ValidHeaderFieldName(m) {
			v.add(index("csrf.ignoreMethods", i), "not a valid HTTP method (got %q)", m)
		}
	}
	v.origins("csrf.trustedOrigins", cs.TrustedOrigins)
}

func (v *checker) clientIP(c ClientIP) {
	for i, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err == nil {
			continue
		}
		v.add(index("clientIP.trustedProxies", i), "must be a CIDR such as 10.0.0.0/8 or an IP address (got %q)", p)
	}
	v.headers("clientIP.headers", c.Headers)
}

func (v *checker) rateLimit(r RateLimit) {
	v.positiveDur("rateLimit.window", r.Window)
	v.positive("rateLimit.maxRequests", r.MaxRequests)
	v.oneOf("rateLimit.by", r.By, "ip", "user")
	v.globs("rateLimit.skipRoutes", r.SkipRoutes, true)
	if r.IPv6PrefixLength < 1 || r.IPv6PrefixLength > 128 {
		v.add("rateLimit.ipv6PrefixLength", "must be 1 to 128 (got %d)", r.IPv6PrefixLength)
	}
	for i, rule := range r.Rules {
		p := index("rateLimit.rules", i)
		if rule.Path == "" {
			v.add(p+".path", "required")
		} else {
			v.glob(p+".path", rule.Path, true)
		}
		if rule.MaxRequests == 0 {
			v.add(p+".maxRequests", "required")
		} else {
			v.positive(p+".maxRequests", rule.MaxRequests)
		}
		v.positiveDur(p+".window", rule.Window)
	}
}

func (v *checker) audit(a Audit) {
	for i, e := range a.Events {
		if !slices.Contains(AuditEvents, e) {
			msg := fmt.Sprintf("unknown event %q", e)
			if s := suggest(e, AuditEvents); s != "" {
				msg += " (did you mean " + s + "?)"
			}
			v.add(index("audit.events", i), "%s", msg)
		}
	}
	switch o := a.Output; {
	case o == "stdout", o == "stderr":
	case strings.HasPrefix(o, "file:"):
		if strings.TrimPrefix(o, "file:") == "" {
			v.add("audit.output", "file: needs a path, as in file:/var/log/apilayer/audit.log")
		}
	case strings.HasPrefix(o, "http://"), strings.HasPrefix(o, "https://"):
		v.httpURL("audit.output", o)
	default:
		v.add("audit.output", "must be stdout, stderr, file:<path> or an http(s) URL (got %q)", redactURL(o))
	}
	v.positive("audit.queueSize", a.QueueSize)
}

func (v *checker) i18n(in I18n) {
	v.oneOf("i18n.prefix", in.Prefix, "never", "as-needed", "always")
	if !httpguts.ValidHeaderFieldName(in.ParamName) || strings.ContainsAny(in.ParamName, "&=?#+%") {
		v.add("i18n.paramName", "must be a query parameter name such as lang (got %q)", in.ParamName)
	}
	for i, l := range in.Locales {
		if _, err := language.Parse(l); err != nil || strings.ContainsAny(l, "/ ") {
			v.add(index("i18n.locales", i), "not a language tag such as en or pt-BR (got %q)", l)
		}
	}
	if !in.Enabled {
		return
	}
	if len(in.Locales) == 0 {
		v.add("i18n.locales", "required when i18n.enabled is true")
	}
	switch {
	case in.DefaultLocale == "":
		v.add("i18n.defaultLocale", "required when i18n.enabled is true")
	case len(in.Locales) > 0 && !slices.Contains(in.Locales, in.DefaultLocale):
		v.add("i18n.defaultLocale", "must be one of i18n.locales (got %q)", in.DefaultLocale)
	}
}

func (v *checker) cors(c CORS) {
	for i, o := range c.AllowedOrigins {
		if o == "*" {
			v.add(index("cors.allowedOrigins", i), `"*" is not allowed: credentials are allowed, so list exact origins`)
		}
	}
	v.origins("cors.allowedOrigins", c.AllowedOrigins)
	v.headers("cors.allowedHeaders", c.AllowedHeaders)
	v.nonNegative("cors.maxAge", c.MaxAge)
}

func (v *checker) store(s Store) {
	v.oneOf("store.driver", s.Driver, "memory", "redis")
	u, err := url.Parse(s.Redis.URL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		v.add("store.redis.url", "must be a redis:// or rediss:// URL such as %s (got %q)", DefaultRedisURL, redactURL(s.Redis.URL))
	} else {
		// A Sentinel URL (master_name) lists the sentinels as the host and
		// addr parameters; a Cluster URL lists seed nodes the same way.
		q := u.Query()
		if q.Has("master_name") && q.Get("master_name") == "" {
			v.add("store.redis.url", "master_name must name the master the sentinels monitor (got an empty name)")
		}
		for _, a := range q["addr"] {
			if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
				v.add("store.redis.url", "addr must be a host:port such as 10.0.0.2:26379 (got %q)", a)
			}
		}
	}
	v.positiveDur("store.redis.timeout", s.Redis.Timeout)
	v.nonNegative("store.redis.nearCacheTTL", *s.Redis.NearCacheTTL)
	v.peers(s)
}

// peers checks store.peers and store.peerSecret.
func (v *checker) peers(s Store) {
	seen := map[peer.Target]bool{}
	for i, p := range s.Peers {
		t, err := peer.ParseTarget(p)
		switch {
		case err != nil:
			v.add(index("store.peers", i), "%v (got %q)", err, redactURL(p))
		case seen[t]:
			v.add(index("store.peers", i), "listed twice (got %q)", p)
		}
		seen[t] = true
	}
	switch {
	case len(s.Peers) > 0 && s.Driver != "redis":
		v.add("store.peers", "used only with store.driver redis: peers decide who refreshes a token while Redis is unavailable (got driver %q)", s.Driver)
	case len(s.Peers) > 0 && s.PeerSecret == "":
		v.addAt("store.peers", "store.peerSecret", "required when store.peers is set (the same on every instance)")
	case len(s.Peers) == 0 && s.PeerSecret != "":
		v.add("store.peerSecret", "is used only with store.peers")
	}
	if s.PeerSecret != "" && len(s.PeerSecret) < peer.MinSecretLen {
		v.add("store.peerSecret", "must be at least %d characters (got %d)", peer.MinSecretLen, len(s.PeerSecret))
	}
}

// The checks of single values.

func (v *checker) nonNegative(path string, d time.Duration) {
	if d < 0 {
		v.add(path, "must not be negative (got %s)", formatDuration(d))
	}
}

func (v *checker) positiveDur(path string, d time.Duration) {
	if d <= 0 {
		v.add(path, "must be positive (got %s)", formatDuration(d))
	}
}

func (v *checker) positive(path string, n int) {
	if n <= 0 {
		v.add(path, "must be positive (got %d)", n)
	}
}

func (v *checker) positiveSize(path string, s Size) {
	if s <= 0 {
		v.add(path, "must be positive (got %d)", int64(s))
	}
}

func (v *checker) oneOf(path, val string, allowed ...string) {
	if slices.Contains(allowed, val) {
		return
	}
	v.add(path, "must be %s (got %q)", orList(allowed), val)
}

// orList writes "a, b or c".
func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func (v *checker) nonEmpty(path string, list []string) {
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			v.add(index(path, i), "must not be empty")
		}
	}
}

// route checks an absolute URL path such as /login.
func (v *checker) route(path, p string) {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# \t") {
		v.add(path, "must be a path starting with / (got %q)", p)
	}
}

func (v *checker) routes(path string, list []string) {
	for i, p := range list {
		v.route(index(path, i), p)
	}
}

// glob checks a path glob: * matches within one segment, ** is a whole
// segment. absolute globs start with /, relative ones (relative to
// api.prefix) do not.
func (v *checker) glob(path, g string, absolute bool) {
	switch {
	case g == "":
		v.add(path, "must not be empty")
		return
	case absolute && !strings.HasPrefix(g, "/"):
		v.add(path, "must be a path starting with / (got %q)", g)
		return
	case !absolute && strings.HasPrefix(g, "/"):
		v.add(path, "must be relative to api.prefix, without a leading / (got %q)", g)
		return
	case strings.ContainsAny(g, "?# \t"):
		v.add(path, "must be a path glob such as /admin/** (got %q)", g)
		return
	}
	for seg := range strings.SplitSeq(g, "/") {
		if strings.Contains(seg, "**") && seg != "**" {
			v.add(path, "** must be a whole path segment, as in /a/** (got %q)", g)
			return
		}
	}
}

func (v *checker) globs(path string, list []string, absolute bool) {
	for i, g := range list {
		v.glob(index(path, i), g, absolute)
	}
}

// pointer checks a JSON Pointer (RFC 6901): empty (the default), /-separated
// tokens where ~ is followed by 0 or 1, or the URI fragment form ("#" for
// the whole answer, "#/data/user").
func (v *checker) pointer(path, p string) {
	if _, err := jsonpointer.Parse(p); err != nil {
		v.add(path, "must be a JSON Pointer such as /data/user, or # for the whole answer (got %q)", p)
	}
}

// httpURL checks an absolute http or https URL with a host.
func (v *checker) httpURL(path, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(path, "must be an http or https URL such as https://api.example.com/ (got %q)", redactURL(s))
		return
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		v.add(path, "must not have a query or fragment (got %q)", redactURL(s))
	}
}

// origins checks a list of origins (scheme://host[:port]).
func (v *checker) origins(path string, list []string) {
	for i, o := range list {
		if o == "*" {
			continue // reported by the caller when it matters
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			v.add(index(path, i), "must be an origin such as https://app.example.com (got %q)", o)
		}
	}
}

func (v *checker) headers(path string, list []string) {
	for i, h := range list {
		if !httpguts.ValidHeaderFieldName(h) {
			v.add(index(path, i), "not a valid header name (got %q)", h)
		}
	}
}

// file checks that a configured file exists (when it is set).
func (v *checker) file(path, name string) {
	if name == "" {
		return
	}
	fi, err := os.Stat(name)
	switch {
	case err != nil:
		v.add(path, "%s", statProblem(name, err))
	case fi.IsDir():
		v.add(path, "must be a file (got the folder %q)", name)
	}
}

func statProblem(name string, err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("no such file or folder %q", name)
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Sprintf("cannot read %q: permission denied", name)
	}
	return fmt.Sprintf("cannot read %q", name)
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func isTagName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case ('0' <= c && c <= '9' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
