package apilayer_test

import (
	"net/http"
	"testing"

	"github.com/apilayer/apilayer/config"
)

// withI18n turns i18n on with the locales en (default), tr and pt-BR and
// the page routing mode prefix; the locale cookie keeps its default name,
// NEXT_LOCALE.
func withI18n(prefix string) func(*config.Config) {
	return func(c *config.Config) {
		c.I18n = config.I18n{Enabled: true, Locales: []string{"en", "tr", "pt-BR"}, DefaultLocale: "en", Prefix: prefix}
	}
}

func withReturnParam(c *config.Config) { c.Access.ReturnParam = "next" }

// wantLocale checks the X-Locale header of the response and of the request
// the web app received.
func wantLocale(t *testing.T, e *env, res *http.Response, locale string) {
	t.Helper()
	if got := res.Header.Get("X-Locale"); got != locale {
		t.Errorf("response X-Locale = %q, want %q", got, locale)
	}
	if got := e.lastUpstream().Header.Get("X-Locale"); got != locale {
		t.Errorf("the web app received X-Locale %q, want %q", got, locale)
	}
}

// wantNoLocaleCookie checks that the response does not set NEXT_LOCALE.
func wantNoLocaleCookie(t *testing.T, res *http.Response) {
	t.Helper()
	if c := setCookies(res)["NEXT_LOCALE"]; c != nil {
		t.Errorf("Set-Cookie %q, want no locale cookie", c.Raw)
	}
}

// wantLocaleCookie checks that the response sets NEXT_LOCALE to locale: a
// year, Path=/, SameSite=Lax, readable by script (a language switcher
// overwrites it).
func wantLocaleCookie(t *testing.T, res *http.Response, locale string) {
	t.Helper()
	c := setCookies(res)["NEXT_LOCALE"]
	switch {
	case c == nil:
		t.Fatalf("no Set-Cookie for NEXT_LOCALE (got %q)", res.Header.Values("Set-Cookie"))
	case c.Value != locale || c.MaxAge != 365*24*3600 || c.Path != "/" || c.HttpOnly || c.SameSite != http.SameSiteLaxMode:
		t.Fatalf("Set-Cookie NEXT_LOCALE = %q, want %s, Max-Age one year, Path=/, SameSite=Lax, not HttpOnly", c.Raw, locale)
	}
}

// The locale prefix is stripped before any route list is matched, whatever
// the prefix mode: /tr/dashboard is protected like /dashboard, /tr/login is
// an auth route, /tr/assets is excluded. The web app receives the path as
// requested.
func TestI18nStripsTheLocaleBeforeRouteMatching(t *testing.T) {
	for _, mode := range []string{"never", "as-needed", "always"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, both(withI18n(mode), noGuest))
			alice := e.login("alice")
			cases := []struct {
				name    string
				path    string
				cookies map[string]string
				status  int
				loc     string // Location of a redirect
			}{
				{name: "anonymous on a prefixed protected page", path: "/tr/dashboard", status: 307, loc: "/tr/login"},
				{name: "anonymous on a prefixed protected subpage", path: "/tr/dashboard/settings", status: 307, loc: "/tr/login"},
				{name: "anonymous on a prefixed protected page, region locale", path: "/pt-BR/dashboard", status: 307, loc: "/pt-BR/login"},
				{name: "user on a prefixed protected page", path: "/tr/dashboard", cookies: map[string]string{"userAuthToken": alice}, status: 200},
				{name: "user on a prefixed auth route goes to the localized home", path: "/tr/login", cookies: map[string]string{"userAuthToken": alice}, status: 307, loc: "/tr/"},
				// Not a prefix, so not protected: forwarded, or with prefix
				// always sent to the default locale's copy (not to login).
				{name: "a segment that only starts like a locale is no prefix", path: "/trx/dashboard", status: 200},
				{name: "a locale segment further down is no prefix", path: "/x/tr/dashboard", status: 200},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if mode == "always" && c.status == 200 && c.cookies == nil {
						c.status, c.loc = 307, "/en"+c.path
					}
					e.upstream.Reset()
					res := e.do(req{path: c.path, cookies: c.cookies})
					if c.status == 307 {
						wantRedirect(t, res, c.loc)
						e.wantNoUpstream()
						return
					}
					wantForwarded(t, res, c.path)
				})
			}
		})
	}
}

