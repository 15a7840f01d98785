package apilayer_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"testing"
	"time"
)

// An upstream's 103 Early Hints reach the browser with the upstream's own
// headers, internal ones removed; the gateway's headers (the Set-Cookie of
// a token refreshed in this request, the request ID) are neither sent with
// the hint nor lost from the final response. httputil.ReverseProxy copies
// a 1xx's headers into the response's header map and clears the map after
// writing it, which dropped them.
func TestEarlyHintsKeepTheGatewayHeaders(t *testing.T) {
	e := newEnv(t, nil)
	e.upstream.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload; as=style")
		w.Header().Set("X-Auth-User", "from-the-app")
		w.Header().Set("Set-Cookie", "userAuthToken=from-the-app")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("X-Auth-User")
		w.Header().Del("Set-Cookie")
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "page")
	}))
	old, err := e.backend.Demo().Issue("alice", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var hints []textproto.MIMEHeader
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			if code == http.StatusEarlyHints {
				hints = append(hints, h)
			}
			return nil
		},
	})
	res, err := e.client.Do(e.request(ctx, req{path: "/dashboard", cookies: map[string]string{"userAuthToken": old}}))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()

	if res.StatusCode != http.StatusOK || string(body) != "page" {
		t.Fatalf("final response %d %q, want 200 page", res.StatusCode, body)
	}
	var refreshed string
	for _, c := range res.Cookies() {
		if c.Name == "userAuthToken" {
			refreshed = c.Value
		}
	}
	if refreshed == "" || refreshed == old {
		t.Errorf("final response Set-Cookie %q: the refreshed token's cookie was lost", res.Header.Values("Set-Cookie"))
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.Error("final response lost X-Request-Id")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hints) != 1 {
		t.Fatalf("got %d Early Hints responses, want 1", len(hints))
	}
	h := hints[0]
	if h.Get("Link") != "</app.css>; rel=preload; as=style" {
		t.Errorf("103 Link = %q, want the upstream's", h.Get("Link"))
	}
	for _, name := range []string{"Set-Cookie", "X-Auth-User"} {
		if v := h.Values(name); len(v) > 0 {
			t.Errorf("103 carries %s: %q", name, v)
		}
	}
}
