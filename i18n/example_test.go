package i18n_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/apilayer/apilayer/i18n"
)

func ExampleRouter_Resolve() {
	r, err := i18n.New(i18n.Options{
		Locales:       []string{"en", "tr"},
		DefaultLocale: "en",
		Prefix:        "as-needed",
		Cookie:        "NEXT_LOCALE",
	})
	if err != nil {
		panic(err)
	}

	// A Turkish page: the prefix is stripped for route matching, and a
	// login redirect keeps the locale.
	req := httptest.NewRequest("GET", "/tr/dashboard", nil)
	res := r.Resolve(req, "/tr/dashboard", false)
	fmt.Println(res.Locale, res.Path, r.Localize("/login", res), res.SetCookie)

	// An unprefixed page from a Turkish browser is redirected to /tr/...
	req = httptest.NewRequest("GET", "/news?page=2", nil)
	req.Header.Set("Accept-Language", "tr-TR, en;q=0.5")
	res = r.Resolve(req, "/news", false)
	fmt.Println(res.Locale, res.Redirect)

	// ...and the default locale needs no prefix.
	req = httptest.NewRequest("GET", "/en/news", nil)
	res = r.Resolve(req, "/en/news", false)
	fmt.Println(res.Locale, res.Redirect, res.SetCookie, r.Cookie(res.Locale))

	// API requests are never redirected; the backend gets ?lang=.
	res = r.Resolve(req, "/api/posts", true)
	fmt.Println(res.Locale, res.Redirect == "", r.Query(res.Locale).Encode())
	// Output:
	// tr /dashboard /tr/login true
	// tr /tr/news?page=2
	// en /news true NEXT_LOCALE=en; Path=/; Max-Age=31536000; SameSite=Lax
	// en true lang=en
}