func TestI18nExcludedPathUnderALocaleCostsNoBackendCall(t *testing.T) {
	e := newEnv(t, withI18n("as-needed"))
	res := e.do(req{path: "/tr/assets/app.css", header: map[string]string{"X-Locale": "de"}})
	wantForwarded(t, res, "/tr/assets/app.css")
	wantLocale(t, e, res, "tr")
	if n := len(e.backend.Requests()); n != 0 {
		t.Fatalf("the backend received %d requests for an excluded path, want none", n)
	}
}

// The login redirect keeps the locale of the request, and returnParam keeps
// the whole path the visitor asked for, locale and query included.
func TestI18nRedirectKeepsTheLocale(t *testing.T) {
	e := newEnv(t, both(withI18n("never"), withReturnParam))
	cases := []struct {
		name, path, loc string
	}{
		{"prefixed", "/tr/dashboard", "/tr/login?next=%2Ftr%2Fdashboard"},
		{"prefixed with a query", "/tr/dashboard?tab=2", "/tr/login?next=%2Ftr%2Fdashboard%3Ftab%3D2"},
		{"unprefixed", "/dashboard", "/login?next=%2Fdashboard"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.do(req{path: c.path})
			wantRedirect(t, res, c.loc)
		})
	}
}

// X-Locale is set on the request to the web app and on every response,
// refusals included; a forged X-Locale from the browser never reaches the
// web app.
func TestI18nXLocaleHeader(t *testing.T) {
	e := newEnv(t, withI18n("never"))
	t.Run("prefixed page", func(t *testing.T) {
		res := e.do(req{path: "/tr/about", header: map[string]string{"X-Locale": "de"}})
		wantForwarded(t, res, "/tr/about")
		wantLocale(t, e, res, "tr")
	})
	t.Run("unprefixed page gets the default", func(t *testing.T) {
		res := e.do(req{path: "/about", header: map[string]string{"X-Locale": "tr"}})
		wantForwarded(t, res, "/about")
		wantLocale(t, e, res, "en")
	})
	t.Run("a login redirect carries it", func(t *testing.T) {
		res := e.do(req{path: "/tr/dashboard"})
		wantRedirect(t, res, "/tr/login")
		if got := res.Header.Get("X-Locale"); got != "tr" {
			t.Errorf("X-Locale on the redirect = %q, want tr", got)
		}
	})
	t.Run("an API refusal carries it", func(t *testing.T) {
		e := newEnv(t, both(withI18n("never"), noGuest))
		res := e.do(req{path: "/api/posts", cookies: map[string]string{"NEXT_LOCALE": "tr"}})
		wantJSON(t, res, http.StatusUnauthorized, "Token not found.")
		if got := res.Header.Get("X-Locale"); got != "tr" {
			t.Errorf("X-Locale on the 401 = %q, want tr", got)
		}
	})
}

func TestI18nOffStripsAForgedXLocale(t *testing.T) {
	e := newEnv(t, nil)
	res := e.do(req{path: "/tr/about", header: map[string]string{"X-Locale": "tr"}})
	wantForwarded(t, res, "/tr/about")
	if got := e.lastUpstream().Header.Get("X-Locale"); got != "" {
		t.Fatalf("the web app received a forged X-Locale %q", got)
	}
	if got := res.Header.Get("X-Locale"); got != "" {
		t.Fatalf("response X-Locale = %q with i18n off, want none", got)
	}
}

