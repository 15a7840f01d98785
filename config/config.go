package config

import "time"

// Config is the whole gateway configuration (docs/configuration.md).
type Config struct {
	Listen     string    `yaml:"listen"`
	TLS        TLS       `yaml:"tls"`
	Server     Server    `yaml:"server"`
	Health     Health    `yaml:"health"`
	Backend    Backend   `yaml:"backend"`
	Upstream   Upstream  `yaml:"upstream"`
	Identity   Identity  `yaml:"identity"`
	Authz      Authz     `yaml:"authz"`
	Cookies    Cookies   `yaml:"cookies"`
	Guest      Guest     `yaml:"guest"`
	Validation Validate  `yaml:"validate"` // named Validation: Config.Validate is the method
	Refresh    Refresh   `yaml:"refresh"`
	Access     Access    `yaml:"access"`
	AuthAPI    AuthAPI   `yaml:"authApi"`
	API        API       `yaml:"api"`
	CSRF       CSRF      `yaml:"csrf"`
	ClientIP   ClientIP  `yaml:"clientIP"`
	RateLimit  RateLimit `yaml:"rateLimit"`
	Audit      Audit     `yaml:"audit"`
	I18n       I18n      `yaml:"i18n"`
	CORS       CORS      `yaml:"cors"`
	Store      Store     `yaml:"store"`
	Metrics    Metrics   `yaml:"metrics"`
	Admin      Admin     `yaml:"admin"`
	Tracing    Tracing   `yaml:"tracing"`
	Log        Log       `yaml:"log"`

	src *source // where a parsed Config came from: file name and the line of each key
}

// TLS turns on an HTTPS listener when both files are set.
type TLS struct {
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
}

// Server holds the listener's hardening settings.
type Server struct {
	ReadHeaderTimeout time.Duration `yaml:"readHeaderTimeout"` // default 10s
	IdleTimeout       time.Duration `yaml:"idleTimeout"`       // default 120s
	ShutdownTimeout   time.Duration `yaml:"shutdownTimeout"`   // default 30s; in-flight requests get this long after SIGTERM
	MaxHeaderBytes    Size          `yaml:"maxHeaderBytes"`    // default 1MiB
	// default 0 (none); the longest a client may take to send a whole
	// request, headers and body: it bounds slow uploads (408 when no
	// response has started). Set it above the time your largest upload
	// takes on a slow connection.
	ReadTimeout time.Duration `yaml:"readTimeout"`
	// default 30s; 0 turns it off. An upload that sends no request body
	// data for this long is ended: 408 {"success":false,"message":"Request
	// timeout."} when no response has started, else the connection is
	// closed. A slow but steady upload is not cut.
	BodyIdleTimeout *time.Duration `yaml:"bodyIdleTimeout"`
}

// Health is the health endpoint; it is never authenticated nor forwarded.
type Health struct {
	Path string `yaml:"path"` // default /_apilayer/health
}

// Backend is the external JWT backend.
type Backend struct {
	URL       string        `yaml:"url"`     // required; endpoint paths are joined to it
	Timeout   time.Duration `yaml:"timeout"` // default 10s; bounds each call the gateway makes
	Endpoints Endpoints     `yaml:"endpoints"`
	Mapping   Mapping       `yaml:"mapping"`
	Breaker   Breaker       `yaml:"breaker"`
}

// Breaker is the circuit breaker each backend endpoint has (validate,
// refresh, guest, login, register, logout). After `failures` consecutive
// unavailable outcomes (timeout, connection error, 5xx, 429) the
// endpoint's calls fail at once as unavailable (stale-if-error, 503),
// without waiting for backend.timeout; after `openFor` the next call
// probes the backend alone, and an answer closes the breaker. Any other
// answer resets the count.
type Breaker struct {
	Failures int           `yaml:"failures"` // default 5; consecutive unavailable outcomes that open it
	OpenFor  time.Duration `yaml:"openFor"`  // default 1s; at most 30s; doubles on each failed probe, up to 30s
}

