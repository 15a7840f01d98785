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