// API paths have no locale prefix: their locale comes from the cookie,
// Accept-Language or the default, and reaches the backend as lang=<locale>,
// replacing a lang the client sent.
func TestI18nAddsTheLocaleToAPICalls(t *testing.T) {
	e := newEnv(t, withI18n("always"))
	alice := e.login("alice")
	cases := []struct {
		name    string
		path    string
		cookies map[string]string
		header  map[string]string
		lang    string
		query   map[string]string // other parameters the backend must see
	}{
		{name: "default", path: "/api/posts", lang: "en"},
		{name: "cookie", path: "/api/posts", cookies: map[string]string{"NEXT_LOCALE": "tr"}, lang: "tr"},
		{name: "Accept-Language", path: "/api/posts", header: map[string]string{"Accept-Language": "tr-TR,tr;q=0.9"}, lang: "tr"},
		{name: "cookie beats Accept-Language", path: "/api/posts", cookies: map[string]string{"NEXT_LOCALE": "pt-BR"}, header: map[string]string{"Accept-Language": "tr"}, lang: "pt-BR"},
		{name: "replaces the client's lang and keeps the rest", path: "/api/posts?lang=de&page=2", cookies: map[string]string{"NEXT_LOCALE": "tr"}, lang: "tr", query: map[string]string{"page": "2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cookies := map[string]string{"userAuthToken": alice}
			for k, v := range c.cookies {
				cookies[k] = v
			}
			res := e.do(req{path: c.path, cookies: cookies, header: c.header})
			wantStatus(t, res, http.StatusOK)
			if got := res.Header.Get("X-Locale"); got != c.lang {
				t.Errorf("response X-Locale = %q, want %q", got, c.lang)
			}
			wantNoLocaleCookie(t, res)
			rec := e.lastBackend("/api/posts")
			if got := rec.Query["lang"]; len(got) != 1 || got[0] != c.lang {
				// BUG(lead): apilayer.go provision never passes the i18n
				// query to the API proxy: proxy.NewAPI(proxy.APIOptions{...})
				// lacks `Query: g.apiQuery(),` (Gateway.apiQuery in
				// apilayer.go is defined but unused), so no lang=<locale>
				// reaches the backend and a client's lang=de goes through.
				t.Errorf("the backend saw lang=%q (query %q), want exactly %q", got, rec.RawQuery, c.lang)
			}
			for k, v := range c.query {
				if got := rec.Query.Get(k); got != v {
					t.Errorf("the backend saw %s=%q, want %q", k, got, v)
				}
			}
		})
	}
}

// prefix always: every page lives under a locale; an unprefixed page is
// redirected to the detected locale, query kept. API paths never are.
func TestI18nPrefixAlways(t *testing.T) {
	e := newEnv(t, withI18n("always"))
	cases := []struct {
		name    string
		path    string
		cookies map[string]string
		header  map[string]string
		loc     string
	}{
		{name: "root", path: "/", loc: "/en/"},
		{name: "page with a query", path: "/about?x=1", loc: "/en/about?x=1"},
		{name: "Accept-Language", path: "/about", header: map[string]string{"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.5"}, loc: "/tr/about"},
		{name: "cookie", path: "/about", cookies: map[string]string{"NEXT_LOCALE": "pt-BR"}, loc: "/pt-BR/about"},
		{name: "cookie naming an unconfigured locale is ignored", path: "/about", cookies: map[string]string{"NEXT_LOCALE": "de"}, header: map[string]string{"Accept-Language": "tr"}, loc: "/tr/about"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.upstream.Reset()
			res := e.do(req{path: c.path, cookies: c.cookies, header: c.header})
			wantRedirect(t, res, c.loc)
			e.wantNoUpstream()
			wantNoLocaleCookie(t, res)
		})
	}
	t.Run("prefixed page is forwarded and sets the cookie", func(t *testing.T) {
		res := e.do(req{path: "/tr/about"})
		wantForwarded(t, res, "/tr/about")
		wantLocale(t, e, res, "tr")
		wantLocaleCookie(t, res, "tr")
	})
	t.Run("the cookie already says so: not set again", func(t *testing.T) {
		res := e.do(req{path: "/tr/about", cookies: map[string]string{"NEXT_LOCALE": "tr"}})
		wantForwarded(t, res, "/tr/about")
		wantNoLocaleCookie(t, res)
	})
	t.Run("the cookie says otherwise: the prefix wins and resets it", func(t *testing.T) {
		res := e.do(req{path: "/pt-BR/about", cookies: map[string]string{"NEXT_LOCALE": "tr"}})
		wantForwarded(t, res, "/pt-BR/about")
		wantLocale(t, e, res, "pt-BR")
		wantLocaleCookie(t, res, "pt-BR")
	})
	t.Run("API paths are not redirected", func(t *testing.T) {
		res := e.do(req{path: "/api/posts", header: map[string]string{"Accept-Language": "tr"}})
		wantStatus(t, res, http.StatusOK)
		wantNoLocaleCookie(t, res)
	})
}