// Endpoints are paths relative to Backend.URL.
type Endpoints struct {
	Validate string `yaml:"validate"` // default auth/me
	Refresh  string `yaml:"refresh"`  // default auth/refresh
	Guest    string `yaml:"guest"`    // default auth/guest
	Login    string `yaml:"login"`    // default auth/login
	Register string `yaml:"register"` // default auth/register
	Logout   string `yaml:"logout"`   // default auth/logout
}

// Mapping holds JSON Pointers (RFC 6901) into backend responses, in the
// string form (/data/user) or the URI fragment form (#/data/user); "#" is
// the whole answer, for a backend that answers a bare user object.
type Mapping struct {
	Success      string `yaml:"success"`      // default /success; present and false => failure
	User         string `yaml:"user"`         // default /data; "#" = the whole answer
	TokenType    string `yaml:"tokenType"`    // default /data/type; missing => "user"
	ExpiresAt    string `yaml:"expiresAt"`    // default /data/exp (unix seconds)
	AccessToken  string `yaml:"accessToken"`  // default /data/accessToken
	RefreshToken string `yaml:"refreshToken"` // default /data/refreshToken
	ErrorCode    string `yaml:"errorCode"`    // default /code (then /error and /reason are read)
}

// Upstream is where page requests go: at most one of URL and Static.
type Upstream struct {
	URL               string        `yaml:"url"`
	Static            string        `yaml:"static"`            // folder to serve; unknown paths fall back to index.html
	Timeout           time.Duration `yaml:"timeout"`           // default 60s; waiting for response headers
	PassAuthorization bool          `yaml:"passAuthorization"` // also send Authorization: Bearer <token>
	HideTokens        bool          `yaml:"hideTokens"`        // the web app never sees tokens
}

// Identity configures signed identity: a short-lived JWS, signed by the
// gateway, that tells the web app who the visitor is; see
// docs/signed-identity.md.
type Identity struct {
	// Send every request forwarded to the web app with an identity (a
	// signed-in user or a guest) a signed assertion in `header`: claims
	// iss, aud, iat, exp, sub, typ, user and locale. The web app verifies
	// it against the public keys at /_apilayer/jwks.json, so it can
	// believe it even when it is reachable by other paths than the
	// gateway. The backend (API proxy) never receives it.
	Sign bool `yaml:"sign"`
	// EdDSA (default, Ed25519) | ES256 (ECDSA P-256) | RS256 (RSA, 2048
	// bits or more).
	Algorithm string `yaml:"algorithm"`
	// PEM private key that fits algorithm (PKCS #8, SEC 1 or PKCS #1,
	// unencrypted). Further PEM keys in the file (public or private) are
	// published in the JWKS but never sign: the next or previous key of a
	// rotation. Empty: a key is generated at start, with a warning (an
	// error with store.driver redis, where every instance must sign with
	// the same key).
	KeyFile string `yaml:"keyFile"`
	// default 60s; 2s to 1h. The lifetime of an assertion; the same
	// identity gets the same token for up to half of it, so signing costs
	// nothing per request in the steady state.
	TTL time.Duration `yaml:"ttl"`
	// The aud claim; empty means upstream.url without its user info and
	// trailing slash. The web app checks it when told to
	// (APILAYER_AUDIENCE for @apilayer/next).
	Audience string `yaml:"audience"`
	// default X-Auth-Assertion. The request header that carries the
	// assertion.
	Header string `yaml:"header"`
}

