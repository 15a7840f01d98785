package i18n

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
)

// localeServer serves pages the way the gateway's pipeline uses a Router:
// the locale redirect (with the cookie) or the page, which names the locale
// and the stripped path.
func localeServer(t *testing.T, r *Router) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		res := r.Resolve(req, req.URL.EscapedPath(), strings.HasPrefix(req.URL.Path, "/api/"))
		if res.SetCookie {
			http.SetCookie(w, r.Cookie(res.Locale))
		}
		if res.Locale != "" {
			w.Header().Set(Header, res.Locale)
		}
		if res.Redirect != "" {
			w.Header().Set("Location", res.Redirect)
			w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
		fmt.Fprintf(w, "%s %s %s", res.Locale, res.Path, r.Query(res.Locale).Encode())
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestServer(t *testing.T) {
	for _, tt := range []struct {
		name, prefix, acceptLanguage string
		visits                       []string // paths visited in turn, with one cookie jar
		hops                         [][]string
		bodies                       []string
	}{
		{
			name: "as-needed explicit default is remembered", prefix: "as-needed", acceptLanguage: "tr",
			visits: []string{"/en/x?a=1", "/y"},
			hops:   [][]string{{"/en/x?a=1", "/x?a=1"}, {"/y"}},
			bodies: []string{"en /x lang=en", "en /y lang=en"},
		},
		{
			name: "as-needed detected locale", prefix: "as-needed", acceptLanguage: "tr-TR, en;q=0.5",
			visits: []string{"/", "/x"},
			hops:   [][]string{{"/", "/tr/"}, {"/x", "/tr/x"}},
			bodies: []string{"tr / lang=tr", "tr /x lang=tr"},
		},
		{
			name: "always", prefix: "always", acceptLanguage: "de",
			visits: []string{"/?a=1", "/tr/x", "/y"},
			hops:   [][]string{{"/?a=1", "/en/?a=1"}, {"/tr/x"}, {"/y", "/tr/y"}},
			bodies: []string{"en / lang=en", "tr /x lang=tr", "tr /y lang=tr"},
		},
		{
			name: "api never redirected", prefix: "always", acceptLanguage: "pt",
			visits: []string{"/api/news"},
			hops:   [][]string{{"/api/news"}},
			bodies: []string{"pt-BR /api/news lang=pt-BR"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := localeServer(t, mustNew(t, opts(tt.prefix)))
			jar, err := cookiejar.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			var hops []string
			c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
				hops = append(hops, req.URL.RequestURI())
				return nil
			}}
			for i, v := range tt.visits {
				hops = []string{v}
				req, err := http.NewRequest(http.MethodGet, srv.URL+v, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Accept-Language", tt.acceptLanguage)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(hops) != fmt.Sprint(tt.hops[i]) {
					t.Errorf("visit %s: hops %q, want %q", v, hops, tt.hops[i])
				}
				if string(body) != tt.bodies[i] {
					t.Errorf("visit %s: body %q, want %q", v, body, tt.bodies[i])
				}
				if want := strings.Fields(tt.bodies[i])[0]; resp.Header.Get(Header) != want {
					t.Errorf("visit %s: %s = %q, want %q", v, Header, resp.Header.Get(Header), want)
				}
			}
		})
	}
}
