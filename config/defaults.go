package config

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/ratelimit"
)

// The defaults (docs/configuration.md) that other packages may want to name.
const (
	DefaultListen     = ":8080"
	DefaultHealthPath = "/_apilayer/health"
	DefaultAPIPrefix  = "/api"
	DefaultAuthzPath  = "/_apilayer/authz"
	DefaultRedisURL   = "redis://127.0.0.1:6379/0"
	// DefaultSampleRatio is tracing.sampleRatio when unset.
	DefaultSampleRatio = 0.1
)

// Default lists. Defaults copies them, so changing a Config never changes
// these.
var (
	DefaultReuseStatusCodes = []int{409}
	DefaultReuseCodes       = []string{"token_reuse"}
	DefaultAlgorithms       = []string{"HS256"}
	DefaultIgnoreMethods    = []string{"GET", "HEAD", "OPTIONS"}
	DefaultIPHeaders        = []string{"cf-connecting-ip", "true-client-ip", "x-real-ip", "x-forwarded-for"}
	DefaultAllowedHeaders   = []string{"content-type", "x-csrf-token", "x-requested-with"}
	// DefaultAuditEvents is every audit event but auth:guest.
	DefaultAuditEvents = []string{
		"auth:success", "auth:fail", "auth:refresh", "auth:refresh:fail", "auth:reuse",
		"access:denied", "csrf:fail", "rateLimit:exceeded", "error",
	}
)

// AuditEvents is every audit event type.
var AuditEvents = []string{
	"auth:success", "auth:fail", "auth:guest", "auth:refresh", "auth:refresh:fail",
	"auth:reuse", "access:denied", "csrf:fail", "rateLimit:exceeded", "error",
}