// Authz is forward-auth mode (docs/forward-auth.md): a proxy that stays
// in front of the web app (nginx auth_request, Traefik forwardAuth, Caddy
// forward_auth, Envoy ext_authz, ingress-nginx) asks the gateway whether
// each request may pass, and the gateway answers with the whole pipeline
// (rate limits, CSRF, validation, refresh, guest tokens, access rules)
// instead of proxying the request itself.
type Authz struct {
	// Answer forward-auth sub-requests at `path`. They are believed only
	// from clientIP.trustedProxies (any other peer gets 403), so list the
	// proxy there.
	Enabled bool `yaml:"enabled"`
	// default /_apilayer/authz; where the proxy sends its sub-requests:
	// exactly this path with X-Forwarded-Method and X-Forwarded-Uri
	// (Traefik, Caddy) or X-Original-Method and X-Original-URI (nginx),
	// or, for Envoy's path_prefix, this path followed by the original
	// path. Not under api.prefix, and never routed to from the outside.
	Path string `yaml:"path"`
	// Allowed answers for API paths also carry Authorization: Bearer
	// <effective token> (refreshed or minted in this request, else the
	// cookie's), for a proxy that sends API requests to the backend
	// itself; empty for other paths, publicEndpoints and X-Skip-Auth.
	PassAuthorization bool `yaml:"passAuthorization"`
}

// Cookies names the auth cookies and their attributes.
type Cookies struct {
	User          string        `yaml:"user"`          // default userAuthToken
	Guest         string        `yaml:"guest"`         // default guestAuthToken
	Refresh       string        `yaml:"refresh"`       // non-empty => dual-token mode
	Path          string        `yaml:"path"`          // default /
	Domain        string        `yaml:"domain"`        // default none (host-only)
	Secure        Secure        `yaml:"secure"`        // default auto
	SameSite      string        `yaml:"sameSite"`      // lax (default) | strict | none
	MaxAge        time.Duration `yaml:"maxAge"`        // default 168h; user (access) cookie
	GuestMaxAge   time.Duration `yaml:"guestMaxAge"`   // default 1h
	RefreshMaxAge time.Duration `yaml:"refreshMaxAge"` // default 336h
}

// Guest configures guest tokens for anonymous visitors.
type Guest struct {
	Enabled      bool           `yaml:"enabled"`
	Credentials  map[string]any `yaml:"credentials"`  // sent as the JSON body of the guest call
	MaxPerMinute int            `yaml:"maxPerMinute"` // default 10; guest tokens minted per client IP (IPv6: per rateLimit.ipv6PrefixLength prefix) per minute
}

// Validate configures token validation.
type Validate struct {
	Mode               string         `yaml:"mode"`               // backend (default) | local
	CacheTTL           *time.Duration `yaml:"cacheTTL"`           // default 2s; 0 disables; never past the token's exp
	CacheSize          int            `yaml:"cacheSize"`          // default 10000
	StaleIfError       *time.Duration `yaml:"staleIfError"`       // default 30s; 0 disables
	RevalidateInterval time.Duration  `yaml:"revalidateInterval"` // local mode; 0 = never
	Local              Local          `yaml:"local"`
}

// Local configures local JWT verification.
type Local struct {
	Secret         string         `yaml:"secret"`        // HMAC key (HS256/384/512)
	PublicKeyFile  string         `yaml:"publicKeyFile"` // PEM (RS*/PS*/ES*/EdDSA)
	JWKSURL        string         `yaml:"jwksURL"`       // fetched, cached, refetched on an unknown kid
	Algorithms     []string       `yaml:"algorithms"`    // default [HS256]; pinned
	Issuer         string         `yaml:"issuer"`
	Audience       string         `yaml:"audience"`
	Leeway         *time.Duration `yaml:"leeway"`         // default 30s
	RequireExp     *bool          `yaml:"requireExp"`     // default true
	TokenTypeClaim string         `yaml:"tokenTypeClaim"` // default type (then token_type)
}

// Refresh configures token refresh.
type Refresh struct {
	SingleFlight     *bool          `yaml:"singleFlight"`     // default true
	Proactive        bool           `yaml:"proactive"`        // default false
	ProactiveWindow  time.Duration  `yaml:"proactiveWindow"`  // default 2m
	GuestFallback    *bool          `yaml:"guestFallback"`    // default true
	ReuseStatusCodes []int          `yaml:"reuseStatusCodes"` // default [409]
	ReuseCodes       []string       `yaml:"reuseCodes"`       // default [token_reuse]
	SuccessorTTL     *time.Duration `yaml:"successorTTL"`     // default 30s
}

