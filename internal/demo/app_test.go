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
		page      string         // the initial data's page
		user      map[string]any // fields the initial data's user must have; nil: no user
		contains  []string
		forbidden []string
	}{
		{name: "home anonymous", path: "/", status: 200, page: "home", contains: []string{`<p class="who">Anonymous</p>`}},
		{name: "home guest", path: "/", headers: map[string]string{"X-Auth-Token-Type": "guest"}, status: 200, page: "home",
			user: map[string]any{"type": "guest"}, contains: []string{`<p class="who">Guest</p>`}},
		{name: "home user", path: "/", headers: map[string]string{"X-Auth-User": alice, "X-Auth-Token-Type": "user", "X-Request-ID": "req-42"},
			status: 200, page: "home", user: map[string]any{"name": "Alice", "email": "alice@example.com"},
			contains: []string{"Signed in as Alice", `"requestId":"req-42"`, `"tokenType":"user"`}},
		{name: "unreadable user header is anonymous", path: "/", headers: map[string]string{"X-Auth-User": "%%%", "X-Auth-Token-Type": "user"},
			status: 200, page: "home", contains: []string{"Anonymous"}},
		{name: "cookies are not identity", path: "/", headers: map[string]string{"Cookie": "userAuthToken=abc"},
			status: 200, page: "home", contains: []string{"Anonymous"}},
		{name: "hostile name is escaped", path: "/dashboard", headers: map[string]string{"X-Auth-User": hostile, "X-Auth-Token-Type": "user"},
			status: 200, page: "dashboard", user: map[string]any{"name": `<script>alert("x")</script>`},
			contains:  []string{"Signed in as &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", `\u003cscript\u003e`},
			forbidden: []string{`<script>alert`, "<img src=x", "</script>alert"}},
		{name: "login page", path: "/login", status: 200, page: "login"},
		{name: "dashboard anonymous", path: "/dashboard", status: 303, location: "/login"},
		{name: "dashboard guest", path: "/dashboard", headers: map[string]string{"X-Auth-Token-Type": "guest"}, status: 303, location: "/login"},
		{name: "dashboard user", path: "/dashboard", headers: map[string]string{"X-Auth-User": alice, "X-Auth-Token-Type": "user"}, status: 200,
			page: "dashboard", user: map[string]any{"name": "Alice", "type": "user"}},
		{name: "admin as user", path: "/admin", headers: map[string]string{"X-Auth-User": alice, "X-Auth-Token-Type": "user"}, status: 403,
			page: "forbidden", user: map[string]any{"name": "Alice"}},
		{name: "admin as admin", path: "/admin", headers: map[string]string{"X-Auth-User": admin, "X-Auth-Token-Type": "user"}, status: 200,
			page: "admin", user: map[string]any{"name": "Admin"}},
		{name: "admin anonymous", path: "/admin", status: 303, location: "/login"},
		{name: "not found", path: "/nope", status: 404, page: "notfound"},
	}
	initial := regexp.MustCompile(`<script id="apilayer-initial" type="application/json">([^<]*)</script>`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, client, srv.URL+tt.path, tt.headers)
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d\n%s", res.StatusCode, tt.status, body)
			}
			if tt.location != "" {
				if got := res.Header.Get("Location"); got != tt.location {
					t.Errorf("Location = %q, want %q", got, tt.location)
				}
				return
			}
			for _, s := range append(tt.contains, `<script src="/assets/app.js" defer></script>`, `<link rel="stylesheet" href="/assets/app.css">`) {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q\n%s", s, body)
				}
			}
			for _, s := range tt.forbidden {
				if strings.Contains(body, s) {
					t.Errorf("page contains %q\n%s", s, body)
				}
			}
			m := initial.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("page has no initial data\n%s", body)
			}
			var data struct {
				Page string         `json:"page"`
				User map[string]any `json:"user"`
			}
			if err := json.Unmarshal([]byte(m[1]), &data); err != nil {
				t.Fatalf("initial data %q: %v", m[1], err)
			}
			if data.Page != tt.page {
				t.Errorf("initial page = %q, want %q", data.Page, tt.page)
			}
			if (tt.user == nil) != (data.User == nil) {
				t.Errorf("initial user = %v, want fields %v", data.User, tt.user)
			}
			for k, v := range tt.user {
				if data.User[k] != v {
					t.Errorf("initial user[%q] = %v, want %v", k, data.User[k], v)
				}
			}
			csp := res.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP = %q", csp)
			}
			if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers = %v", res.Header)
			}
		})
	}
}

func get(t *testing.T, client *http.Client, url string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(raw)
}

func TestAppAssets(t *testing.T) {
	srv := httptest.NewServer(demo.NewApp())
	t.Cleanup(srv.Close)
	tests := []struct {
		name, path string
		status     int
		mediaType  string
		contains   string
	}{
		{name: "script", path: "/assets/app.js", status: 200, mediaType: "text/javascript", contains: "SOURCES_SHA256="},
		{name: "styles", path: "/assets/app.css", status: 200, mediaType: "text/css", contains: "SOURCES_SHA256="},
		{name: "sidecar is not served", path: "/assets/SOURCES.sha256", status: 404},
		{name: "unknown", path: "/assets/nope.js", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, srv.Client(), srv.URL+tt.path, nil)
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.mediaType) {
				t.Errorf("Content-Type = %q, want %s", ct, tt.mediaType)
			}
			if !strings.Contains(body, tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers = %v", res.Header)
			}
		})
	}
}
