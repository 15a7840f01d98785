package proxy

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// staticSite builds a site folder next to a secret file outside it.
func staticSite(t *testing.T) string {
	t.Helper()
	parent := t.TempDir()
	site := filepath.Join(parent, "site")
	files := map[string]string{
		"index.html":                "<h1>spa</h1>",
		"app.js":                    "console.log(1)",
		"docs/index.html":           "<h1>docs</h1>",
		"empty/keep.txt":            "kept",
		".env":                      "SECRET=env",
		".git/config":               "SECRET=git",
		"sub/.hidden":               "SECRET=hidden",
		".well-known/security.txt":  "Contact: mailto:security@example.com",
		"../secret.txt":             "SECRET=outside",
		"assets/logo.svg":           "<svg/>",
		"assets/.cache/preload.css": "SECRET=cache",
	}
	for name, body := range files {
		p := filepath.Join(site, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A link inside the folder that points outside it.
	if err := os.Symlink(filepath.Join(parent, "secret.txt"), filepath.Join(site, "leak.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(parent, filepath.Join(site, "up")); err != nil {
		t.Fatal(err)
	}
	return site
}

func TestStatic(t *testing.T) {
	u, err := NewUpstream(UpstreamOptions{Static: staticSite(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()

	const html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	tests := []struct {
		name     string
		method   string
		path     string // set as URL.Path as is, so no client cleans it
		accept   string
		want     int
		wantBody string // contained in the body
		wantType string // Content-Type prefix
		wantHdr  map[string]string
	}{
		{name: "file", path: "/app.js", want: 200, wantBody: "console.log(1)", wantType: "text/javascript"},
		{name: "nested file", path: "/assets/logo.svg", want: 200, wantBody: "<svg/>", wantType: "image/svg+xml"},
		{name: "root is index.html", path: "/", accept: html, want: 200, wantBody: "<h1>spa</h1>", wantType: "text/html"},
		{name: "folder index", path: "/docs/", want: 200, wantBody: "<h1>docs</h1>"},
		{name: "folder without slash redirects", path: "/docs", want: 301, wantHdr: map[string]string{"Location": "docs/"}},
		{name: "SPA fallback", path: "/dashboard", accept: html, want: 200, wantBody: "<h1>spa</h1>", wantType: "text/html",
			wantHdr: map[string]string{"Cache-Control": "no-cache", "Vary": "Accept"}},
		{name: "SPA fallback nested", path: "/users/42/edit", accept: "text/html", want: 200, wantBody: "<h1>spa</h1>"},
		{name: "SPA fallback for a folder without index", path: "/empty/", accept: html, want: 200, wantBody: "<h1>spa</h1>"},
		{name: "no listing", path: "/empty/", accept: "*/*", want: 404},
		{name: "no fallback for fetch", path: "/dashboard", accept: "*/*", want: 404, wantHdr: map[string]string{"Vary": "Accept"}},
		{name: "no fallback for html q=0", path: "/dashboard", accept: "text/html;q=0, */*", want: 404},
		{name: "missing asset", path: "/missing.js", accept: html, want: 404},
		{name: "file addressed as folder", path: "/app.js/", accept: "*/*", want: 404},
		{name: "dot-dot", path: "/../secret.txt", want: 404},
		{name: "dot-dot inside", path: "/docs/../../secret.txt", want: 404},
		{name: "dot-dot to html", path: "/docs/../..", accept: html, want: 404},
		{name: "backslash", path: "/..\\secret.txt", want: 404},
		{name: "double slash", path: "//etc/passwd", want: 404},
		{name: "symlink out of the folder", path: "/leak.txt", want: 404},
		{name: "symlink folder out of the folder", path: "/up/secret.txt", want: 404},
		{name: "dotfile", path: "/.env", want: 404},
		{name: "dot folder", path: "/.git/config", want: 404},
		{name: "nested dotfile", path: "/sub/.hidden", want: 404},
		{name: "nested dot folder", path: "/assets/.cache/preload.css", want: 404},
		{name: "well-known", path: "/.well-known/security.txt", want: 200, wantBody: "Contact:"},
		{name: "HEAD", method: http.MethodHead, path: "/app.js", want: 200},
		{name: "POST", method: http.MethodPost, path: "/app.js", want: 405, wantHdr: map[string]string{"Allow": "GET, HEAD"}},
		{name: "POST to a SPA route", method: http.MethodPost, path: "/dashboard", accept: html, want: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, "/", nil)
			req.URL.Path = tc.path
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			rec := httptest.NewRecorder()
			u.ServeHTTP(rec, req)

			body := rec.Body.String()
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d (body %q)", rec.Code, tc.want, body)
			}
			if !strings.Contains(body, tc.wantBody) {
				t.Errorf("body %q does not contain %q", body, tc.wantBody)
			}
			if strings.Contains(body, "SECRET") {
				t.Errorf("body leaks a secret: %q", body)
			}
			if method == http.MethodHead && body != "" {
				t.Errorf("HEAD has a body: %q", body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Errorf("Content-Type = %q, want %q...", ct, tc.wantType)
			}
			for k, v := range tc.wantHdr {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestAcceptsHTML(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"text/html", true},
		{"TEXT/HTML; charset=utf-8", true},
		{"application/json, text/html;q=0.5", true},
		{"text/html;q=0", false},
		{"text/html; q=0.0", false},
		{"*/*", false},
		{"text/*", false},
		{"application/json", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.accept, func(t *testing.T) {
			if got := acceptsHTML(tc.accept); got != tc.want {
				t.Errorf("acceptsHTML(%q) = %v, want %v", tc.accept, got, tc.want)
			}
		})
	}
}
