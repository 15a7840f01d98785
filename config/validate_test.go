package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidateValid(t *testing.T) {
	for name, c := range map[string]*Config{
		"minimal":                  validConfig(),
		"minimal, defaults filled": func() *Config { c := validConfig(); c.Defaults(); return c }(),
		"static upstream and tls": {
			Backend:  Backend{URL: "https://api.example.com"},
			Upstream: Upstream{Static: "testdata/files/static"},
			TLS:      TLS{CertFile: "testdata/files/cert.pem", KeyFile: "testdata/files/key.pem"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"backend url required", func(c *Config) { c.Backend.URL = "" }, []string{"backend.url: required"}},
		{"backend url scheme", func(c *Config) { c.Backend.URL = "ftp://b/" },
			[]string{`backend.url: must be an http or https URL such as https://api.example.com/ (got "ftp://b/")`}},
		{"backend url host", func(c *Config) { c.Backend.URL = "http:///api" },
			[]string{`backend.url: must be an http or https URL such as https://api.example.com/ (got "http:///api/")`}},
		{"backend url query", func(c *Config) { c.Backend.URL = "http://b/?x=1" },
			[]string{`backend.url: must not have a query or fragment (got "http://b/?x=1/")`}},
		{"backend url password not shown", func(c *Config) { c.Backend.URL = "ftp://u:hunter2@b/" },
			[]string{`backend.url: must be an http or https URL such as https://api.example.com/ (got "ftp://u:<redacted>@b/")`}},
		{"endpoint absolute", func(c *Config) { c.Backend.Endpoints.Login = "http://evil/login" },
			[]string{`backend.endpoints.login: must be a path relative to backend.url such as auth/me (got "http://evil/login")`}},
		{"mapping pointer", func(c *Config) { c.Backend.Mapping.User = "data" },
			[]string{`backend.mapping.user: must be a JSON Pointer such as /data/user, or # for the whole answer (got "data")`}},
		{"mapping pointer: the whole answer", func(c *Config) { c.Backend.Mapping.User = "#" }, nil},
		{"mapping pointer: fragment form", func(c *Config) { c.Backend.Mapping.User = "#/data/us%20er" }, nil},
		{"mapping pointer: bad fragment", func(c *Config) { c.Backend.Mapping.User = "#data" },
			[]string{`backend.mapping.user: must be a JSON Pointer such as /data/user, or # for the whole answer (got "#data")`}},
		{"mapping pointer escape", func(c *Config) { c.Backend.Mapping.User = "/a~2b" },
			[]string{`backend.mapping.user: must be a JSON Pointer such as /data/user, or # for the whole answer (got "/a~2b")`}},
		{"breaker", func(c *Config) { c.Backend.Breaker = Breaker{Failures: -1, OpenFor: -time.Second} },
			[]string{"backend.breaker.failures: must be positive (got -1)", "backend.breaker.openFor: must be positive (got -1s)"}},
		{"breaker openFor at most 30s", func(c *Config) { c.Backend.Breaker.OpenFor = time.Minute },
			[]string{"backend.breaker.openFor: must be at most 30s, the longest a breaker stays open (got 1m)"}},
		{"breaker openFor 30s", func(c *Config) { c.Backend.Breaker.OpenFor = 30 * time.Second }, nil},
		{"listen", func(c *Config) { c.Listen = "8080" },
			[]string{`listen: must be an address such as :8080 or 127.0.0.1:8080 (got "8080")`}},
		{"tls needs both", func(c *Config) { c.TLS.CertFile = "testdata/files/cert.pem" },
			[]string{"tls.keyFile: required when tls.certFile is set (set both or neither)"}},
		{"tls files exist", func(c *Config) {
			c.TLS = TLS{CertFile: "testdata/files/nope.pem", KeyFile: "testdata/files"}
		}, []string{`tls.certFile: no such file or folder "testdata/files/nope.pem"`, `tls.keyFile: must be a file (got the folder "testdata/files")`}},
		{"negative durations", func(c *Config) {
			c.Server.IdleTimeout = -time.Second
			c.Validation.CacheTTL = Ptr(-2 * time.Second)
		}, []string{"server.idleTimeout: must not be negative (got -1s)", "validate.cacheTTL: must not be negative (got -2s)"}},
		{"negative server read timeouts", func(c *Config) {
			c.Server.ReadTimeout = -time.Second
			c.Server.BodyIdleTimeout = Ptr(-time.Second)
		}, []string{"server.readTimeout: must not be negative (got -1s)", "server.bodyIdleTimeout: must not be negative (got -1s)"}},
		{"sizes positive", func(c *Config) { c.API.MaxBodySize = -1 }, []string{"api.maxBodySize: must be positive (got -1)"}},
		{"health path", func(c *Config) { c.Health.Path = "health" }, []string{`health.path: must be a path starting with / (got "health")`}},
		{"upstream url and static", func(c *Config) {
			c.Upstream.URL = "http://127.0.0.1:3000"
			c.Upstream.Static = "testdata/files/static"
		}, []string{"upstream: set at most one of url and static"}},
		{"upstream static must be a folder", func(c *Config) { c.Upstream.Static = "testdata/files/cert.pem" },
			[]string{`upstream.static: must be a folder (got the file "testdata/files/cert.pem")`}},
		{"passAuthorization and hideTokens", func(c *Config) {
			c.Upstream.PassAuthorization, c.Upstream.HideTokens = true, true
		}, []string{"upstream: passAuthorization and hideTokens cannot both be true"}},
		{"sameSite enum", func(c *Config) { c.Cookies.SameSite = "loose" },
			[]string{`cookies.sameSite: must be lax, strict or none (got "loose")`}},
		{"sameSite none needs secure", func(c *Config) {
			c.Cookies.SameSite, c.Cookies.Secure = "none", SecureNever
		}, []string{"cookies.sameSite: none requires cookies.secure true or auto (browsers drop SameSite=None cookies without Secure)"}},
		{"sameSite none with auto is fine", func(c *Config) { c.Cookies.SameSite = "none" }, nil},
		{"secure enum", func(c *Config) { c.Cookies.Secure = "yes" }, []string{`cookies.secure: must be auto, true or false (got "yes")`}},
		{"cookie names", func(c *Config) {
			c.Cookies.User = "a b"
			c.Cookies.Refresh = "guestAuthToken"
		}, []string{`cookies.user: not a valid cookie name (got "a b")`, `cookies.refresh: same cookie name as cookies.guest ("guestAuthToken")`}},
		{"cookie domain", func(c *Config) { c.Cookies.Domain = "https://example.com" },
			[]string{`cookies.domain: must be a domain such as example.com (got "https://example.com")`}},
		{"guest rate", func(c *Config) { c.Guest.MaxPerMinute = -1 }, []string{"guest.maxPerMinute: must be positive (got -1)"}},
		{"guest credentials must be JSON", func(c *Config) { c.Guest.Credentials = map[string]any{"x": math.NaN()} },
			[]string{"guest.credentials: cannot be sent as JSON: json: unsupported value: NaN"}},
		{"validate mode", func(c *Config) { c.Validation.Mode = "remote" },
			[]string{`validate.mode: must be backend or local (got "remote")`}},
		{"cache size", func(c *Config) { c.Validation.CacheSize = -5 }, []string{"validate.cacheSize: must be positive (got -5)"}},
		{"local mode needs a key", func(c *Config) { c.Validation.Mode = "local" }, []string{
			"validate.local: local mode needs a key: set one of secret, publicKeyFile and jwksURL",
		}},
		{"local mode takes one key", func(c *Config) {
			c.Validation.Mode = "local"
			c.Validation.Local.Secret = "s"
			c.Validation.Local.JWKSURL = "https://idp/jwks.json"
			c.Validation.Local.Algorithms = []string{"HS256"}
		}, []string{
			"validate.local: set exactly one of secret, publicKeyFile and jwksURL",
		}},
		{"secret takes HS algorithms", func(c *Config) {
			c.Validation.Mode = "local"
			c.Validation.Local.Secret = "s"
			c.Validation.Local.Algorithms = []string{"HS512", "RS256", "none"}
		}, []string{
			"validate.local.algorithms[1]: RS256 does not fit validate.local.secret (an HMAC secret takes HS256, HS384 or HS512)",
			`validate.local.algorithms[2]: unknown algorithm "none" (want HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA)`,
		}},
		{"public key takes asymmetric algorithms", func(c *Config) {
			c.Validation.Mode = "local"
			c.Validation.Local.PublicKeyFile = "testdata/files/public.pem"
		}, []string{
			"validate.local.algorithms[0]: HS256 does not fit a public key (publicKeyFile and jwksURL take RS*, PS*, ES* or EdDSA)",
		}},
		{"public key fits ES256 and EdDSA", func(c *Config) {
			c.Validation.Mode = "local"
			c.Validation.Local.PublicKeyFile = "testdata/files/public.pem"
			c.Validation.Local.Algorithms = []string{"ES256", "EdDSA"}
		}, []string{}},
		{"jwks url", func(c *Config) {
			c.Validation.Mode = "local"
			c.Validation.Local.JWKSURL = "idp/jwks"
			c.Validation.Local.Algorithms = []string{"RS256"}
		}, []string{
			`validate.local.jwksURL: must be an http or https URL such as https://api.example.com/ (got "idp/jwks")`,
		}},
		{"reuse status codes", func(c *Config) { c.Refresh.ReuseStatusCodes = []int{409, 99} },
			[]string{"refresh.reuseStatusCodes[1]: must be an HTTP status code (got 99)"}},
		{"route lists", func(c *Config) {
			c.Access.ProtectedRoutes = []string{"/ok", "dashboard"}
			c.Access.LoginPath = "login"
		}, []string{`access.protectedRoutes[1]: must be a path starting with / (got "dashboard")`, `access.loginPath: must be a path starting with / (got "login")`}},
		{"return param", func(c *Config) { c.Access.ReturnParam = "a=b" },
			[]string{`access.returnParam: must be a query parameter name such as next (got "a=b")`}},
		{"rules", func(c *Config) {
			c.Access.Rules = []Rule{{Path: "admin/**", Roles: []string{"admin"}}, {Path: "/a**"}, {Roles: []string{"x"}, RolesField: "roles"}}
		}, []string{
			`access.rules[0].path: must be a path starting with / (got "admin/**")`,
			`access.rules[1].path: ** must be a whole path segment, as in /a/** (got "/a**")`,
			"access.rules[1].roles: must list at least one role",
			"access.rules[2].path: required",
			`access.rules[2].rolesField: must be a JSON Pointer such as /data/user, or # for the whole answer (got "roles")`,
		}},
		{"bypass paths", func(c *Config) { c.AuthAPI.BypassPaths = []string{"api/auth/login"}; c.AuthAPI.Enabled = new(false) },
			[]string{`authApi.bypassPaths[0]: must be a path starting with / (got "api/auth/login")`}},
		{"bypass paths with the auth API enabled", func(c *Config) { c.AuthAPI.BypassPaths = []string{"/api/revalidate"} },
			[]string{`authApi.bypassPaths: is used only when authApi.enabled is false; for the web app's own routes under api.prefix, use api.appRoutes`}},
		{"app routes are full paths under the prefix", func(c *Config) {
			c.API.AppRoutes = []string{"/api/revalidate", "/api/og/**", "revalidate", "/other/x", "/api"}
		},
			[]string{
				`api.appRoutes[2]: must be a path starting with / (got "revalidate")`,
				`api.appRoutes[2]: must be a full path under api.prefix /api, such as /api/revalidate (got "revalidate")`,
				`api.appRoutes[3]: must be a full path under api.prefix /api, such as /api/revalidate (got "/other/x")`,
			}},
		{"api prefix", func(c *Config) { c.API.Prefix = "api" }, []string{`api.prefix: must be a path such as /api (got "api")`}},
		{"api prefix root", func(c *Config) { c.API.Prefix = "/" }, []string{`api.prefix: must be a path such as /api (got "/")`}},
		{"public endpoints are relative globs", func(c *Config) { c.API.PublicEndpoints = []string{"news/*", "/news/*", "a/**/b", "x**"} },
			[]string{
				`api.publicEndpoints[1]: must be relative to api.prefix, without a leading / (got "/news/*")`,
				`api.publicEndpoints[3]: ** must be a whole path segment, as in /a/** (got "x**")`,
			}},
		{"method spoofing and sanitize enums", func(c *Config) {
			c.API.MethodSpoofing.Strategy = "query"
			c.API.Sanitize.Mode = "allowlist"
			c.API.Sanitize.AllowedTags = []string{"b", "<i>"}
		}, []string{
			`api.methodSpoofing.strategy: must be body or header (got "query")`,
			`api.sanitize.mode: must be strip, escape or allowList (got "allowlist")`,
			`api.sanitize.allowedTags[1]: must be an HTML tag name such as b (got "<i>")`,
		}},
		{"csrf secret with redis", func(c *Config) {
			c.CSRF.Enabled = true
			c.Store.Driver = "redis"
		}, []string{
			"csrf.secret: required when store.driver is redis (every instance must sign with the same secret)",
		}},
		{"csrf strategy and names", func(c *Config) {
			c.CSRF.Strategy = "origin"
			c.CSRF.HeaderName = "x csrf"
			c.CSRF.TrustedOrigins = []string{"https://ok.example", "https://bad.example/path"}
		}, []string{
			`csrf.strategy: must be both, fetch-metadata or double-submit (got "origin")`,
			`csrf.headerName: not a valid header name (got "x csrf")`,
			`csrf.trustedOrigins[1]: must be an origin such as https://app.example.com (got "https://bad.example/path")`,
		}},
		{"trusted proxies", func(c *Config) {
			c.ClientIP.TrustedProxies = []string{"10.0.0.0/8", "::1", "192.168.0.1", "10.0.0.0/40", "proxy"}
		},
			[]string{
				`clientIP.trustedProxies[3]: must be a CIDR such as 10.0.0.0/8 or an IP address (got "10.0.0.0/40")`,
				`clientIP.trustedProxies[4]: must be a CIDR such as 10.0.0.0/8 or an IP address (got "proxy")`,
			}},
		{"ip headers", func(c *Config) { c.ClientIP.Headers = []string{"x-real-ip", "bad header"} },
			[]string{`clientIP.headers[1]: not a valid header name (got "bad header")`}},
		{"rate limit", func(c *Config) {
			c.RateLimit.By = "session"
			c.RateLimit.MaxRequests = -1
			c.RateLimit.Rules = []RateLimitRule{{Path: "/login"}, {MaxRequests: 3, Window: -time.Second}}
		}, []string{
			"rateLimit.maxRequests: must be positive (got -1)",
			`rateLimit.by: must be ip or user (got "session")`,
			"rateLimit.rules[0].maxRequests: required",
			"rateLimit.rules[1].path: required",
			"rateLimit.rules[1].window: must be positive (got -1s)",
		}},
		{"ipv6 prefix length over 128", func(c *Config) { c.RateLimit.IPv6PrefixLength = 129 },
			[]string{"rateLimit.ipv6PrefixLength: must be 1 to 128 (got 129)"}},
		{"ipv6 prefix length negative", func(c *Config) { c.RateLimit.IPv6PrefixLength = -1 },
			[]string{"rateLimit.ipv6PrefixLength: must be 1 to 128 (got -1)"}},
		{"ipv6 prefix length 128", func(c *Config) { c.RateLimit.IPv6PrefixLength = 128 }, nil},
		{"ipv6 prefix length 1", func(c *Config) { c.RateLimit.IPv6PrefixLength = 1 }, nil},
		{"audit", func(c *Config) {
			c.Audit.Events = []string{"auth:fail", "ratelimit:exceeded", "everything"}
			c.Audit.Output = "syslog"
		}, []string{
			`audit.events[1]: unknown event "ratelimit:exceeded" (did you mean rateLimit:exceeded?)`,
			`audit.events[2]: unknown event "everything"`,
			`audit.output: must be stdout, stderr, file:<path> or an http(s) URL (got "syslog")`,
		}},
		{"audit outputs", func(c *Config) { c.Audit.Output = "file:" }, []string{"audit.output: file: needs a path, as in file:/var/log/apilayer/audit.log"}},
		{"audit file output", func(c *Config) { c.Audit.Output = "file:/var/log/audit.log" }, nil},
		{"audit webhook output", func(c *Config) { c.Audit.Output = "https://hooks.example.com/audit" }, nil},
		{"audit stderr output", func(c *Config) { c.Audit.Output = "stderr" }, nil},
		{"i18n enabled needs locales", func(c *Config) { c.I18n.Enabled = true }, []string{
			"i18n.locales: required when i18n.enabled is true",
			"i18n.defaultLocale: required when i18n.enabled is true",
		}},
		{"i18n default locale in locales", func(c *Config) {
			c.I18n.Enabled = true
			c.I18n.Locales = []string{"en", "tr", "not a locale"}
			c.I18n.DefaultLocale = "de"
		}, []string{
			`i18n.locales[2]: not a language tag such as en or pt-BR (got "not a locale")`,
			`i18n.defaultLocale: must be one of i18n.locales (got "de")`,
		}},
		{"i18n prefix", func(c *Config) { c.I18n.Prefix = "sometimes" }, []string{`i18n.prefix: must be never, as-needed or always (got "sometimes")`}},
		{"cors", func(c *Config) {
			c.CORS.AllowedOrigins = []string{"*"}
			c.CORS.AllowedHeaders = []string{"a:b"}
		}, []string{
			`cors.allowedOrigins[0]: "*" is not allowed: credentials are allowed, so list exact origins`,
			`cors.allowedHeaders[0]: not a valid header name (got "a:b")`,
		}},
		{"store", func(c *Config) {
			c.Store.Driver = "etcd"
			c.Store.Redis.URL = "http://:pw@r/"
			c.Store.Redis.NearCacheTTL = Ptr(-time.Second)
		}, []string{
			`store.driver: must be memory or redis (got "etcd")`,
			`store.redis.url: must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0 (got "http://:<redacted>@r/")`,
			`store.redis.nearCacheTTL: must not be negative (got -1s)`,
		}},
		{"store sentinel url", func(c *Config) {
			c.Store.Redis.URL = "redis://10.0.0.1:26379/0?master_name=main&addr=10.0.0.2:26379&addr=10.0.0.3:26379"
		}, nil},
		{"store sentinel url: empty master name, bad addr", func(c *Config) {
			c.Store.Redis.URL = "redis://10.0.0.1:26379/0?master_name=&addr=10.0.0.2"
		}, []string{
			`store.redis.url: master_name must name the master the sentinels monitor (got an empty name)`,
			`store.redis.url: addr must be a host:port such as 10.0.0.2:26379 (got "10.0.0.2")`,
		}},
		{"store peers", func(c *Config) {
			c.Store.Driver = "redis"
			c.Store.Peers = []string{"http://10.0.0.1:8080", "https://gw-2.internal", "dns:///gateway.internal:8080", "http://10.0.0.4:8080/"}
			c.Store.PeerSecret = strings.Repeat("s", 32)
		}, nil},
		{"store peers: bad entries, short secret", func(c *Config) {
			c.Store.Driver = "redis"
			c.Store.Peers = []string{
				"10.0.0.1:8080", "ftp://10.0.0.2", "http://u:pw@10.0.0.3:8080", "http://10.0.0.4:8080/gw",
				"http://10.0.0.5:8080?x=1", "dns://8.8.8.8/gw.internal:8080", "dns:///gw.internal", "http://10.0.0.6:0",
				"http://10.0.0.7:8080", "http://10.0.0.7:8080/",
			}
			c.Store.PeerSecret = "short"
		}, []string{
			`store.peers[0]: must be a base URL such as http://10.0.0.2:8080 or dns:///gateway.internal:8080 (got "10.0.0.1:8080")`,
			`store.peers[1]: must be a base URL such as http://10.0.0.2:8080 or dns:///gateway.internal:8080 (got "ftp://10.0.0.2")`,
			`store.peers[2]: must be a base URL such as http://10.0.0.2:8080 or dns:///gateway.internal:8080 (got "http://u:<redacted>@10.0.0.3:8080")`,
			`store.peers[3]: must be a base URL such as http://10.0.0.2:8080 or dns:///gateway.internal:8080 (got "http://10.0.0.4:8080/gw")`,
			`store.peers[4]: must be a base URL such as http://10.0.0.2:8080 or dns:///gateway.internal:8080 (got "http://10.0.0.5:8080?x=1")`,
			`store.peers[5]: must be a base URL such as http://10.0.0.2:8080 or dns:///gateway.internal:8080 (got "dns://8.8.8.8/gw.internal:8080")`,
			`store.peers[6]: must be a base URL such as http://10.0.0.2:8080 or dns:///gateway.internal:8080 (got "dns:///gw.internal")`,
			`store.peers[7]: must be a base URL such as http://10.0.0.2:8080 or dns:///gateway.internal:8080 (got "http://10.0.0.6:0")`,
			`store.peers[9]: listed twice (got "http://10.0.0.7:8080/")`,
			`store.peerSecret: must be at least 32 characters (got 5)`,
		}},
		{"store peers: memory store, no secret", func(c *Config) {
			c.Store.Peers = []string{"http://10.0.0.1:8080"}
		}, []string{
			`store.peers: used only with store.driver redis: peers decide who refreshes a token while Redis is unavailable (got driver "memory")`,
		}},
		{"store peers: no secret", func(c *Config) {
			c.Store.Driver = "redis"
			c.Store.Peers = []string{"http://10.0.0.1:8080"}
		}, []string{`store.peerSecret: required when store.peers is set (the same on every instance)`}},
		{"store peerSecret without peers", func(c *Config) {
			c.Store.PeerSecret = strings.Repeat("s", 32)
		}, []string{`store.peerSecret: is used only with store.peers`}},
		{"metrics path", func(c *Config) {
			c.Metrics.Enabled = true
			c.Metrics.Path = "/_apilayer/health"
		}, []string{`metrics.path: must differ from health.path (both are "/_apilayer/health")`}},
		{"admin listener", func(c *Config) {
			c.Admin.Listen = "127.0.0.1:9090"
			c.Admin.Pprof = true
			c.Metrics.Enabled = true
		}, nil},
		{"admin listener: bad address", func(c *Config) {
			c.Admin.Listen = "9090"
		}, []string{`admin.listen: must be an address such as 127.0.0.1:9090 (got "9090")`}},
		{"admin listener: the port of listen", func(c *Config) {
			c.Listen = ":8080"
			c.Admin.Listen = "127.0.0.1:8080"
		}, []string{`admin.listen: must not share its port with listen (both on 8080)`}},
		{"admin listener: another host, same port", func(c *Config) {
			c.Listen = "10.0.0.1:8080"
			c.Admin.Listen = "127.0.0.1:8080"
		}, nil},
		{"admin listener: metrics path taken", func(c *Config) {
			c.Admin.Listen = "127.0.0.1:9090"
			c.Metrics.Enabled = true
			c.Metrics.Path = "/readyz"
		}, []string{`metrics.path: must differ from /readyz, which the admin listener serves (got "/readyz")`}},
		{"pprof without the admin listener", func(c *Config) {
			c.Admin.Pprof = true
		}, []string{`admin.pprof: requires admin.listen (profiles are never served on listen)`}},
		{"tracing", func(c *Config) {
			r := 0.01
			c.Tracing = Tracing{Enabled: true, Exporter: "otlp-grpc", Endpoint: "http://collector:4317", SampleRatio: &r}
		}, nil},
		{"tracing: bad values", func(c *Config) {
			r := 1.5
			c.Tracing = Tracing{Enabled: true, Exporter: "zipkin", Endpoint: "collector:4317", SampleRatio: &r}
		}, []string{
			`tracing.exporter: must be otlp-http, otlp-grpc or stdout (got "zipkin")`,
			`tracing.sampleRatio: must be between 0 and 1 (got 1.5)`,
			`tracing.endpoint: must be an http or https URL such as https://api.example.com/ (got "collector:4317")`,
		}},
		{"tracing: stdout takes no endpoint", func(c *Config) {
			c.Tracing = Tracing{Enabled: true, Exporter: "stdout", Endpoint: "http://collector:4318"}
		}, []string{`tracing.endpoint: is not used by the stdout exporter; remove it or choose otlp-http or otlp-grpc`}},
		{"log", func(c *Config) {
			c.Log.Level = "trace"
			c.Log.Format = "xml"
		}, []string{`log.level: must be debug, info, warn or error (got "trace")`, `log.format: must be json or text (got "xml")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			got := errorLines(t, c.Validate())
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestValidateLines(t *testing.T) {
	c := mustParse(t, "backend:\n  timeout: 1s\ncookies:\n  user: sid\n  sameSite: loose\naccess:\n  rules:\n    - path: /x\n      roles: [a]\n    - path: y\n      roles: [b]\n")
	got := errorLines(t, c.Validate())
	want := []string{
		"c.yaml:1: backend.url: required",
		`c.yaml:5: cookies.sameSite: must be lax, strict or none (got "loose")`,
		`c.yaml:10: access.rules[1].path: must be a path starting with / (got "y")`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestValidateIsPure(t *testing.T) {
	c := validConfig()
	c.CSRF.IgnoreMethods = []string{"get"}
	c.API.Prefix = "/v1/"
	before := c.clone()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, before) {
		t.Errorf("Validate changed the Config:\nbefore %+v\nafter  %+v", before, c)
	}
}

// identity.*: the algorithm, the TTL bounds, the header name, and the key
// file (readable, PEM, a private key that fits the algorithm).
func TestValidateIdentity(t *testing.T) {
	const edKey = "testdata/files/identity.pem"
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecFile := write("ec.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})))
	pubDER, _ := x509.MarshalPKIXPublicKey(ecKey.Public())
	pubFile := write("public.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})))
	junk := write("junk.pem", "not a key, secret-value")

	tests := []struct {
		name   string
		change func(c *Identity, s *Store)
		want   []string
	}{
		{"defaults", func(c *Identity, s *Store) {}, nil},
		{"sign with a key file", func(c *Identity, s *Store) { c.Sign, c.KeyFile = true, edKey }, nil},
		{"sign without a key file, memory store (a warning)", func(c *Identity, s *Store) { c.Sign = true }, nil},
		{"ES256 with a P-256 key", func(c *Identity, s *Store) { c.Algorithm, c.KeyFile = "ES256", ecFile }, nil},
		{"sign with redis and a key file", func(c *Identity, s *Store) { c.Sign, c.KeyFile, s.Driver = true, edKey, "redis" }, nil},
		{"sign with redis without a key file", func(c *Identity, s *Store) { c.Sign, s.Driver = true, "redis" },
			[]string{"identity.keyFile: required when identity.sign is true and store.driver is redis (every instance must sign with the same key)"}},
		{"redis without sign needs no key", func(c *Identity, s *Store) { s.Driver = "redis" }, nil},
		{"unknown algorithm", func(c *Identity, s *Store) { c.Algorithm, c.KeyFile = "HS256", edKey },
			[]string{`identity.algorithm: must be EdDSA, ES256 or RS256 (got "HS256")`}},
		{"algorithm spelling", func(c *Identity, s *Store) { c.Algorithm = "eddsa" },
			[]string{`identity.algorithm: must be EdDSA, ES256 or RS256 (got "eddsa")`}},
		{"ttl too short", func(c *Identity, s *Store) { c.TTL = time.Second }, []string{"identity.ttl: must be between 2s and 1h (got 1s)"}},
		{"ttl too long", func(c *Identity, s *Store) { c.TTL = 2 * time.Hour }, []string{"identity.ttl: must be between 2s and 1h (got 2h)"}},
		{"ttl negative", func(c *Identity, s *Store) { c.TTL = -time.Minute }, []string{"identity.ttl: must be between 2s and 1h (got -1m)"}},
		{"header with a space", func(c *Identity, s *Store) { c.Header = "X Auth" }, []string{`identity.header: not a valid header name (got "X Auth")`}},
		{"header with _", func(c *Identity, s *Store) { c.Header = "X_Identity" },
			[]string{`identity.header: must not contain _ (proxies drop such headers, and app servers read _ as -); use - (got "X_Identity")`}},
		{"header X-Auth-User", func(c *Identity, s *Store) { c.Header = "x-auth-user" },
			[]string{`identity.header: "x-auth-user" is a header the gateway or HTTP already uses; choose another name such as X-Auth-Assertion`}},
		{"header Cookie", func(c *Identity, s *Store) { c.Header = "Cookie" },
			[]string{`identity.header: "Cookie" is a header the gateway or HTTP already uses; choose another name such as X-Auth-Assertion`}},
		{"header X-Middleware-*", func(c *Identity, s *Store) { c.Header = "X-Middleware-Identity" },
			[]string{`identity.header: "X-Middleware-Identity" is a header the gateway or HTTP already uses; choose another name such as X-Auth-Assertion`}},
		{"another header", func(c *Identity, s *Store) { c.Header = "X-Identity" }, nil},
		{"key file missing", func(c *Identity, s *Store) { c.KeyFile = filepath.Join(dir, "nope.pem") },
			[]string{fmt.Sprintf("identity.keyFile: no such file or folder %q", filepath.Join(dir, "nope.pem"))}},
		{"key file a folder", func(c *Identity, s *Store) { c.KeyFile = dir },
			[]string{fmt.Sprintf("identity.keyFile: must be a file (got the folder %q)", dir)}},
		{"key file not PEM", func(c *Identity, s *Store) { c.KeyFile = junk },
			[]string{fmt.Sprintf("identity.keyFile: %q: no PEM block found (want a PEM private key)", junk)}},
		{"a public key", func(c *Identity, s *Store) { c.Algorithm, c.KeyFile = "ES256", pubFile },
			[]string{fmt.Sprintf("identity.keyFile: %q: first block: got a PUBLIC KEY; the gateway signs, so it needs the private key", pubFile)}},
		{"a key of another algorithm", func(c *Identity, s *Store) { c.KeyFile = ecFile },
			[]string{fmt.Sprintf("identity.keyFile: %q: EdDSA needs an Ed25519 key (got an ECDSA P-256 key)", ecFile)}},
		{"Ed25519 key for RS256", func(c *Identity, s *Store) { c.Algorithm, c.KeyFile = "RS256", edKey },
			[]string{`identity.keyFile: "testdata/files/identity.pem": RS256 needs an RSA key of 2048 to 8192 bits (got an Ed25519 key)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c.Identity, &c.Store)
			got := errorLines(t, c.Validate())
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors\n got %q\nwant %q", got, tc.want)
			}
			for _, l := range got {
				if strings.Contains(l, "secret-value") {
					t.Errorf("error %q repeats the key file's content", l)
				}
			}
		})
	}
}