// Access holds the route access rules.
type Access struct {
	ProtectedRoutes       []string `yaml:"protectedRoutes"`
	AuthRoutes            []string `yaml:"authRoutes"`
	PublicRoutes          []string `yaml:"publicRoutes"`
	ProtectedByDefault    bool     `yaml:"protectedByDefault"`
	AllowedTokenTypes     []string `yaml:"allowedTokenTypes"`
	ExcludedPaths         []string `yaml:"excludedPaths"` // not authenticated at all; segment-aware prefix
	LoginPath             string   `yaml:"loginPath"`     // default /login
	HomePath              string   `yaml:"homePath"`      // default /
	ReturnParam           string   `yaml:"returnParam"`   // e.g. next => /login?next=/dashboard
	Rules                 []Rule   `yaml:"rules"`
	BlockBrowserAPIAccess bool     `yaml:"blockBrowserApiAccess"`
	// Match paths in any letter case (ASCII letters): protectedRoutes,
	// authRoutes, publicRoutes, excludedPaths, loginPath, homePath,
	// rules[].path, api.publicEndpoints, authApi.bypassPaths and rateLimit
	// rules and skipRoutes. Turn it on when the web app routes that way
	// (Express by default, IIS, ASP.NET), or /Dashboard would reach the page
	// of /dashboard unprotected. api.prefix and api.sanitize.skipEndpoints
	// stay case-sensitive.
	CaseInsensitive bool `yaml:"caseInsensitive"`
}

// Rule requires one of Roles for every path matching Path.
type Rule struct {
	Path       string   `yaml:"path"`       // glob on the full path
	Roles      []string `yaml:"roles"`      // the user must hold any of these
	RolesField string   `yaml:"rolesField"` // JSON Pointer into the user; default /roles
}

// AuthAPI configures the built-in auth API under {api.prefix}/auth/.
type AuthAPI struct {
	Enabled     *bool    `yaml:"enabled"`     // default true
	BypassPaths []string `yaml:"bypassPaths"` // only when enabled is false; empty = {prefix}/auth/{login,logout,me,refresh,register}
}

// API configures the API proxy to the backend.
type API struct {
	Prefix            string         `yaml:"prefix"`          // default /api
	PublicEndpoints   []string       `yaml:"publicEndpoints"` // globs relative to the prefix
	AppRoutes         []string       `yaml:"appRoutes"`       // full-path globs under the prefix that belong to the web app: page pipeline, forwarded to upstream
	SkipAuthByDefault bool           `yaml:"skipAuthByDefault"`
	Timeout           time.Duration  `yaml:"timeout"`     // default 30s; waiting for response headers
	MaxBodySize       Size           `yaml:"maxBodySize"` // default 10MiB
	MethodSpoofing    MethodSpoofing `yaml:"methodSpoofing"`
	Sanitize          Sanitize       `yaml:"sanitize"`
}

// MethodSpoofing turns PUT/PATCH/DELETE into POST for Laravel/Rails backends.
type MethodSpoofing struct {
	Enabled   bool   `yaml:"enabled"`
	Strategy  string `yaml:"strategy"`  // body (default) | header
	FieldName string `yaml:"fieldName"` // default _method
}

// Sanitize configures XSS sanitizing of JSON bodies.
type Sanitize struct {
	Enabled       bool     `yaml:"enabled"`
	Mode          string   `yaml:"mode"`      // strip (default) | escape | allowList
	Responses     bool     `yaml:"responses"` // also sanitize JSON responses
	AllowedTags   []string `yaml:"allowedTags"`
	SkipFields    []string `yaml:"skipFields"`
	SkipEndpoints []string `yaml:"skipEndpoints"`
}