// Defaults fills every unset field of c with its default
// (docs/configuration.md#every-default) and normalizes what is safe to
// normalize: backend.url ends with "/", backend endpoints are relative (no
// leading "/"), api.prefix has no trailing "/", csrf.ignoreMethods are upper
// case. After Defaults, no pointer field is nil and every list that has a
// default is non-nil (an explicit empty list stays empty). Defaults is
// idempotent and does not modify the elements of c's lists in place.
func (c *Config) Defaults() {
	str(&c.Listen, DefaultListen)

	s := &c.Server
	dur(&s.ReadHeaderTimeout, 10*time.Second)
	dur(&s.IdleTimeout, 120*time.Second)
	dur(&s.ShutdownTimeout, 30*time.Second)
	durPtr(&s.BodyIdleTimeout, 30*time.Second)
	if s.MaxHeaderBytes == 0 {
		s.MaxHeaderBytes = MiB
	}

	str(&c.Health.Path, DefaultHealthPath)

	b := &c.Backend
	if b.URL != "" && !strings.HasSuffix(b.URL, "/") {
		b.URL += "/"
	}
	dur(&b.Timeout, 10*time.Second)
	if b.Breaker.Failures == 0 {
		b.Breaker.Failures = 5
	}
	dur(&b.Breaker.OpenFor, time.Second)
	e := &b.Endpoints
	for _, ep := range []struct {
		p   *string
		def string
	}{
		{&e.Validate, "auth/me"}, {&e.Refresh, "auth/refresh"}, {&e.Guest, "auth/guest"},
		{&e.Login, "auth/login"}, {&e.Register, "auth/register"}, {&e.Logout, "auth/logout"},
	} {
		*ep.p = strings.TrimLeft(*ep.p, "/")
		str(ep.p, ep.def)
	}
	m := &b.Mapping
	str(&m.Success, "/success")
	str(&m.User, "/data")
	str(&m.TokenType, "/data/type")
	str(&m.ExpiresAt, "/data/exp")
	str(&m.AccessToken, "/data/accessToken")
	str(&m.RefreshToken, "/data/refreshToken")
	str(&m.ErrorCode, "/code")

	dur(&c.Upstream.Timeout, 60*time.Second)

	id := &c.Identity
	str(&id.Algorithm, assertion.DefaultAlgorithm)
	dur(&id.TTL, assertion.DefaultTTL)
	str(&id.Header, assertion.DefaultHeader)
	str(&id.Audience, defaultAudience(c.Upstream.URL))

	str(&c.Authz.Path, DefaultAuthzPath)

	ck := &c.Cookies
	str(&ck.User, "userAuthToken")
	str(&ck.Guest, "guestAuthToken")
	str(&ck.Path, "/")
	if ck.Secure == "" {
		ck.Secure = SecureAuto
	}
	str(&ck.SameSite, "lax")
	dur(&ck.MaxAge, 168*time.Hour)
	dur(&ck.GuestMaxAge, time.Hour)
	dur(&ck.RefreshMaxAge, 336*time.Hour)

	if c.Guest.MaxPerMinute == 0 {
		c.Guest.MaxPerMinute = 10
	}

	v := &c.Validation
	str(&v.Mode, "backend")
	durPtr(&v.CacheTTL, 2*time.Second)
	if v.CacheSize == 0 {
		v.CacheSize = 10000
	}
	durPtr(&v.StaleIfError, 30*time.Second)
	l := &v.Local
	list(&l.Algorithms, DefaultAlgorithms)
	durPtr(&l.Leeway, 30*time.Second)
	boolPtr(&l.RequireExp, true)
	str(&l.TokenTypeClaim, "type")

	r := &c.Refresh
	boolPtr(&r.SingleFlight, true)
	dur(&r.ProactiveWindow, 2*time.Minute)
	boolPtr(&r.GuestFallback, true)
	list(&r.ReuseStatusCodes, DefaultReuseStatusCodes)
	list(&r.ReuseCodes, DefaultReuseCodes)
	durPtr(&r.SuccessorTTL, 30*time.Second)

	a := &c.Access
	str(&a.LoginPath, "/login")
	str(&a.HomePath, "/")
	if a.Rules != nil {
		a.Rules = slices.Clone(a.Rules)
		for i := range a.Rules {
			str(&a.Rules[i].RolesField, "/roles")
		}
	}

	boolPtr(&c.AuthAPI.Enabled, true)

	api := &c.API
	str(&api.Prefix, DefaultAPIPrefix)
	if len(api.Prefix) > 1 {
		api.Prefix = strings.TrimRight(api.Prefix, "/")
		str(&api.Prefix, "/")
	}
	dur(&api.Timeout, 30*time.Second)
	if api.MaxBodySize == 0 {
		api.MaxBodySize = 10 * MiB
	}
	str(&api.MethodSpoofing.Strategy, "body")
	str(&api.MethodSpoofing.FieldName, "_method")
	str(&api.Sanitize.Mode, "strip")

	cs := &c.CSRF
	str(&cs.Strategy, "both")
	str(&cs.CookieName, "__csrf")
	str(&cs.HeaderName, "x-csrf-token")
	list(&cs.IgnoreMethods, DefaultIgnoreMethods)
	if slices.ContainsFunc(cs.IgnoreMethods, func(m string) bool { return m != strings.ToUpper(m) }) {
		up := make([]string, len(cs.IgnoreMethods))
		for i, m := range cs.IgnoreMethods {
			up[i] = strings.ToUpper(m)
		}
		cs.IgnoreMethods = up
	}

	list(&c.ClientIP.Headers, DefaultIPHeaders)

	rl := &c.RateLimit
	dur(&rl.Window, time.Minute)
	if rl.MaxRequests == 0 {
		rl.MaxRequests = 100
	}
	str(&rl.By, "ip")
	boolPtr(&rl.SkipPrefetch, true)
	if rl.IPv6PrefixLength == 0 {
		rl.IPv6PrefixLength = ratelimit.DefaultIPv6PrefixLength
	}
	if rl.Rules != nil {
		rl.Rules = slices.Clone(rl.Rules)
		for i := range rl.Rules {
			dur(&rl.Rules[i].Window, rl.Window)
		}
	}

	au := &c.Audit
	list(&au.Events, DefaultAuditEvents)
	str(&au.Output, "stdout")
	if au.QueueSize == 0 {
		au.QueueSize = 10000
	}

	in := &c.I18n
	str(&in.ParamName, "lang")
	str(&in.Prefix, "never")
	str(&in.Cookie, "NEXT_LOCALE")

	list(&c.CORS.AllowedHeaders, DefaultAllowedHeaders)
	dur(&c.CORS.MaxAge, 10*time.Minute)

	st := &c.Store
	str(&st.Driver, "memory")
	str(&st.Redis.URL, DefaultRedisURL)
	str(&st.Redis.KeyPrefix, "apilayer:")
	dur(&st.Redis.Timeout, 100*time.Millisecond)
	durPtr(&st.Redis.NearCacheTTL, time.Second)

	str(&c.Metrics.Path, "/metrics")

	tr := &c.Tracing
	str(&tr.Exporter, "otlp-http")
	if tr.SampleRatio == nil {
		r := DefaultSampleRatio
		tr.SampleRatio = &r
	}
	str(&tr.ServiceName, "apilayer")

	str(&c.Log.Level, "info")
	str(&c.Log.Format, "json")
}

// defaultAudience is identity.audience when unset: upstream.url without
// its user info (a password must not travel in every assertion) and
// trailing slash; "" when upstream.url is not set or not a URL.
func defaultAudience(upstreamURL string) string {
	if upstreamURL == "" {
		return ""
	}
	u, err := url.Parse(upstreamURL)
	if err != nil || u.Host == "" {
		return ""
	}
	u.User = nil
	return strings.TrimRight(u.String(), "/")
}

func str(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

func dur(p *time.Duration, def time.Duration) {
	if *p == 0 {
		*p = def
	}
}

func durPtr(p **time.Duration, def time.Duration) {
	if *p == nil {
		*p = &def
	}
}

func boolPtr(p **bool, def bool) {
	if *p == nil {
		*p = &def
	}
}

// list sets a nil list to a copy of def; an empty non-nil list stays.
func list[T any](p *[]T, def []T) {
	if *p == nil {
		*p = slices.Clone(def)
	}
}
