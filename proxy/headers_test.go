package proxy

import (
	"net/http"
	"slices"
	"testing"
)

func TestStripInternal(t *testing.T) {
	// Map keys as they may reach the gateway: net/http canonicalizes a
	// name with '_' to "X_auth_user" (textproto keeps the underscore), and a
	// caller may build a header map by hand in any case.
	removed := []string{
		"X-Auth-User", "X_Auth_User", "X_auth_user", "x_auth_user", "X_AUTH_USER", "X-Auth_User", "x-auth-user",
		"X-Auth-Token-Type", "X_Auth_Token_Type", "X_auth_token_type",
		"X-Refreshed-Token", "X_Refreshed_Token", "X_refreshed_token",
		"X-Locale", "X_Locale", "X_locale",
		"X-Auth-Assertion", "X_Auth_Assertion", "X_auth_assertion",
		"X-Auth-User-Truncated", "X_Auth_User_Truncated", "X_auth_user_truncated",
		"X-Middleware-Subrequest", "X_Middleware_Subrequest", "X_middleware_subrequest", "x-MIDDLEWARE-prefetch",
		"X-Middleware-", "X_middleware_",
	}
	kept := []string{
		"Accept", "Cookie", "Authorization", "X-Request-Id", "X-Forwarded-For",
		"X-Auth-Users", "X-Auth", "X-Auth-User-Id", "X-Locales", "X-Middleware", "X-Middlewares-Subrequest",
		"Xx-Auth-User", "X.Auth.User", "X-Auth-Token-Typ",
	}
	h := http.Header{}
	for _, k := range removed {
		h[k] = []string{"forged"}
	}
	for _, k := range kept {
		h[k] = []string{"kept"}
	}
	StripInternal(h)
	for _, k := range removed {
		if v, ok := h[k]; ok {
			t.Errorf("%q kept (%q), want it removed", k, v)
		}
	}
	for _, k := range kept {
		if v := h[k]; !slices.Equal(v, []string{"kept"}) {
			t.Errorf("%q = %q, want it kept", k, v)
		}
	}
}