// prefix as-needed: the default locale has no prefix (/en/x goes to /x),
// other locales do (/x with Accept-Language tr goes to /tr/x).
func TestI18nPrefixAsNeeded(t *testing.T) {
	e := newEnv(t, withI18n("as-needed"))
	t.Run("default locale prefix is removed", func(t *testing.T) {
		for path, loc := range map[string]string{"/en/x": "/x", "/en": "/", "/en/x?a=1": "/x?a=1"} {
			res := e.do(req{path: path})
			wantRedirect(t, res, loc)
			// The visitor chose en by its URL: the cookie remembers it, on
			// the redirect itself.
			wantLocaleCookie(t, res, "en")
		}
	})
	t.Run("another detected locale gets its prefix", func(t *testing.T) {
		res := e.do(req{path: "/x", header: map[string]string{"Accept-Language": "tr"}})
		wantRedirect(t, res, "/tr/x")
		res = e.do(req{path: "/x", cookies: map[string]string{"NEXT_LOCALE": "tr"}})
		wantRedirect(t, res, "/tr/x")
	})
	t.Run("the default locale is served unprefixed", func(t *testing.T) {
		res := e.do(req{path: "/x", header: map[string]string{"Accept-Language": "en-GB,en;q=0.9"}})
		wantForwarded(t, res, "/x")
		wantLocale(t, e, res, "en")
		wantNoLocaleCookie(t, res)
	})
	t.Run("a non-default prefix is served and sets the cookie", func(t *testing.T) {
		res := e.do(req{path: "/tr/x"})
		wantForwarded(t, res, "/tr/x")
		wantLocale(t, e, res, "tr")
		wantLocaleCookie(t, res, "tr")
	})
	t.Run("switching back to the default does not loop", func(t *testing.T) {
		// On /tr/x the visitor picks English: /en/x sets the cookie to en
		// and goes to /x, which the cookie now keeps unprefixed.
		res := e.do(req{path: "/en/x", cookies: map[string]string{"NEXT_LOCALE": "tr"}})
		wantRedirect(t, res, "/x")
		wantLocaleCookie(t, res, "en")
		res = e.do(req{path: "/x", cookies: map[string]string{"NEXT_LOCALE": "en"}, header: map[string]string{"Accept-Language": "tr"}})
		wantForwarded(t, res, "/x")
		wantLocale(t, e, res, "en")
	})
}

// prefix never: no locale redirect and no locale cookie is ever set, but the
// cookie is still read.
func TestI18nPrefixNeverNeitherRedirectsNorSetsTheCookie(t *testing.T) {
	e := newEnv(t, withI18n("never"))
	for _, path := range []string{"/", "/about", "/tr/about", "/en/about"} {
		t.Run(path, func(t *testing.T) {
			res := e.do(req{path: path, header: map[string]string{"Accept-Language": "tr"}})
			wantForwarded(t, res, path)
			wantNoLocaleCookie(t, res)
		})
	}
}

// i18n.cookie names the cookie that is read and set; another cookie name,
// even the default one, is not read.
func TestI18nCustomCookieName(t *testing.T) {
	e := newEnv(t, both(withI18n("as-needed"), func(c *config.Config) { c.I18n.Cookie = "lang_pref" }))
	t.Run("read", func(t *testing.T) {
		res := e.do(req{path: "/x", cookies: map[string]string{"lang_pref": "tr"}})
		wantRedirect(t, res, "/tr/x")
	})
	t.Run("the default name is not read", func(t *testing.T) {
		res := e.do(req{path: "/x", cookies: map[string]string{"NEXT_LOCALE": "tr"}})
		wantForwarded(t, res, "/x")
		wantLocale(t, e, res, "en")
	})
	t.Run("set", func(t *testing.T) {
		res := e.do(req{path: "/tr/x"})
		wantForwarded(t, res, "/tr/x")
		c := setCookies(res)["lang_pref"]
		if c == nil || c.Value != "tr" {
			t.Fatalf("Set-Cookie = %q, want lang_pref=tr", res.Header.Values("Set-Cookie"))
		}
		wantNoLocaleCookie(t, res)
	})
}

