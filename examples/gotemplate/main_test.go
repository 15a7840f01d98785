package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/apilayer/apilayer/internal/demo"
)

// recordingBackend is the demo backend on a loopback test server that
// remembers the query of the last GET posts.
type recordingBackend struct {
	srv *httptest.Server

	mu        sync.Mutex
	postsLang string // guarded by mu
	postsAuth bool   // guarded by mu: the last GET posts carried a token
}

func newRecordingBackend(t *testing.T) *recordingBackend {
	t.Helper()
	b := &recordingBackend{}
	d := demo.NewBackend(demo.BackendOptions{})
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/posts" {
			b.mu.Lock()
			b.postsLang = r.URL.Query().Get("lang")
			b.postsAuth = r.Header.Get("Authorization") != ""
			b.mu.Unlock()
		}
		d.ServeHTTP(w, r)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *recordingBackend) lastPosts() (lang string, authorized bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.postsLang, b.postsAuth
}

// browser is a cookie-keeping client of the app that does not follow
// redirects, like a browser tab whose every step the test checks.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

// startApp serves the app behind its gateway on a loopback test server, in
// front of a fresh demo backend.
func startApp(t *testing.T, guests bool) (*browser, *recordingBackend) {
	t.Helper()
	be := newRecordingBackend(t)
	s, err := newSite(siteConfig{
		BackendURL: be.srv.URL + "/api/",
		Guests:     guests,
		GuestLogin: demo.GuestCredentials(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: t, base: srv.URL, c: c}, be
}

// do sends a request and returns the status, the headers and the body.
func (b *browser) do(method, path string, body []byte, header map[string]string) (int, http.Header, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return res.StatusCode, res.Header, string(out)
}

func (b *browser) get(path string, header map[string]string) (int, http.Header, string) {
	b.t.Helper()
	return b.do(http.MethodGet, path, nil, header)
}

// cookie returns the value of the named cookie the browser holds.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// signIn does what static/app.js does: POST the form as JSON to the
// gateway's /api/auth/login with the CSRF cookie echoed in x-csrf-token.
func (b *browser) signIn(username, password string) {
	b.t.Helper()
	if code, _, _ := b.get("/login", nil); code != http.StatusOK {
		b.t.Fatalf("GET /login = %d", code)
	}
	tok := b.cookie("__csrf")
	if tok == "" {
		b.t.Fatal("the login page left no __csrf cookie for the script to echo")
	}
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	code, _, out := b.do(http.MethodPost, "/api/auth/login", body, map[string]string{"Content-Type": "application/json", "x-csrf-token": tok})
	if code != http.StatusOK {
		b.t.Fatalf("POST /api/auth/login = %d %s", code, out)
	}
}

func wantPage(t *testing.T, code int, h http.Header, body string, status int, contains ...string) {
	t.Helper()
	if code != status {
		t.Fatalf("status = %d, want %d (body %q)", code, status, body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want HTML", ct)
	}
	for _, s := range contains {
		if !strings.Contains(body, s) {
			t.Errorf("the page does not contain %q:\n%s", s, body)
		}
	}
}

func wantRedirect(t *testing.T, code int, h http.Header, loc string) {
	t.Helper()
	if code != http.StatusTemporaryRedirect || h.Get("Location") != loc {
		t.Fatalf("status %d Location %q, want 307 to %q", code, h.Get("Location"), loc)
	}
}

func TestAnonymousVisitor(t *testing.T) {
	b, _ := startApp(t, false)
	code, h, body := b.get("/", nil)
	wantPage(t, code, h, body, http.StatusOK, "You are browsing anonymously.", "Anonymous · ")
	code, h, body = b.get("/posts", nil)
	wantPage(t, code, h, body, http.StatusOK, "Sign in to read the posts.")
	if strings.Contains(body, "Welcome to apilayer") {
		t.Error("an anonymous visitor was shown the posts")
	}
	code, h, _ = b.get("/dashboard", nil)
	wantRedirect(t, code, h, "/login?next=%2Fdashboard")
	code, h, body = b.get("/login?next=%2Fdashboard", nil)
	wantPage(t, code, h, body, http.StatusOK, `<form id="login" data-next="/dashboard">`)
}

func TestGuestReadsPosts(t *testing.T) {
	b, be := startApp(t, true)
	code, h, body := b.get("/", nil)
	wantPage(t, code, h, body, http.StatusOK, "You are browsing as a guest", "token type: guest")
	if b.cookie("guestAuthToken") == "" {
		t.Fatal("no guest cookie after the first page")
	}
	code, h, body = b.get("/posts", nil)
	wantPage(t, code, h, body, http.StatusOK, "Welcome to apilayer", "Transparent refresh")
	if _, authorized := be.lastPosts(); !authorized {
		t.Error("the app called GET posts without the guest's token")
	}
	code, h, _ = b.get("/dashboard", nil)
	wantRedirect(t, code, h, "/login?next=%2Fdashboard")
}

func TestSignedInUser(t *testing.T) {
	b, be := startApp(t, true)
	b.signIn("alice", demo.AlicePassword)
	token := b.cookie("userAuthToken")
	if token == "" {
		t.Fatal("no user cookie after signing in")
	}

	code, h, body := b.get("/dashboard", map[string]string{"Accept-Language": "tr-TR,tr;q=0.9"})
	wantPage(t, code, h, body, http.StatusOK, "Merhaba, Alice!", "alice@example.com", "Welcome to apilayer", "Signed in as Alice", "Locale: tr")
	if strings.Contains(body, token) {
		t.Error("the page contains the user's token")
	}
	if lang, authorized := be.lastPosts(); lang != "tr" || !authorized {
		t.Errorf("GET posts had lang=%q authorized=%v, want tr with the user's token", lang, authorized)
	}

	// The login page is an auth route: a signed-in user is sent home.
	code, h, _ = b.get("/login", nil)
	wantRedirect(t, code, h, "/")

	// /admin/** needs the admin role: the gateway answers 403 itself.
	code, h, body = b.get("/admin", nil)
	wantPage(t, code, h, body, http.StatusForbidden, "You are not authorized for this action.")
	if strings.Contains(body, "Only users with the admin role get here") {
		t.Error("alice reached the admin page")
	}

	// Sign out, as the Sign out button does.
	code, _, out := b.do(http.MethodPost, "/api/auth/logout", []byte("{}"), map[string]string{"Content-Type": "application/json", "x-csrf-token": b.cookie("__csrf")})
	if code != http.StatusOK {
		t.Fatalf("POST /api/auth/logout = %d %s", code, out)
	}
	code, h, _ = b.get("/dashboard", nil)
	wantRedirect(t, code, h, "/login?next=%2Fdashboard")
}

func TestAdminSeesStats(t *testing.T) {
	b, _ := startApp(t, false)
	b.signIn("admin", demo.AdminPassword)
	code, h, body := b.get("/admin", nil)
	wantPage(t, code, h, body, http.StatusOK, "Signed in as Admin", "<th>users</th>", "<th>accessTokens</th>")
}

func TestWrongPasswordIsRefused(t *testing.T) {
	b, _ := startApp(t, true)
	b.get("/login", nil)
	body, _ := json.Marshal(map[string]string{"username": "alice", "password": "nope"})
	code, _, out := b.do(http.MethodPost, "/api/auth/login", body, map[string]string{"Content-Type": "application/json", "x-csrf-token": b.cookie("__csrf")})
	if code != http.StatusUnauthorized || !strings.Contains(out, "Invalid credentials.") {
		t.Fatalf("POST /api/auth/login = %d %s, want 401 Invalid credentials.", code, out)
	}
	if b.cookie("userAuthToken") != "" {
		t.Fatal("a failed sign-in left a user cookie")
	}
}

func TestLoginWithoutCSRFTokenIsRefused(t *testing.T) {
	b, _ := startApp(t, true)
	b.get("/login", nil)
	body, _ := json.Marshal(map[string]string{"username": "alice", "password": demo.AlicePassword})
	code, _, out := b.do(http.MethodPost, "/api/auth/login", body, map[string]string{"Content-Type": "application/json"})
	if code != http.StatusForbidden || !strings.Contains(out, "CSRF validation failed.") {
		t.Fatalf("POST /api/auth/login without x-csrf-token = %d %s, want 403", code, out)
	}
}

func TestStaticFilesAndNotFound(t *testing.T) {
	b, _ := startApp(t, true)
	code, h, body := b.get("/static/app.js", nil)
	if code != http.StatusOK || !strings.Contains(body, "/api/auth/login") || !strings.Contains(h.Get("Content-Type"), "javascript") {
		t.Fatalf("GET /static/app.js = %d %q", code, h.Get("Content-Type"))
	}
	if b.cookie("guestAuthToken") != "" {
		t.Error("a static file cost a guest token: /static should be excluded")
	}
	code, h, body = b.get("/nope", nil)
	wantPage(t, code, h, body, http.StatusNotFound, "There is no page here.")
}

// run starts the demo backend by itself and serves until its context ends.
func TestRunStartsTheDemoBackend(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, options{listen: "127.0.0.1:0", guests: true, guestUsername: demo.GuestUsername,
			guestPassword: demo.GuestPassword, ready: func(u string) { ready <- u }}, &out)
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("run returned before serving: %v", err)
	}
	res, err := http.Get(base + "/posts")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Welcome to apilayer") {
		t.Fatalf("GET /posts = %d %s", res.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(out.String(), "demo backend on http://127.0.0.1:") || !strings.Contains(out.String(), "open "+base) {
		t.Errorf("run printed %q", out.String())
	}
}