// CSRF configures CSRF protection.
type CSRF struct {
	Enabled         bool     `yaml:"enabled"`
	Strategy        string   `yaml:"strategy"` // both (default) | fetch-metadata | double-submit
	Secret          string   `yaml:"secret"`
	PreviousSecrets []string `yaml:"previousSecrets"`
	CookieName      string   `yaml:"cookieName"`    // default __csrf
	HeaderName      string   `yaml:"headerName"`    // default x-csrf-token
	IgnoreMethods   []string `yaml:"ignoreMethods"` // default [GET, HEAD, OPTIONS]
	TrustSameSite   bool     `yaml:"trustSameSite"`
	TrustedOrigins  []string `yaml:"trustedOrigins"`
}

// ClientIP says who the client is.
type ClientIP struct {
	TrustedProxies []string `yaml:"trustedProxies"` // CIDRs or addresses
	Headers        []string `yaml:"headers"`        // default [cf-connecting-ip, true-client-ip, x-real-ip, x-forwarded-for]
}

// RateLimit configures rate limiting.
type RateLimit struct {
	Enabled      bool            `yaml:"enabled"`
	Window       time.Duration   `yaml:"window"`      // default 1m
	MaxRequests  int             `yaml:"maxRequests"` // default 100
	By           string          `yaml:"by"`          // ip (default) | user
	SkipRoutes   []string        `yaml:"skipRoutes"`
	SkipPrefetch *bool           `yaml:"skipPrefetch"` // default true: a router's GET/HEAD prefetch of a page is not counted (an API request always is)
	Rules        []RateLimitRule `yaml:"rules"`
	// default 64; IPv6 clients are counted by their /N prefix (1 to 128) for
	// rate limits by IP and for guest.maxPerMinute: one subscriber usually
	// holds a whole /64 and could use a new address for each request. IPv4
	// clients are counted by address; 128 counts IPv6 clients by address too.
	IPv6PrefixLength int `yaml:"ipv6PrefixLength"`
}

// RateLimitRule is a stricter limit for the paths matching Path.
type RateLimitRule struct {
	Path        string        `yaml:"path"`
	MaxRequests int           `yaml:"maxRequests"`
	Window      time.Duration `yaml:"window"`
}

// Audit configures audit events.
type Audit struct {
	Enabled       bool     `yaml:"enabled"`
	Events        []string `yaml:"events"`    // default: every event but auth:guest
	Output        string   `yaml:"output"`    // stdout (default) | stderr | file:<path> | http(s) URL
	QueueSize     int      `yaml:"queueSize"` // default 10000
	WebhookSecret string   `yaml:"webhookSecret"`
}

// I18n configures locale handling.
type I18n struct {
	Enabled       bool     `yaml:"enabled"`
	Locales       []string `yaml:"locales"`
	DefaultLocale string   `yaml:"defaultLocale"`
	ParamName     string   `yaml:"paramName"` // default lang
	Prefix        string   `yaml:"prefix"`    // never (default) | as-needed | always
	Cookie        string   `yaml:"cookie"`    // default NEXT_LOCALE
}

// CORS configures cross-origin access for a front end on another origin.
type CORS struct {
	AllowedOrigins []string      `yaml:"allowedOrigins"`
	AllowedHeaders []string      `yaml:"allowedHeaders"` // default [content-type, x-csrf-token, x-requested-with]
	MaxAge         time.Duration `yaml:"maxAge"`         // default 10m
}

// Store selects where shared state lives.
type Store struct {
	Driver string `yaml:"driver"` // memory (default) | redis
	Redis  Redis  `yaml:"redis"`
	// default none; with store.driver redis only. The base URL of every gateway
	// instance, this one included (http://10.0.0.2:8080, no path), or
	// dns:///name:port for every address of a DNS name, re-resolved every
	// 10s. The refresh of a token is done by one instance among those
	// answering, its owner (under the Redis lock when it can reach Redis),
	// and the others ask it over POST /_apilayer/peer/refresh, so tabs on
	// different instances are not logged out by the backend's reuse
	// detection while Redis is unavailable or flapping
	// (docs/distributed.md).
	Peers []string `yaml:"peers"`
	// required with store.peers; the same on every instance, at least 32
	// characters. Signs (HMAC-SHA256) every request and answer between
	// instances; a request without a valid signature gets 403.
	PeerSecret string `yaml:"peerSecret"`
}

