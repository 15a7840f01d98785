package i18n

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func mustNew(t testing.TB, o Options) *Router {
	t.Helper()
	r, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// opts are the options of most tests: en (default), tr, pt-BR.
func opts(prefix string) Options {
	return Options{
		Locales:       []string{"en", "tr", "pt-BR"},
		DefaultLocale: "en",
		Prefix:        prefix,
		Cookie:        "NEXT_LOCALE",
	}
}

// request builds a GET request for target (path and query) with the given
// locale cookie ("" for none) and Accept-Language header ("" for none).
func request(target, cookie, acceptLanguage string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "NEXT_LOCALE", Value: cookie})
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	return req
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
		errs []string // substrings of the error; none means success
	}{
		{"valid", opts("as-needed"), nil},
		{"zero prefix is never", Options{Locales: []string{"en"}}, nil},
		{"no default locale", Options{Locales: []string{"en", "tr"}}, nil},
		{"duplicates", Options{Locales: []string{"en", "en", "tr"}, DefaultLocale: "tr"}, nil},
		{"bad tag", Options{Locales: []string{"en", "english please"}, DefaultLocale: "en"}, []string{`i18n: locale "english please" is not a language tag`}},
		{"unknown tag", Options{Locales: []string{"en", "xx"}}, []string{`"xx"`}},
		{"slash in tag", Options{Locales: []string{"en/tr"}}, []string{`locale "en/tr"`}},
		{"empty tag", Options{Locales: []string{""}}, []string{`locale ""`}},
		{"no locales", Options{}, []string{"i18n: no locales"}},
		{"default not a locale", Options{Locales: []string{"en", "tr"}, DefaultLocale: "de"}, []string{`i18n: default locale "de" is not one of the locales`}},
		{"bad prefix", Options{Locales: []string{"en"}, Prefix: "sometimes"}, []string{`i18n: prefix must be never, as-needed or always (got "sometimes")`}},
		{"every problem at once", Options{Locales: []string{"x y"}, DefaultLocale: "de", Prefix: "often"}, []string{`"x y"`, `"de"`, `"often"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.o)
			if len(tt.errs) == 0 {
				if err != nil || r == nil {
					t.Fatalf("New = %v, %v; want a router", r, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New succeeded; want an error containing %q", tt.errs)
			}
			for _, want := range tt.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestLocales(t *testing.T) {
	r := mustNew(t, Options{Locales: []string{"tr", "en", "tr", "pt-BR"}, DefaultLocale: "en"})
	got := r.Locales()
	if want := []string{"tr", "en", "pt-BR"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Locales() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if r.Locales()[0] != "tr" {
		t.Error("Locales() returned the router's own slice")
	}
}

func TestResolveStrip(t *testing.T) {
	r := mustNew(t, opts("never"))
	for _, tt := range []struct {
		name, path string
		locale     string
		prefixed   bool
		stripped   string
	}{
		{"locale alone", "/tr", "tr", true, "/"},
		{"locale with slash", "/tr/", "tr", true, "/"},
		{"page", "/tr/dashboard", "tr", true, "/dashboard"},
		{"trailing slash kept", "/tr/login/", "tr", true, "/login/"},
		{"deep", "/pt-BR/a/b/c", "pt-BR", true, "/a/b/c"},
		{"default locale prefixed", "/en/x", "en", true, "/x"},
		{"only the first segment", "/x/tr/y", "en", false, "/x/tr/y"},
		{"segment-aware", "/trx", "en", false, "/trx"},
		{"segment-aware with rest", "/trx/y", "en", false, "/trx/y"},
		{"case-sensitive", "/TR/x", "en", false, "/TR/x"},
		{"exact form only", "/pt-br/x", "en", false, "/pt-br/x"},
		{"canonical form is not the configured one", "/pt_BR/x", "en", false, "/pt_BR/x"},
		{"root", "/", "en", false, "/"},
		{"empty path reads as root", "", "en", false, "/"},
		{"relative path reads as absolute", "tr/x", "tr", true, "/x"},
		{"locale twice", "/tr/en/x", "tr", true, "/en/x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Resolve(request("/", "", ""), tt.path, false)
			if got.Locale != tt.locale || got.Prefixed != tt.prefixed || got.Path != tt.stripped {
				t.Errorf("Resolve(%q) = %+v; want Locale %q Prefixed %v Path %q", tt.path, got, tt.locale, tt.prefixed, tt.stripped)
			}
			if got.Redirect != "" || got.SetCookie {
				t.Errorf("Resolve(%q) with prefix never = %+v; want no redirect and no cookie", tt.path, got)
			}
		})
	}
}

func TestResolveDetect(t *testing.T) {
	r := mustNew(t, opts("never"))
	for _, tt := range []struct {
		name, path, cookie, acceptLanguage string
		want                               string
	}{
		{"prefix wins over cookie and header", "/tr/x", "pt-BR", "pt-BR", "tr"},
		{"cookie", "/x", "tr", "", "tr"},
		{"cookie wins over header", "/x", "tr", "pt-BR", "tr"},
		{"cookie not configured is ignored", "/x", "de", "tr", "tr"},
		{"cookie not exact is ignored", "/x", "TR", "", "en"},
		{"empty cookie is ignored", "/x", "", "tr", "tr"},
		{"header", "/x", "", "tr", "tr"},
		{"header region", "/x", "", "tr-TR", "tr"},
		{"header case", "/x", "", "TR-tr", "tr"},
		{"header language selects its region", "/x", "", "pt", "pt-BR"},
		{"header other region of a language", "/x", "", "pt-PT", "pt-BR"},
		{"header q-values order", "/x", "", "en;q=0.5, tr;q=0.9", "tr"},
		{"header first of equal q", "/x", "", "tr, en", "tr"},
		{"header region with q", "/x", "", "de-DE, en-GB;q=0.8, tr;q=0.7", "en"},
		{"header unsupported first", "/x", "", "fr-CA, fr;q=0.9, tr;q=0.1", "tr"},
		{"header q=0 is refusal", "/x", "", "tr;q=0, pt-BR;q=0.5", "pt-BR"},
		{"header wildcard", "/x", "", "*", "en"},
		{"header wildcard after unsupported", "/x", "", "de, *;q=0.5", "en"},
		{"header nothing supported", "/x", "", "de, fr", "en"},
		{"header weak match ignored", "/x", "", "zh-TW", "en"},
		{"header malformed", "/x", "", ";;;,=q", "en"},
		{"header bad entry skipped", "/x", "", "xx, tr;q=0.5", "tr"},
		{"header bad entry skipped keeps q order", "/x", "", "en;q=0.2, xx-!!, tr;q=0.5", "tr"},
		{"header too long", "/x", "", strings.Repeat("de, ", 300) + "tr", "en"},
		{"default", "/x", "", "", "en"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Resolve(request(tt.path, tt.cookie, tt.acceptLanguage), tt.path, false)
			if got.Locale != tt.want {
				t.Errorf("locale = %q, want %q (%+v)", got.Locale, tt.want, got)
			}
		})
	}
}

func TestResolveDetectEdges(t *testing.T) {
	t.Run("several Accept-Language lines", func(t *testing.T) {
		r := mustNew(t, opts("never"))
		req := request("/x", "", "")
		req.Header.Add("Accept-Language", "de")
		req.Header.Add("Accept-Language", "tr;q=0.5")
		if got := r.Resolve(req, "/x", false).Locale; got != "tr" {
			t.Errorf("locale = %q, want tr", got)
		}
	})
	t.Run("first configured cookie wins", func(t *testing.T) {
		r := mustNew(t, opts("never"))
		req := request("/x", "de", "")
		req.AddCookie(&http.Cookie{Name: "NEXT_LOCALE", Value: "tr"})
		if got := r.Resolve(req, "/x", false).Locale; got != "tr" {
			t.Errorf("locale = %q, want tr", got)
		}
	})
	t.Run("no cookie name configured", func(t *testing.T) {
		o := opts("never")
		o.Cookie = ""
		r := mustNew(t, o)
		if got := r.Resolve(request("/x", "tr", ""), "/x", false).Locale; got != "en" {
			t.Errorf("locale = %q, want en (cookie not read)", got)
		}
	})
	t.Run("no default locale", func(t *testing.T) {
		r := mustNew(t, Options{Locales: []string{"en", "tr"}, Prefix: "always"})
		got := r.Resolve(request("/x", "", "de"), "/x", false)
		if got.Locale != "" || got.Redirect != "" {
			t.Errorf("Resolve = %+v; want no locale and no redirect", got)
		}
	})
	t.Run("default not first", func(t *testing.T) {
		r := mustNew(t, Options{Locales: []string{"en", "tr", "pt-BR"}, DefaultLocale: "tr"})
		for _, al := range []string{"", "de", "*", "en", "pt"} {
			want := map[string]string{"": "tr", "de": "tr", "*": "tr", "en": "en", "pt": "pt-BR"}[al]
			if got := r.Resolve(request("/x", "", al), "/x", false).Locale; got != want {
				t.Errorf("Accept-Language %q: locale = %q, want %q", al, got, want)
			}
		}
	})
	t.Run("nil request", func(t *testing.T) {
		r := mustNew(t, opts("always"))
		if got := r.Resolve(nil, "/x", false); got.Locale != "en" || got.Redirect != "/en/x" {
			t.Errorf("Resolve(nil) = %+v; want the default locale and /en/x", got)
		}
		if got := r.Resolve(nil, "/tr/x", false); !got.SetCookie {
			t.Errorf("Resolve(nil, /tr/x) = %+v; want SetCookie", got)
		}
	})
}

func TestResolveRedirect(t *testing.T) {
	for _, tt := range []struct {
		name, prefix, target, cookie, acceptLanguage string
		path                                         string // cleaned path; "" means the path of target
		rawQuery                                     string // set as the request's raw query, when not ""
		redirect                                     string
		setCookie                                    bool
	}{
		// never: the prefix is honoured, nothing is redirected, no cookie.
		{name: "never unprefixed", prefix: "never", target: "/x", acceptLanguage: "tr"},
		{name: "never default prefixed", prefix: "never", target: "/en/x"},
		{name: "never other prefixed", prefix: "never", target: "/tr/x"},

		// as-needed.
		{name: "as-needed default unprefixed", prefix: "as-needed", target: "/x?a=1"},
		{name: "as-needed default prefixed", prefix: "as-needed", target: "/en/x?a=1&b=2", redirect: "/x?a=1&b=2", setCookie: true},
		{name: "as-needed default prefixed root", prefix: "as-needed", target: "/en", redirect: "/", setCookie: true},
		{name: "as-needed default prefixed trailing slash", prefix: "as-needed", target: "/en/x/", redirect: "/x/", setCookie: true},
		{name: "as-needed default prefixed, cookie already en", prefix: "as-needed", target: "/en/x", cookie: "en", redirect: "/x"},
		{name: "as-needed other prefixed", prefix: "as-needed", target: "/tr/x", setCookie: true},
		{name: "as-needed other prefixed, cookie already tr", prefix: "as-needed", target: "/tr/x", cookie: "tr"},
		{name: "as-needed other prefixed, cookie differs", prefix: "as-needed", target: "/tr/x", cookie: "en", setCookie: true},
		{name: "as-needed cookie", prefix: "as-needed", target: "/x?q=a%20b", cookie: "tr", redirect: "/tr/x?q=a%20b"},
		{name: "as-needed header", prefix: "as-needed", target: "/x", acceptLanguage: "pt-PT", redirect: "/pt-BR/x"},
		{name: "as-needed header default", prefix: "as-needed", target: "/x", acceptLanguage: "en-GB"},
		{name: "as-needed root", prefix: "as-needed", target: "/", acceptLanguage: "tr", redirect: "/tr/"},
		{name: "as-needed escaped path kept", prefix: "as-needed", target: "/caf%C3%A9", acceptLanguage: "tr", redirect: "/tr/caf%C3%A9"},

		// always.
		{name: "always root", prefix: "always", target: "/", redirect: "/en/"},
		{name: "always page", prefix: "always", target: "/x/y?a=1", redirect: "/en/x/y?a=1"},
		{name: "always cookie", prefix: "always", target: "/x", cookie: "tr", redirect: "/tr/x"},
		{name: "always header", prefix: "always", target: "/x", acceptLanguage: "tr-TR,en;q=0.5", redirect: "/tr/x"},
		{name: "always default prefixed", prefix: "always", target: "/en/x", setCookie: true},
		{name: "always other prefixed", prefix: "always", target: "/tr/x?a=1", setCookie: true},
		{name: "always not a locale", prefix: "always", target: "/trx", redirect: "/en/trx"},

		// Redirects are same-site paths whatever the caller passes.
		{name: "as-needed protocol-relative rest", prefix: "as-needed", target: "/en", path: "/en//evil.example/x", redirect: "/evil.example/x", setCookie: true},
		{name: "as-needed backslash rest", prefix: "as-needed", target: "/en", path: "/en/\\evil.example", redirect: "/evil.example", setCookie: true},
		{name: "control bytes drop the query", prefix: "always", target: "/x", path: "/x", rawQuery: "a=1\r\nSet-Cookie: x=y", redirect: "/en/x"},
		{name: "control bytes in the path: no redirect", prefix: "always", target: "/x", path: "/x\x19y"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := mustNew(t, opts(tt.prefix))
			req := request(tt.target, tt.cookie, tt.acceptLanguage)
			if tt.rawQuery != "" {
				req.URL.RawQuery = tt.rawQuery
			}
			path := tt.path
			if path == "" {
				path = req.URL.EscapedPath()
			}
			got := r.Resolve(req, path, false)
			if got.Redirect != tt.redirect || got.SetCookie != tt.setCookie {
				t.Errorf("Resolve(%q) = %+v; want Redirect %q SetCookie %v", tt.target, got, tt.redirect, tt.setCookie)
			}
		})
	}
}

func TestResolveAPI(t *testing.T) {
	for _, prefix := range []string{"never", "as-needed", "always"} {
		r := mustNew(t, opts(prefix))
		for _, tt := range []struct {
			name, path, cookie, acceptLanguage string
			locale, stripped                   string
		}{
			{"api default", "/api/news", "", "", "en", "/api/news"},
			{"api cookie", "/api/news", "tr", "", "tr", "/api/news"},
			{"api header", "/api/news", "", "pt", "pt-BR", "/api/news"},
			{"api prefixed", "/tr/api/news", "", "", "tr", "/api/news"},
			{"api default prefixed", "/en/api/news", "tr", "", "en", "/api/news"},
		} {
			t.Run(prefix+"/"+tt.name, func(t *testing.T) {
				got := r.Resolve(request(tt.path+"?a=1", tt.cookie, tt.acceptLanguage), tt.path, true)
				want := Result{Locale: tt.locale, Prefixed: strings.HasPrefix(tt.path, "/"+tt.locale+"/"), Path: tt.stripped}
				if got != want {
					t.Errorf("Resolve = %+v, want %+v (never a redirect or cookie)", got, want)
				}
			})
		}
	}
}

func TestLocalize(t *testing.T) {
	r := mustNew(t, opts("as-needed"))
	for _, tt := range []struct {
		name, request, path, want string
	}{
		{"prefixed request", "/tr/dashboard", "/login", "/tr/login"},
		{"prefixed request with query", "/tr/dashboard", "/login?returnTo=%2Ftr%2Fdashboard", "/tr/login?returnTo=%2Ftr%2Fdashboard"},
		{"prefixed request home", "/pt-BR/login", "/", "/pt-BR/"},
		{"default locale prefixed", "/en/dashboard", "/login", "/en/login"},
		{"unprefixed request", "/dashboard", "/login", "/login"},
		{"not a path", "/tr/dashboard", "https://example.com/login", "https://example.com/login"},
		{"empty", "/tr/dashboard", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := r.Resolve(request(tt.request, "tr", ""), tt.request, false)
			if got := r.Localize(tt.path, res); got != tt.want {
				t.Errorf("Localize(%q) after %q = %q, want %q", tt.path, tt.request, got, tt.want)
			}
		})
	}
	if got := r.Localize("/login", Result{Prefixed: true}); got != "/login" {
		t.Errorf("Localize without a locale = %q, want /login", got)
	}
}

func TestCookie(t *testing.T) {
	for _, tt := range []struct {
		name   string
		o      Options
		locale string
		want   *http.Cookie
	}{
		{"defaults", opts("always"), "tr", &http.Cookie{Name: "NEXT_LOCALE", Value: "tr", Path: "/", MaxAge: 31536000, SameSite: http.SameSiteLaxMode}},
		{"attributes", Options{Locales: []string{"en", "tr"}, Cookie: "lang", CookiePath: "/app", CookieDomain: "example.com", CookieSecure: true}, "en",
			&http.Cookie{Name: "lang", Value: "en", Path: "/app", Domain: "example.com", MaxAge: 31536000, Secure: true, SameSite: http.SameSiteLaxMode}},
		{"not a locale", opts("always"), "de", nil},
		{"empty locale", opts("always"), "", nil},
		{"no cookie name", Options{Locales: []string{"en"}}, "en", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := mustNew(t, tt.o).Cookie(tt.locale)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Cookie(%q) = %+v, want %+v", tt.locale, got, tt.want)
			}
			if got != nil {
				if err := got.Valid(); err != nil {
					t.Errorf("cookie not valid: %v", err)
				}
				if got.HttpOnly {
					t.Error("locale cookie is HttpOnly; a language switcher could not change it")
				}
			}
		})
	}
}

func TestQuery(t *testing.T) {
	for _, tt := range []struct {
		name, param, locale string
		want                url.Values
	}{
		{"default param", "", "tr", url.Values{"lang": {"tr"}}},
		{"param", "locale", "pt-BR", url.Values{"locale": {"pt-BR"}}},
		{"no locale", "", "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := mustNew(t, Options{Locales: []string{"en", "tr", "pt-BR"}, ParamName: tt.param})
			if got := r.Query(tt.locale); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Query(%q) = %v, want %v", tt.locale, got, tt.want)
			}
		})
	}
}

// TestConcurrentResolve runs Resolve from many goroutines; with -race it
// checks that a Router (and its language matcher) is safe to share.
func TestConcurrentResolve(t *testing.T) {
	r := mustNew(t, opts("as-needed"))
	headers := []string{"tr-TR", "pt", "en-GB;q=0.8, tr;q=0.9", "de", "xx, tr"}
	want := []string{"tr", "pt-BR", "tr", "en", "tr"}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(headers))
	for range 8 {
		wg.Go(func() {
			for i, h := range headers {
				if got := r.Resolve(request("/x", "", h), "/x", false).Locale; got != want[i] {
					errs <- h + ": got " + got + ", want " + want[i]
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
