package config

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestDefaults checks the default of every key on an empty Config.
func TestDefaults(t *testing.T) {
	var got Config
	got.Defaults()
	want := Config{
		Listen: ":8080",
		Server: Server{ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second, ShutdownTimeout: 30 * time.Second, MaxHeaderBytes: MiB,
			BodyIdleTimeout: Ptr(30 * time.Second)},
		Health: Health{Path: "/_apilayer/health"},
		Backend: Backend{
			Timeout: 10 * time.Second,
			Endpoints: Endpoints{Validate: "auth/me", Refresh: "auth/refresh", Guest: "auth/guest",
				Login: "auth/login", Register: "auth/register", Logout: "auth/logout"},
			Mapping: Mapping{Success: "/success", User: "/data", TokenType: "/data/type", ExpiresAt: "/data/exp",
				AccessToken: "/data/accessToken", RefreshToken: "/data/refreshToken", ErrorCode: "/code"},
			Breaker: Breaker{Failures: 5, OpenFor: time.Second},
		},
		Upstream: Upstream{Timeout: 60 * time.Second},
		Identity: Identity{Algorithm: "EdDSA", TTL: time.Minute, Header: "X-Auth-Assertion"},
		Authz:    Authz{Path: "/_apilayer/authz"},
		Cookies: Cookies{User: "userAuthToken", Guest: "guestAuthToken", Path: "/", Secure: SecureAuto, SameSite: "lax",
			MaxAge: 168 * time.Hour, GuestMaxAge: time.Hour, RefreshMaxAge: 336 * time.Hour},
		Guest: Guest{MaxPerMinute: 10},
		Validation: Validate{
			Mode: "backend", CacheTTL: Ptr(2 * time.Second), CacheSize: 10000, StaleIfError: Ptr(30 * time.Second),
			Local: Local{Algorithms: []string{"HS256"}, Leeway: Ptr(30 * time.Second), RequireExp: Ptr(true), TokenTypeClaim: "type"},
		},
		Refresh: Refresh{SingleFlight: Ptr(true), ProactiveWindow: 2 * time.Minute, GuestFallback: Ptr(true),
			ReuseStatusCodes: []int{409}, ReuseCodes: []string{"token_reuse"}, SuccessorTTL: Ptr(30 * time.Second)},
		Access:  Access{LoginPath: "/login", HomePath: "/"},
		AuthAPI: AuthAPI{Enabled: Ptr(true)},
		API: API{Prefix: "/api", Timeout: 30 * time.Second, MaxBodySize: 10 * MiB,
			MethodSpoofing: MethodSpoofing{Strategy: "body", FieldName: "_method"}, Sanitize: Sanitize{Mode: "strip"}},
		CSRF:      CSRF{Strategy: "both", CookieName: "__csrf", HeaderName: "x-csrf-token", IgnoreMethods: []string{"GET", "HEAD", "OPTIONS"}},
		ClientIP:  ClientIP{Headers: []string{"cf-connecting-ip", "true-client-ip", "x-real-ip", "x-forwarded-for"}},
		RateLimit: RateLimit{Window: time.Minute, MaxRequests: 100, By: "ip", SkipPrefetch: Ptr(true), IPv6PrefixLength: 64},
		Audit: Audit{Events: []string{"auth:success", "auth:fail", "auth:refresh", "auth:refresh:fail", "auth:reuse",
			"access:denied", "csrf:fail", "rateLimit:exceeded", "error"}, Output: "stdout", QueueSize: 10000},
		I18n:    I18n{ParamName: "lang", Prefix: "never", Cookie: "NEXT_LOCALE"},
		CORS:    CORS{AllowedHeaders: []string{"content-type", "x-csrf-token", "x-requested-with"}, MaxAge: 10 * time.Minute},
		Store:   Store{Driver: "memory", Redis: Redis{URL: "redis://127.0.0.1:6379/0", KeyPrefix: "apilayer:", Timeout: 100 * time.Millisecond, NearCacheTTL: Ptr(time.Second)}},
		Metrics: Metrics{Path: "/metrics"},
		Tracing: Tracing{Exporter: "otlp-http", SampleRatio: Ptr(0.1), ServiceName: "apilayer"},
		Log:     Log{Level: "info", Format: "json"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Defaults of the zero Config:\ngot  %+v\nwant %+v", got, want)
	}
}

func TestDefaultsKeepAndNormalize(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "explicit empty lists stay empty",
			yaml: "refresh:\n  reuseStatusCodes: []\n  reuseCodes: []\ncsrf:\n  ignoreMethods: []\nclientIP:\n  headers: []\naudit:\n  events: []\ncors:\n  allowedHeaders: []\nvalidate:\n  local:\n    algorithms: []\n",
			check: func(t *testing.T, c *Config) {
				for name, l := range map[string]int{
					"reuseStatusCodes": len(c.Refresh.ReuseStatusCodes), "reuseCodes": len(c.Refresh.ReuseCodes),
					"ignoreMethods": len(c.CSRF.IgnoreMethods), "headers": len(c.ClientIP.Headers),
					"events": len(c.Audit.Events), "allowedHeaders": len(c.CORS.AllowedHeaders),
					"algorithms": len(c.Validation.Local.Algorithms),
				} {
					if l != 0 {
						t.Errorf("%s got its default although set to []", name)
					}
				}
			},
		},
		{
			name: "absent lists get their default",
			yaml: "listen: :1\n",
			check: func(t *testing.T, c *Config) {
				if !slices.Equal(c.Refresh.ReuseStatusCodes, []int{409}) || !slices.Equal(c.CSRF.IgnoreMethods, DefaultIgnoreMethods) {
					t.Errorf("defaults missing: %v %v", c.Refresh.ReuseStatusCodes, c.CSRF.IgnoreMethods)
				}
			},
		},
		{
			name: "explicit cacheTTL 0 stays 0",
			yaml: "validate:\n  cacheTTL: 0s\n  staleIfError: 0s\nrefresh:\n  successorTTL: 0s\n  singleFlight: false\n",
			check: func(t *testing.T, c *Config) {
				if *c.Validation.CacheTTL != 0 || *c.Validation.StaleIfError != 0 || *c.Refresh.SuccessorTTL != 0 || *c.Refresh.SingleFlight {
					t.Errorf("explicit zero overwritten: %v %v %v %v", *c.Validation.CacheTTL, *c.Validation.StaleIfError, *c.Refresh.SuccessorTTL, *c.Refresh.SingleFlight)
				}
			},
		},
		{
			name: "explicit bodyIdleTimeout 0 stays 0 (off)",
			yaml: "server:\n  bodyIdleTimeout: 0s\n",
			check: func(t *testing.T, c *Config) {
				if *c.Server.BodyIdleTimeout != 0 || c.Server.ReadTimeout != 0 {
					t.Errorf("server.bodyIdleTimeout = %v, readTimeout = %v; want 0 and 0", *c.Server.BodyIdleTimeout, c.Server.ReadTimeout)
				}
			},
		},
		{
			name: "set values are kept",
			yaml: "listen: :1\ncookies:\n  user: sid\n  maxAge: 1h\nvalidate:\n  cacheTTL: 9s\n",
			check: func(t *testing.T, c *Config) {
				if c.Listen != ":1" || c.Cookies.User != "sid" || c.Cookies.MaxAge != time.Hour || *c.Validation.CacheTTL != 9*time.Second {
					t.Errorf("set values changed: %+v", c)
				}
			},
		},
		{
			name: "urls, endpoints and prefix are normalized",
			yaml: "backend:\n  url: http://b/api\n  endpoints:\n    validate: /users/me\napi:\n  prefix: /v1/\n",
			check: func(t *testing.T, c *Config) {
				if c.Backend.URL != "http://b/api/" || c.Backend.Endpoints.Validate != "users/me" || c.API.Prefix != "/v1" {
					t.Errorf("got url %q, validate %q, prefix %q", c.Backend.URL, c.Backend.Endpoints.Validate, c.API.Prefix)
				}
			},
		},
		{
			name: "identity.audience defaults to upstream.url without user info and trailing slash",
			yaml: "upstream:\n  url: http://app:secret@127.0.0.1:3000/base/\n",
			check: func(t *testing.T, c *Config) {
				if c.Identity.Audience != "http://127.0.0.1:3000/base" {
					t.Errorf("identity.audience = %q", c.Identity.Audience)
				}
			},
		},
		{
			name: "identity.audience set is kept",
			yaml: "upstream:\n  url: http://127.0.0.1:3000/\nidentity:\n  audience: https://app.example.com/\n",
			check: func(t *testing.T, c *Config) {
				if c.Identity.Audience != "https://app.example.com/" {
					t.Errorf("identity.audience = %q", c.Identity.Audience)
				}
			},
		},
		{
			name: "ignoreMethods are upper-cased",
			yaml: "csrf:\n  ignoreMethods: [get, Head]\n",
			check: func(t *testing.T, c *Config) {
				if !slices.Equal(c.CSRF.IgnoreMethods, []string{"GET", "HEAD"}) {
					t.Errorf("ignoreMethods = %v", c.CSRF.IgnoreMethods)
				}
			},
		},
		{
			name: "rule defaults",
			yaml: "access:\n  rules: [{path: /a, roles: [x]}, {path: /b, roles: [y], rolesField: /perms}]\nrateLimit:\n  window: 10s\n  rules: [{path: /a, maxRequests: 1}, {path: /b, maxRequests: 2, window: 1h}]\n",
			check: func(t *testing.T, c *Config) {
				if c.Access.Rules[0].RolesField != "/roles" || c.Access.Rules[1].RolesField != "/perms" {
					t.Errorf("rolesField = %q, %q", c.Access.Rules[0].RolesField, c.Access.Rules[1].RolesField)
				}
				if c.RateLimit.Rules[0].Window != 10*time.Second || c.RateLimit.Rules[1].Window != time.Hour {
					t.Errorf("rule windows = %v, %v", c.RateLimit.Rules[0].Window, c.RateLimit.Rules[1].Window)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.yaml)
			c.Defaults()
			tt.check(t, c)
			again := c.clone()
			again.Defaults()
			if !reflect.DeepEqual(again, c) {
				t.Errorf("Defaults is not idempotent:\nonce  %+v\ntwice %+v", c, again)
			}
		})
	}
}

func TestDefaultsDoNotChangeSharedLists(t *testing.T) {
	methods := []string{"get"}
	rules := []Rule{{Path: "/a", Roles: []string{"x"}}}
	c := Config{CSRF: CSRF{IgnoreMethods: methods}, Access: Access{Rules: rules}}
	c.Defaults()
	if methods[0] != "get" || rules[0].RolesField != "" {
		t.Errorf("Defaults changed the caller's lists: %v %+v", methods, rules)
	}
	c.CSRF.IgnoreMethods = nil
	c.Defaults()
	c.CSRF.IgnoreMethods[0] = "CHANGED"
	if DefaultIgnoreMethods[0] != "GET" {
		t.Errorf("Defaults shares the package default list")
	}
}
