package apilayer_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// tokenEnv is a gateway in front of a demo backend signing with signing.
func tokenEnv(t *testing.T, signing string, edit func(c *config.Config, b *testkit.Backend)) (*testkit.Backend, *testkit.Upstream, *httptest.Server) {
	t.Helper()
	b := testkit.NewBackend(t, demo.BackendOptions{Signing: signing})
	up := testkit.NewUpstream(t)
	cfg := config.Config{
		Backend:  config.Backend{URL: b.URL()},
		Upstream: config.Upstream{URL: up.URL()},
		Access:   config.Access{ProtectedRoutes: []string{"/dashboard"}},
	}
	edit(&cfg, b)
	gw, err := apilayer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(func() { srv.Close(); gw.Close() })
	return b, up, srv
}

func get(t *testing.T, url, cookie, ua string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "userAuthToken", Value: cookie})
	}
	req.Header.Set("User-Agent", ua)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func TestLocalModeMakesNoBackendCalls(t *testing.T) {
	for _, signing := range []string{"EdDSA", "RS256", "HS256"} {
		t.Run(signing, func(t *testing.T) {
			b, up, srv := tokenEnv(t, signing, func(c *config.Config, b *testkit.Backend) {
				c.Validation.Mode = "local"
				switch signing {
				case "HS256":
					c.Validation.Local = config.Local{Secret: string(b.Demo().Key()), Algorithms: []string{"HS256"}}
				default:
					c.Validation.Local = config.Local{JWKSURL: b.URL() + ".well-known/jwks.json", Algorithms: []string{signing}}
				}
			})
			tok, err := b.Demo().Issue("alice", 10*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			for range 5 {
				if res := get(t, srv.URL+"/dashboard", tok, "t"); res.StatusCode != 200 {
					t.Fatalf("status %d, want 200", res.StatusCode)
				}
			}
			if n := b.Calls("auth/me"); n != 0 {
				t.Fatalf("auth/me calls = %d, want 0 in local mode", n)
			}
			if u, err := up.Last().AuthUser(); err != nil || u["name"] != "Alice" {
				t.Fatalf("X-Auth-User = %v, %v; want the claims of alice", u, err)
			}
			forged := tok[:len(tok)-4] + "AAAA"
			if res := get(t, srv.URL+"/dashboard", forged, "t"); res.StatusCode != http.StatusTemporaryRedirect {
				t.Fatalf("a token with a forged signature got %d, want the login redirect", res.StatusCode)
			}
		})
	}
}

func TestLocalModeRevalidationStopsARevokedToken(t *testing.T) {
	b, _, srv := tokenEnv(t, "EdDSA", func(c *config.Config, b *testkit.Backend) {
		c.Validation.Mode = "local"
		c.Validation.RevalidateInterval = time.Nanosecond // every request confirms: the clock-driven interval is tested in package session
		c.Validation.CacheTTL = config.Ptr(time.Duration(0))
		c.Validation.Local = config.Local{JWKSURL: b.URL() + ".well-known/jwks.json", Algorithms: []string{"EdDSA"}}
		c.Refresh.GuestFallback = config.Ptr(false)
	})
	tok, _ := b.Demo().Issue("alice", 10*time.Minute)
	if res := get(t, srv.URL+"/dashboard", tok, "t"); res.StatusCode != 200 {
		t.Fatalf("status %d before revocation, want 200", res.StatusCode)
	}
	if n := b.Calls("auth/me"); n != 1 {
		t.Fatalf("auth/me calls = %d, want 1: the first request of a token confirms with the backend", n)
	}
	b.Demo().Revoke(tok)
	if res := get(t, srv.URL+"/dashboard", tok, "t"); res.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("status %d after revocation, want the login redirect", res.StatusCode)
	}
}

// Three tabs of one browser share an expired token; the backend answers 409
// to any second use of a refresh credential. Nobody is logged out and the
// backend refreshes once.
func TestThreeTabsRefreshOnce(t *testing.T) {
	b, up, srv := tokenEnv(t, "HS256", func(c *config.Config, _ *testkit.Backend) {})
	old, _ := b.Demo().Issue("alice", -time.Minute)
	var wg sync.WaitGroup
	statuses := make(chan int, 15)
	for tab := range 3 {
		wg.Go(func() {
			for range 5 {
				statuses <- get(t, srv.URL+"/dashboard", old, "browser-1").StatusCode
			}
			_ = tab
		})
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Fatalf("a tab got %d, want 200 for every request", s)
		}
	}
	if n := b.Calls("auth/refresh"); n != 1 {
		t.Fatalf("refresh calls = %d, want exactly 1", n)
	}
	seen := map[string]bool{}
	for _, r := range up.Requests() {
		if v, ok := r.Cookie("userAuthToken"); ok {
			seen[v] = true
		}
	}
	if len(seen) != 1 || seen[old] {
		t.Fatalf("the web app saw tokens %v, want the one successor for every request", seen)
	}
}

func TestDualTokenRefreshesWithTheRefreshCookie(t *testing.T) {
	b, _, srv := tokenEnv(t, "HS256", func(c *config.Config, _ *testkit.Backend) { c.Cookies.Refresh = "refreshToken" })
	// Log in through the demo backend to get a real pair of tokens.
	res, err := http.Post(b.URL()+"auth/login", "application/json", stringsReader(`{"username":"alice","password":"alice-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Data struct{ RefreshToken string } `json:"data"`
	}
	decodeJSON(t, res, &body)
	// The access cookie expired in the browser; only the refresh cookie is left.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/dashboard", nil)
	req.AddCookie(&http.Cookie{Name: "refreshToken", Value: body.Data.RefreshToken})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	out, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if out.StatusCode != 200 {
		t.Fatalf("status %d, want 200: the refresh cookie alone restores the session", out.StatusCode)
	}
	set := map[string]string{}
	for _, ck := range out.Cookies() {
		set[ck.Name] = ck.Value
	}
	if set["userAuthToken"] == "" || set["refreshToken"] == "" || set["refreshToken"] == body.Data.RefreshToken {
		t.Fatalf("Set-Cookie %v: want a new access token and the rotated refresh token", set)
	}
	if got := b.Last().Header.Get("Authorization"); got == "" {
		t.Fatal("no request recorded")
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func decodeJSON(t *testing.T, res *http.Response, v any) {
	t.Helper()
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