// Locale detection on an unprefixed page: cookie, then Accept-Language
// (q-values, regions, bad entries skipped), then the default.
func TestI18nDetection(t *testing.T) {
	e := newEnv(t, withI18n("never"))
	cases := []struct {
		name   string
		cookie string
		accept string
		want   string
	}{
		{name: "nothing: the default", want: "en"},
		{name: "region selects its language", accept: "tr-TR", want: "tr"},
		{name: "language selects its configured region", accept: "pt", want: "pt-BR"},
		{name: "exact region", accept: "pt-BR,pt;q=0.9", want: "pt-BR"},
		{name: "q-values order the entries, not the header order", accept: "en;q=0.3,tr;q=0.9", want: "tr"},
		{name: "first of equal q-values", accept: "tr,en", want: "tr"},
		{name: "q=0 means not acceptable", accept: "tr;q=0,en;q=0.5", want: "en"},
		{name: "only q=0: the default", accept: "tr;q=0", want: "en"},
		{name: "unsupported language: the default", accept: "de-DE,de;q=0.9", want: "en"},
		{name: "unsupported first, supported later", accept: "de-DE,de;q=0.9,tr;q=0.8", want: "tr"},
		{name: "wildcard: the default", accept: "*", want: "en"},
		{name: "a malformed entry is skipped", accept: "!!bad!!,tr;q=0.8", want: "tr"},
		{name: "cookie beats Accept-Language", cookie: "pt-BR", accept: "tr", want: "pt-BR"},
		{name: "cookie naming an unconfigured locale is ignored", cookie: "de", accept: "tr", want: "tr"},
		{name: "cookie naming an unconfigured locale, no header", cookie: "fr", want: "en"},
		{name: "cookie is case-sensitive like the locales", cookie: "TR", want: "en"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := req{path: "/about", header: map[string]string{}}
			if c.cookie != "" {
				r.cookies = map[string]string{"NEXT_LOCALE": c.cookie}
			}
			if c.accept != "" {
				r.header["Accept-Language"] = c.accept
			}
			res := e.do(r)
			wantForwarded(t, res, "/about")
			wantLocale(t, e, res, c.want)
		})
	}
}

// The auth decision wins over a locale redirect: an anonymous visitor of a
// protected unprefixed page goes to the login page, not first to the
// locale's copy of the protected page; a signed-in user gets the locale
// redirect.
func TestI18nAuthDecisionWinsOverLocaleRedirect(t *testing.T) {
	for _, guests := range []bool{false, true} {
		name := "guests off"
		if guests {
			name = "guest minted"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, both(withI18n("always"), withReturnParam, func(c *config.Config) { c.Guest.Enabled = guests }))
			res := e.do(req{path: "/dashboard", header: map[string]string{"Accept-Language": "tr"}})
			wantRedirect(t, res, "/login?next=%2Fdashboard")
			e.wantNoUpstream()
			if guests {
				wantSet(t, res, "guestAuthToken", guestMaxAge)
			}
		})
	}
	t.Run("signed in: the locale redirect", func(t *testing.T) {
		e := newEnv(t, withI18n("always"))
		res := e.do(req{path: "/dashboard", cookies: map[string]string{"userAuthToken": e.login("alice")}, header: map[string]string{"Accept-Language": "tr"}})
		wantRedirect(t, res, "/tr/dashboard")
		e.wantNoUpstream()
	})
	t.Run("a refused API call is not redirected either", func(t *testing.T) {
		e := newEnv(t, both(withI18n("always"), noGuest))
		res := e.do(req{path: "/api/posts"})
		wantJSON(t, res, http.StatusUnauthorized, "Token not found.")
	})
}
