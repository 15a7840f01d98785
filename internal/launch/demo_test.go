package launch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"

	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/launch"
)

// syncBuffer is a bytes.Buffer safe for the writer (Demo) and the reader
// (the test) to use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoSmoke runs the whole demo (backend, web app, gateway) and walks a
// visitor through it with a cookie jar, as a browser would.
func TestDemoSmoke(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, logs syncBuffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- launch.Demo(ctx, launch.DemoOptions{
			Listen: "127.0.0.1:0",
			Out:    &out,
			Log:    &logs,
			Ready:  func(url string) { ready <- url },
		})
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("Demo returned before it was ready: %v", err)
	}
	// From here on Demo must be stopped and awaited, whatever happens.
	stopped := false
	stop := func() error {
		stopped = true
		cancel()
		return <-done
	}
	defer func() {
		if !stopped {
			stop()
		}
	}()

	t.Run("banner", func(t *testing.T) {
		banner := out.String()
		for _, want := range []string{base, "alice / " + demo.AlicePassword, "admin / " + demo.AdminPassword} {
			if !strings.Contains(banner, want) {
				t.Errorf("banner lacks %q:\n%s", want, banner)
			}
		}
	})

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(client.CloseIdleConnections)
	send := func(t *testing.T, method, path, body string) (*http.Response, string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, base+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if method != http.MethodGet {
			// The demo has CSRF protection on: send the double-submit token
			// from the cookie, as the browser app does.
			for _, c := range jar.Cookies(req.URL) {
				if c.Name == "__csrf" {
					req.Header.Set("x-csrf-token", c.Value)
				}
			}
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(b)
	}
	expectLoginRedirect := func(t *testing.T) {
		t.Helper()
		res, _ := send(t, http.MethodGet, "/dashboard", "")
		if res.StatusCode != http.StatusTemporaryRedirect {
			t.Fatalf("GET /dashboard = %d, want 307", res.StatusCode)
		}
		if got, want := res.Header.Get("Location"), "/login?next=%2Fdashboard"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
	}

	var guestToken string
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"home as guest", func(t *testing.T) {
			res, body := send(t, http.MethodGet, "/", "")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET / = %d, want 200", res.StatusCode)
			}
			var guest *http.Cookie
			for _, c := range res.Cookies() {
				if c.Name == "guestAuthToken" {
					guest = c
				}
			}
			if guest == nil || guest.Value == "" {
				t.Fatalf("GET / set no guest cookie; Set-Cookie: %q", res.Header.Values("Set-Cookie"))
			}
			if !guest.HttpOnly {
				t.Errorf("guest cookie is not HttpOnly: %q", res.Header.Values("Set-Cookie"))
			}
			guestToken = guest.Value
			if !strings.Contains(body, "Guest") {
				t.Errorf("home page does not show Guest:\n%s", body)
			}
		}},
		{"dashboard as guest redirects to login", expectLoginRedirect},
		{"login without the CSRF token is refused", func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, base+"/api/auth/login",
				strings.NewReader(`{"username":"alice","password":"`+demo.AlicePassword+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "CSRF validation failed.") {
				t.Errorf("POST /api/auth/login without x-csrf-token = %d %s, want 403 CSRF validation failed.", res.StatusCode, b)
			}
		}},
		{"login as alice", func(t *testing.T) {
			res, body := send(t, http.MethodPost, "/api/auth/login",
				`{"username":"alice","password":"`+demo.AlicePassword+`"}`)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("POST /api/auth/login = %d, want 200; body %s", res.StatusCode, body)
			}
			var got struct {
				Success bool           `json:"success"`
				Data    map[string]any `json:"data"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("login body %q: %v", body, err)
			}
			if !got.Success || got.Data["username"] != "alice" || got.Data["name"] != "Alice" {
				t.Errorf("login body = %s, want success with alice's user", body)
			}
			for _, field := range []string{"token", "accessToken", "refreshToken", "access_token", "refresh_token"} {
				if _, ok := got.Data[field]; ok {
					t.Errorf("login body carries %q: %s", field, body)
				}
			}
			var user string
			for _, c := range res.Cookies() {
				if c.Name == "userAuthToken" {
					user = c.Value
					if !c.HttpOnly {
						t.Errorf("user cookie is not HttpOnly")
					}
				}
			}
			if user == "" {
				t.Fatalf("login set no user cookie; Set-Cookie: %q", res.Header.Values("Set-Cookie"))
			}
			for _, tok := range []string{user, guestToken} {
				if strings.Contains(body, tok) {
					t.Errorf("login body contains a token: %s", body)
				}
			}
		}},
		{"dashboard as alice", func(t *testing.T) {
			res, body := send(t, http.MethodGet, "/dashboard", "")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET /dashboard = %d, want 200; body %s", res.StatusCode, body)
			}
			if !strings.Contains(body, "Signed in as Alice") {
				t.Errorf("dashboard does not show Alice:\n%s", body)
			}
		}},
		{"posts as alice", func(t *testing.T) {
			res, body := send(t, http.MethodGet, "/api/posts", "")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET /api/posts = %d, want 200; body %s", res.StatusCode, body)
			}
			var got struct {
				Success bool        `json:"success"`
				Data    []demo.Post `json:"data"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil || !got.Success || len(got.Data) == 0 {
				t.Errorf("posts body = %s (%v), want success with posts", body, err)
			}
		}},
		{"logout", func(t *testing.T) {
			res, body := send(t, http.MethodPost, "/api/auth/logout", "")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("POST /api/auth/logout = %d, want 200; body %s", res.StatusCode, body)
			}
			if strings.TrimSpace(body) != `{"success":true}` {
				t.Errorf("logout body = %s, want {\"success\":true}", body)
			}
		}},
		{"dashboard after logout redirects to login", expectLoginRedirect},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			break // each step needs the state the previous one left
		}
	}

	if err := stop(); err != nil {
		t.Errorf("Demo returned %v after cancel, want nil", err)
	}
	for _, secret := range []string{demo.AlicePassword, guestToken} {
		if secret != "" && strings.Contains(logs.String(), secret) {
			t.Errorf("the gateway log contains a secret %q", secret)
		}
	}
}