// authz.*: a clean path of unreserved characters, apart from the API and
// from what the gateway answers itself; passAuthorization only when on.
func TestValidateAuthz(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"off by default", func(c *Config) {}, nil},
		{"on with the default path", func(c *Config) { c.Authz.Enabled = true }, nil},
		{"another path", func(c *Config) { c.Authz = Authz{Enabled: true, Path: "/auth-check", PassAuthorization: true} }, nil},
		{"root", func(c *Config) { c.Authz = Authz{Enabled: true, Path: "/"} },
			[]string{`authz.path: must be a path such as /_apilayer/authz: letters, digits and - . _ ~ between single slashes, no trailing slash (got "/")`}},
		{"relative", func(c *Config) { c.Authz.Path = "_apilayer/authz" },
			[]string{`authz.path: must be a path such as /_apilayer/authz: letters, digits and - . _ ~ between single slashes, no trailing slash (got "_apilayer/authz")`}},
		{"trailing slash", func(c *Config) { c.Authz = Authz{Enabled: true, Path: "/authz/"} },
			[]string{`authz.path: must be a path such as /_apilayer/authz: letters, digits and - . _ ~ between single slashes, no trailing slash (got "/authz/")`}},
		{"double slash", func(c *Config) { c.Authz.Path = "//authz" },
			[]string{`authz.path: must be a path such as /_apilayer/authz: letters, digits and - . _ ~ between single slashes, no trailing slash (got "//authz")`}},
		{"dot segment", func(c *Config) { c.Authz.Path = "/a/../authz" },
			[]string{`authz.path: must be a path such as /_apilayer/authz: letters, digits and - . _ ~ between single slashes, no trailing slash (got "/a/../authz")`}},
		{"escaped", func(c *Config) { c.Authz.Path = "/auth%7Az" },
			[]string{`authz.path: must be a path such as /_apilayer/authz: letters, digits and - . _ ~ between single slashes, no trailing slash (got "/auth%7Az")`}},
		{"query", func(c *Config) { c.Authz.Path = "/authz?x" },
			[]string{`authz.path: must be a path such as /_apilayer/authz: letters, digits and - . _ ~ between single slashes, no trailing slash (got "/authz?x")`}},
		{"under the API prefix", func(c *Config) { c.Authz = Authz{Enabled: true, Path: "/api/authz"} },
			[]string{`authz.path: must not be under api.prefix /api: that is the API's (got "/api/authz")`}},
		{"the API prefix", func(c *Config) { c.Authz = Authz{Enabled: true, Path: "/v1"}; c.API.Prefix = "/v1/" },
			[]string{`authz.path: must not be under api.prefix /v1: that is the API's (got "/v1")`}},
		{"beside the API prefix", func(c *Config) { c.Authz = Authz{Enabled: true, Path: "/apis"} }, nil},
		{"the health path", func(c *Config) { c.Authz = Authz{Enabled: true, Path: "/_apilayer/health"} },
			[]string{`authz.path: must not be health.path or share its path /_apilayer/health (got "/_apilayer/health")`}},
		{"above the health path", func(c *Config) { c.Authz = Authz{Enabled: true, Path: "/_apilayer"} },
			[]string{`authz.path: must not be health.path or share its path /_apilayer/health (got "/_apilayer")`,
				`authz.path: must not be the JWKS path or share its path /_apilayer/jwks.json (got "/_apilayer")`}},
		{"the JWKS path", func(c *Config) { c.Authz = Authz{Enabled: true, Path: "/_apilayer/jwks.json"} },
			[]string{`authz.path: must not be the JWKS path or share its path /_apilayer/jwks.json (got "/_apilayer/jwks.json")`}},
		{"the metrics path", func(c *Config) {
			c.Authz = Authz{Enabled: true, Path: "/metrics"}
			c.Metrics.Enabled = true
		}, []string{`authz.path: must not be metrics.path or share its path /metrics (got "/metrics")`}},
		{"the metrics path, metrics off", func(c *Config) { c.Authz = Authz{Enabled: true, Path: "/metrics"} }, nil},
		{"below the metrics path", func(c *Config) {
			c.Authz = Authz{Enabled: true, Path: "/metrics/authz"}
			c.Metrics.Enabled = true
		}, []string{`authz.path: must not be metrics.path or share its path /metrics (got "/metrics/authz")`}},
		{"passAuthorization while off", func(c *Config) { c.Authz.PassAuthorization = true },
			[]string{"authz.passAuthorization: is used only when authz.enabled is true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(c)
			got := errorLines(t, c.Validate())
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
