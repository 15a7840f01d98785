package config_test

import (
	"reflect"
	"testing"

	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/clientip"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/cors"
	"github.com/apilayer/apilayer/csrf"
	"github.com/apilayer/apilayer/i18n"
	"github.com/apilayer/apilayer/localjwt"
	"github.com/apilayer/apilayer/proxy"
	"github.com/apilayer/apilayer/ratelimit"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/sanitize"
	"github.com/apilayer/apilayer/session"
)

// Each component has its own defaults, so that its zero Options work for a
// library user; the gateway passes the configuration's. A key left unset
// must mean the same in both, so every default that exists in both places
// is listed here. (config cannot take the components' constants: backend,
// proxy and session import config. backend's endpoint and mapping defaults
// are unexported: backend's TestDefaultsMatchConfig holds them.)
func TestDefaultsMatchComponents(t *testing.T) {
	var c config.Config
	c.Defaults()
	tests := []struct {
		key       string
		config    any
		component any
	}{
		{"csrf.cookieName", c.CSRF.CookieName, csrf.DefaultCookieName},
		{"csrf.headerName", c.CSRF.HeaderName, csrf.DefaultHeaderName},
		{"csrf.ignoreMethods", c.CSRF.IgnoreMethods, csrf.DefaultIgnoreMethods},
		{"clientIP.headers", c.ClientIP.Headers, clientip.DefaultHeaders},
		{"cors.allowedHeaders", c.CORS.AllowedHeaders, cors.DefaultAllowedHeaders},
		{"cors.maxAge", c.CORS.MaxAge, cors.DefaultMaxAge},
		{"upstream.timeout", c.Upstream.Timeout, proxy.DefaultUpstreamTimeout},
		{"api.maxBodySize", int64(c.API.MaxBodySize), int64(proxy.DefaultAPIMaxBodySize)},
		{"api.sanitize.mode", c.API.Sanitize.Mode, sanitize.ModeStrip},
		{"backend.timeout", c.Backend.Timeout, backend.DefaultTimeout},
		{"backend.breaker.failures", c.Backend.Breaker.Failures, backend.DefaultBreakerFailures},
		{"backend.breaker.openFor", c.Backend.Breaker.OpenFor, backend.DefaultBreakerOpenFor},
		{"validate.cacheSize", c.Validation.CacheSize, session.DefaultCacheSize},
		{"validate.local.tokenTypeClaim", c.Validation.Local.TokenTypeClaim, localjwt.DefaultTokenTypeClaim},
		{"rateLimit.window", c.RateLimit.Window, ratelimit.DefaultWindow},
		{"rateLimit.maxRequests", c.RateLimit.MaxRequests, ratelimit.DefaultMaxRequests},
		{"audit.queueSize", c.Audit.QueueSize, audit.DefaultQueueSize},
		{"i18n.prefix", c.I18n.Prefix, i18n.PrefixNever},
		{"store.redis.keyPrefix", c.Store.Redis.KeyPrefix, redisstore.DefaultKeyPrefix},
		{"store.redis.timeout", c.Store.Redis.Timeout, redisstore.DefaultTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if !reflect.DeepEqual(tt.config, tt.component) {
				t.Errorf("config default %v (%T), component default %v (%T)", tt.config, tt.config, tt.component, tt.component)
			}
		})
	}
}