// Redis configures the Redis store.
type Redis struct {
	// default redis://127.0.0.1:6379/0. Sentinel (high availability): the
	// sentinels as host and addr parameters and the monitored master's
	// name, redis://s1:26379/0?master_name=apilayer&addr=s2:26379&addr=s3:26379
	// (Redis's own password as ?password=..., the sentinels' as user:pass@).
	URL       string        `yaml:"url"`
	KeyPrefix string        `yaml:"keyPrefix"` // default "apilayer:"
	Timeout   time.Duration `yaml:"timeout"`   // default 100ms; each Redis call
	// default 1s; 0 turns it off. How long each instance keeps a
	// validation result read from Redis in its own memory, so a cache hit
	// costs no Redis round trip; never past the result's freshness
	// (validate.cacheTTL) nor the token's exp. Logouts and invalid verdicts
	// are sent to every instance over Redis pub/sub; one that an instance
	// missed (Redis away) lasts at most this long once Redis answers.
	NearCacheTTL *time.Duration `yaml:"nearCacheTTL"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	Enabled bool   `yaml:"enabled"`
	Path    string `yaml:"path"` // default /metrics
}

// Admin is the admin listener: metrics, probes and profiles on an address
// of their own, apart from the pages and the API; see docs/deployment.md.
type Admin struct {
	// An address such as 127.0.0.1:9090; empty (the default): no admin
	// listener. When set, it serves /livez (200 while the process runs),
	// /readyz (200 when the backend and Redis answer, else 503 with the
	// reason), metrics.path (with metrics.enabled; then no longer served on
	// listen), /_apilayer/jwks.json (with identity.sign) and, with pprof,
	// /debug/pprof/. Nothing there is authenticated: bind it to loopback or
	// a network only your probes and Prometheus reach. A change needs a
	// restart.
	Listen string `yaml:"listen"`
	// Serve Go's profiles at /debug/pprof/ on the admin listener (CPU, heap,
	// goroutines, execution trace). Never served on listen; requires
	// admin.listen.
	Pprof bool `yaml:"pprof"`
}

// Tracing configures OpenTelemetry tracing: a server span per request,
// child spans for the backend calls (validate, refresh, guest, login...)
// and the upstream and API proxy calls, W3C traceparent and tracestate
// taken from requests and sent on to the web app and the backend. Spans
// carry no token, cookie or user field but the user id; see
// docs/deployment.md#tracing.
type Tracing struct {
	// Record and export spans. Off (the default), the request path is the
	// same as without tracing, and a traceparent from the client passes
	// through to the web app and the backend untouched.
	Enabled bool `yaml:"enabled"`
	// Where spans go: otlp-http (the default; OTLP over HTTP), otlp-grpc,
	// or stdout (one JSON document per span, for a first look).
	Exporter string `yaml:"exporter"`
	// The collector's URL, e.g. http://otel-collector:4318 (otlp-http,
	// which adds /v1/traces to a URL without a path) or
	// http://otel-collector:4317 (otlp-grpc); https:// for TLS. Empty: the
	// OTEL_EXPORTER_OTLP_ENDPOINT environment variable, else localhost.
	// Spans that cannot be sent are dropped (logged once), never a
	// request.
	Endpoint string `yaml:"endpoint"`
	// default 0.1; 0 to 1. The share of requests that start a trace and
	// are recorded. A request whose traceparent says sampled is recorded
	// whatever the ratio, so that a trace started upstream stays whole.
	SampleRatio *float64 `yaml:"sampleRatio"`
	// default apilayer. The service.name of the spans.
	ServiceName string `yaml:"serviceName"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug | info (default) | warn | error
	Format string `yaml:"format"` // json (default) | text
	Access bool   `yaml:"access"` // one line per request
}
