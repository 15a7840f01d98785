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

func TestDropReservedCookies(t *testing.T) {
	reserved := reservedSet([]string{"user", "guest", ""})
	tests := []struct {
		name  string
		lines []string
		want  []string // nil: no Set-Cookie left
	}{
		{"none reserved", []string{"a=1", "b=2"}, []string{"a=1", "b=2"}},
		{"first", []string{"user=x; Path=/", "a=1"}, []string{"a=1"}},
		{"last", []string{"a=1", "guest=x"}, []string{"a=1"}},
		{"all", []string{"user=x", "guest=y"}, nil},
		{"spaces and tabs around the name", []string{" user =x", "\tguest\t=y", "a=1"}, []string{"a=1"}},
		{"no equals sign", []string{"user", "user; Path=/", "a=1"}, []string{"a=1"}},
		{"names are case-sensitive", []string{"User=x", "GUEST=y"}, []string{"User=x", "GUEST=y"}},
		{"reserved name as a value or attribute", []string{"a=user", "b=1; user=x", "users=1"}, []string{"a=user", "b=1; user=x", "users=1"}},
		{"empty name is not reserved", []string{"=x", "a=1"}, []string{"=x", "a=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Set-Cookie": slices.Clone(tt.lines)}
			dropReservedCookies(h, reserved)
			got, ok := h["Set-Cookie"]
			if !slices.Equal(got, tt.want) || ok != (tt.want != nil) {
				t.Errorf("Set-Cookie = %q (present %v), want %q", got, ok, tt.want)
			}
		})
	}
	h := http.Header{"Set-Cookie": {"a=1; Path=/", "b=2"}}
	if n := testing.AllocsPerRun(100, func() { dropReservedCookies(h, reserved) }); n != 0 {
		t.Errorf("%v allocations when nothing is dropped, want 0", n)
	}
}

// The gateway sets and deletes these names in header maps directly, which
// is only right for canonical names.
func TestHeaderNamesAreCanonical(t *testing.T) {
	for _, h := range []string{HeaderAuthUser, HeaderAuthUserTruncated, HeaderAuthAssertion, HeaderRefreshed,
		HeaderLocale, HeaderTokenType, "X-Forwarded-For", "X-Real-Ip", "X-Forwarded-Proto", "X-Forwarded-Host", "Authorization"} {
		if c := http.CanonicalHeaderKey(h); c != h {
			t.Errorf("%q is not canonical (%q)", h, c)
		}
	}
}
