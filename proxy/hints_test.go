package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"sync"
	"testing"
)

// Two 103 Early Hints in front of a page, through an Upstream whose caller
// set a dozen headers first, one of them (Vary) also added to by the web
// app. Each hint carries what
// the web app added for it, minus internal headers; the final response
// has the caller's headers once, then the web app's.
func TestUpstreamEarlyHints(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Link", "</a.css>; rel=preload")
		h.Add("Vary", "Sec-Purpose")
		h.Set("X-Refreshed-Token", "secret")
		w.WriteHeader(http.StatusEarlyHints)
		h.Add("Link", "</b.js>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		h.Del("X-Refreshed-Token")
		h.Set("X-App", "page")
		io.WriteString(w, "page")
	})
	appSrv := httptest.NewServer(app)
	t.Cleanup(appSrv.Close)
	u, err := NewUpstream(UpstreamOptions{URL: appSrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for i := range 10 {
			h.Set(fmt.Sprintf("X-Gateway-%d", i), "g")
		}
		h.Set("Vary", "Origin")
		h.Add("Set-Cookie", "session=new; Path=/")
		u.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	var mu sync.Mutex
	var hints []textproto.MIMEHeader
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			hints = append(hints, h)
			return nil
		},
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, front.URL+"/", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	if len(hints) != 2 {
		t.Fatalf("%d hints, want 2", len(hints))
	}
	wantLinks := [][]string{{"</a.css>; rel=preload"}, {"</a.css>; rel=preload", "</b.js>; rel=preload"}}
	for i, h := range hints {
		if got := h.Values("Link"); !slices.Equal(got, wantLinks[i]) {
			t.Errorf("hint %d Link = %q, want %q", i, got, wantLinks[i])
		}
		if got := h.Values("Vary"); !slices.Equal(got, []string{"Sec-Purpose"}) {
			t.Errorf("hint %d Vary = %q, want only the web app's", i, got)
		}
		for _, k := range []string{"Set-Cookie", "X-Gateway-0", "X-Gateway-9", "X-Refreshed-Token"} {
			if v := h.Values(k); len(v) > 0 {
				t.Errorf("hint %d carries %s %q", i, k, v)
			}
		}
	}
	if string(body) != "page" || res.Header.Get("X-App") != "page" {
		t.Errorf("final response %q, X-App %q", body, res.Header.Get("X-App"))
	}
	if got := res.Header.Values("Set-Cookie"); !slices.Equal(got, []string{"session=new; Path=/"}) {
		t.Errorf("final Set-Cookie = %q, want the caller's, once", got)
	}
	if got := res.Header.Values("Vary"); !slices.Equal(got, []string{"Origin", "Sec-Purpose"}) {
		t.Errorf("final Vary = %q, want the caller's then the web app's", got)
	}
	for i := range 10 {
		if k := fmt.Sprintf("X-Gateway-%d", i); res.Header.Get(k) != "g" {
			t.Errorf("final response lost %s", k)
		}
	}
}

// reservedCookieApp sends a 103 Early Hints and then the page, each with
// Set-Cookie lines for the gateway's cookie names, spelled as browsers
// still read them as those names, and for cookies of its own.
func reservedCookieApp() http.Handler {
	lines := []string{
		"userAuthToken=forged; Path=/; HttpOnly",
		" guestAuthToken=forged; Path=/",
		"\trefreshToken =forged",
		"__csrf\t=forged",
		"locale=xx; Path=/",
		"userAuthToken", // no "=": an empty name to a browser, the name itself to some servers
		"theme=dark; Path=/",
		"UserAuthToken=other-cookie",
		"userAuthTokenX=other-cookie",
		"x=userAuthToken",
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Link", "</a.css>; rel=preload")
		h["Set-Cookie"] = lines
		w.WriteHeader(http.StatusEarlyHints)
		h["Set-Cookie"] = lines
		io.WriteString(w, "page")
	})
}

// reservedCookiesKept are the lines of reservedCookieApp that are not the
// gateway's.
var reservedCookiesKept = []string{"theme=dark; Path=/", "UserAuthToken=other-cookie", "userAuthTokenX=other-cookie", "x=userAuthToken"}

var reservedCookieNames = []string{"userAuthToken", "guestAuthToken", "refreshToken", "__csrf", "locale"}

// getWithHints requests url and returns the Set-Cookie lines of each 1xx
// and of the final response.
func getWithHints(t *testing.T, url string) (hints [][]string, final []string) {
	t.Helper()
	var mu sync.Mutex
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			hints = append(hints, h.Values("Set-Cookie"))
			return nil
		},
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	return hints, res.Header.Values("Set-Cookie")
}

func TestReservedCookiesDropped(t *testing.T) {
	t.Run("api", func(t *testing.T) {
		gw, _ := newAPITest(t, reservedCookieApp(), func(o *APIOptions) { o.ReservedCookies = reservedCookieNames })
		hints, final := getWithHints(t, gw.URL+"/api/page")
		if len(hints) != 1 || !slices.Equal(hints[0], reservedCookiesKept) {
			t.Errorf("1xx Set-Cookie = %q, want %q", hints, reservedCookiesKept)
		}
		if !slices.Equal(final, reservedCookiesKept) {
			t.Errorf("final Set-Cookie = %q, want %q", final, reservedCookiesKept)
		}
	})
	t.Run("upstream", func(t *testing.T) {
		_, front, _ := startUpstream(t, reservedCookieApp(), "", UpstreamOptions{ReservedCookies: reservedCookieNames})
		hints, final := getWithHints(t, front.URL+"/page")
		if len(hints) != 1 || !slices.Equal(hints[0], reservedCookiesKept) {
			t.Errorf("1xx Set-Cookie = %q, want %q", hints, reservedCookiesKept)
		}
		// The web app's final answer may set them (its locale switcher; its
		// own login with the auth API off).
		if len(final) != 10 {
			t.Errorf("final Set-Cookie = %q, want all 10 lines", final)
		}
	})
	t.Run("upstream without reserved names", func(t *testing.T) {
		_, front, _ := startUpstream(t, reservedCookieApp(), "", UpstreamOptions{})
		if _, final := getWithHints(t, front.URL+"/page"); len(final) != 10 {
			t.Errorf("final Set-Cookie = %q, want all 10 lines", final)
		}
	})
}
