package i18n

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzResolve checks that Resolve never panics, that its locale is a
// configured one, that Path starts with "/", and that a redirect is a
// same-site path: it starts with exactly one "/" (never "//" or "/\", which
// browsers read as another host) and holds no control byte.
func FuzzResolve(f *testing.F) {
	for _, s := range []struct {
		path, query, cookie, acceptLanguage string
		api                                 bool
		mode                                uint8
	}{
		{"/", "", "", "", false, 0},
		{"/tr/login/", "a=1", "en", "tr-TR", false, 1},
		{"/en//evil.example", "", "", "", false, 1},
		{"/x", "q=%0d%0a", "NEXT_LOCALE=tr; x=y", "en-GB;q=0.8, *;q=0.1", false, 2},
		{"/pt-BR", "", "", "xx, pt", true, 2},
		{"", "", "", ";;;", false, 2},
		{"tr", "", "", "", false, 1},
		{"/en/\\\\x", "", "", "", false, 1},
		{"\x19", "", "", "0", false, 2},
	} {
		f.Add(s.path, s.query, s.cookie, s.acceptLanguage, s.api, s.mode)
	}
	modes := []string{"never", "as-needed", "always"}
	routers := make([]*Router, len(modes))
	for i, m := range modes {
		routers[i] = mustNew(f, opts(m))
	}
	f.Fuzz(func(t *testing.T, path, query, cookie, acceptLanguage string, api bool, mode uint8) {
		r := routers[int(mode)%len(routers)]
		req := &http.Request{
			Method: http.MethodGet,
			URL:    &url.URL{Path: path, RawQuery: query},
			Header: http.Header{"Cookie": {cookie}, "Accept-Language": {acceptLanguage}},
		}
		res := r.Resolve(req, path, api)
		if res.Locale != "" && !slices.Contains(r.Locales(), res.Locale) {
			t.Errorf("Locale %q is not configured", res.Locale)
		}
		if !strings.HasPrefix(res.Path, "/") {
			t.Errorf("Path %q does not start with /", res.Path)
		}
		if res.Redirect != "" {
			if api {
				t.Errorf("API request redirected to %q", res.Redirect)
			}
			if !strings.HasPrefix(res.Redirect, "/") || strings.HasPrefix(res.Redirect, "//") || strings.HasPrefix(res.Redirect, "/\\") {
				t.Errorf("Redirect %q is not a same-site path", res.Redirect)
			}
			if strings.ContainsFunc(res.Redirect, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
				t.Errorf("Redirect %q holds a control byte", res.Redirect)
			}
		}
		if res.SetCookie && r.Cookie(res.Locale) == nil {
			t.Errorf("SetCookie for %q, which has no cookie", res.Locale)
		}
		if l := r.Localize("/login", res); !strings.HasPrefix(l, "/") || strings.HasPrefix(l, "//") {
			t.Errorf("Localize(/login) = %q", l)
		}
	})
}