// TestDemoListenError checks that Demo reports an address it cannot listen
// on instead of serving elsewhere.
func TestDemoListenError(t *testing.T) {
	err := launch.Demo(context.Background(), launch.DemoOptions{Listen: "256.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "launch: gateway listener") {
		t.Fatalf("Demo on a bad address = %v, want a gateway listener error", err)
	}
}

// startDemo runs Demo until the test ends and returns its URL and banner.
func startDemo(t *testing.T, opts launch.DemoOptions) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	opts.Listen, opts.Out = "127.0.0.1:0", &out
	opts.Ready = func(url string) { ready <- url }
	go func() { done <- launch.Demo(ctx, opts) }()
	select {
	case base := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Demo returned %v after cancel", err)
			}
		})
		return base, &out
	case err := <-done:
		cancel()
		t.Fatalf("Demo returned before it was ready: %v", err)
	}
	return "", nil
}

func TestDemoLocalValidation(t *testing.T) {
	base, out := startDemo(t, launch.DemoOptions{Validate: "local"})
	if !strings.Contains(out.String(), "JWT EdDSA") || !strings.Contains(out.String(), "verified locally") {
		t.Fatalf("banner does not say tokens are verified locally:\n%s", out.String())
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(client.CloseIdleConnections)
	res, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/auth/login", strings.NewReader(`{"username":"alice","password":"`+demo.AlicePassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	for _, c := range jar.Cookies(req.URL) {
		if c.Name == "__csrf" {
			req.Header.Set("x-csrf-token", c.Value)
		}
	}
	if res, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("login status %d, want 200", res.StatusCode)
	}
	if res, err = client.Get(base + "/dashboard"); err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "Alice") {
		t.Fatalf("dashboard in local mode: status %d, want 200 showing Alice", res.StatusCode)
	}
}

func TestDemoRejectsAnUnknownValidateMode(t *testing.T) {
	err := launch.Demo(context.Background(), launch.DemoOptions{Listen: "127.0.0.1:0", Validate: "psychic"})
	if err == nil || !strings.Contains(err.Error(), "backend or local") {
		t.Fatalf("Demo(validate psychic) = %v, want an error naming the choices", err)
	}
}
