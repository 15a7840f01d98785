package demo_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/internal/demo"
)

func authUser(t *testing.T, user map[string]any) string {
	t.Helper()
	b, err := json.Marshal(user)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestApp(t *testing.T) {
	srv := httptest.NewServer(demo.NewApp())
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	alice := authUser(t, map[string]any{"id": 1, "name": "Alice", "email": "alice@example.com", "roles": []string{"user"}, "type": "user"})
	admin := authUser(t, map[string]any{"id": 2, "name": "Admin", "roles": []string{"admin", "user"}})
	hostile := authUser(t, map[string]any{"id": 6, "name": `<script>alert("x")</script>`, "roles": []string{`<img src=x onerror=alert(1)>`}})

	tests := []struct {
		name      string
		path      string
		headers   map[string]string
		status    int
		location  string
		contains  []string
		forbidden []string
	}{
		{name: "home anonymous", path: "/", status: 200, contains: []string{"<h1>Anonymous</h1>", `href="/login"`}},
		{name: "home guest", path: "/", headers: map[string]string{"X-Auth-Token-Type": "guest"}, status: 200,
			contains: []string{"<h1>Guest</h1>"}, forbidden: []string{`id="logout"`}},
		{name: "home user", path: "/", headers: map[string]string{"X-Auth-User": alice, "X-Auth-Token-Type": "user", "X-Request-ID": "req-42"},
			status: 200, contains: []string{"<h1>Signed in as Alice</h1>", `id="logout"`, "fetch('/api/auth/logout'", "Request req-42"}},
		{name: "home admin links admin page", path: "/", headers: map[string]string{"X-Auth-User": admin, "X-Auth-Token-Type": "user"},
			status: 200, contains: []string{"Signed in as Admin", "Admin statistics"}},
		{name: "unreadable user header is anonymous", path: "/", headers: map[string]string{"X-Auth-User": "%%%", "X-Auth-Token-Type": "user"},
			status: 200, contains: []string{"<h1>Anonymous</h1>"}},
		{name: "cookies are not identity", path: "/", headers: map[string]string{"Cookie": "userAuthToken=abc"},
			status: 200, contains: []string{"<h1>Anonymous</h1>"}},
		{name: "hostile name is escaped", path: "/dashboard", headers: map[string]string{"X-Auth-User": hostile, "X-Auth-Token-Type": "user"},
			status:    200,
			contains:  []string{"Signed in as &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "<li>&lt;img src=x onerror=alert(1)&gt;</li>"},
			forbidden: []string{`<script>alert`, "<img src=x"}},
		{name: "login page", path: "/login", status: 200,
			contains: []string{`<form id="login"`, "fetch('/api/auth/login'", "credentials: 'include'", "JSON.stringify({username, password})",
				"location.href = target()", "body.errors"}},
		{name: "dashboard anonymous", path: "/dashboard", status: 303, location: "/login"},
		{name: "dashboard guest", path: "/dashboard", headers: map[string]string{"X-Auth-Token-Type": "guest"}, status: 303, location: "/login"},
		{name: "dashboard user", path: "/dashboard", headers: map[string]string{"X-Auth-User": alice, "X-Auth-Token-Type": "user"}, status: 200,
			contains: []string{"<li>user</li>", "&#34;email&#34;: &#34;alice@example.com&#34;", "token type user"}},
		{name: "admin as user", path: "/admin", headers: map[string]string{"X-Auth-User": alice, "X-Auth-Token-Type": "user"}, status: 403,
			contains: []string{"needs the admin role"}, forbidden: []string{"/api/admin/stats"}},
		{name: "admin as admin", path: "/admin", headers: map[string]string{"X-Auth-User": admin, "X-Auth-Token-Type": "user"}, status: 200,
			contains: []string{"fetch('/api/admin/stats'", `id="stats"`}},
		{name: "admin anonymous", path: "/admin", status: 303, location: "/login"},
		{name: "not found", path: "/nope", status: 404, contains: []string{"Not found"}},
	}
	nonce := regexp.MustCompile(`script-src 'nonce-([A-Z0-9]+)'`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			body := string(raw)
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d\n%s", res.StatusCode, tt.status, body)
			}
			if tt.location != "" {
				if got := res.Header.Get("Location"); got != tt.location {
					t.Errorf("Location = %q, want %q", got, tt.location)
				}
				return
			}
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q\n%s", s, body)
				}
			}
			for _, s := range tt.forbidden {
				if strings.Contains(body, s) {
					t.Errorf("page contains %q\n%s", s, body)
				}
			}
			m := nonce.FindStringSubmatch(res.Header.Get("Content-Security-Policy"))
			if m == nil || !strings.Contains(body, `<script nonce="`+m[1]+`">`) {
				t.Errorf("CSP %q does not match the page's script nonce", res.Header.Get("Content-Security-Policy"))
			}
			if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers = %v", res.Header)
			}
		})
	}
}
