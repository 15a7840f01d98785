package forwardauth

import (
	"net/http"
	"strings"
	"testing"
)

// The lines of each configuration that keep a client's forged identity
// headers from the web app. Each row takes one out (or weakens it) and
// shows the forgery then reaches the web app: with the line, the
// "forged identity headers" scenario of TestForwardAuth passes; without
// it, this test sees the forged value arrive.
func TestTheConfigurationLinesThatStopForgeries(t *testing.T) {
	const forged = "Zm9yZ2Vk"
	type edit struct{ line, change string } // a line of the rendered configuration, and what replaces it
	rows := []struct {
		proxy  string
		name   string
		edits  []edit
		header string // the forgery that then gets through
	}{
		// nginx passes every client header on: proxy_set_header replaces it,
		// with the answer's value or, empty, with nothing.
		{"nginx", "without proxy_set_header X-Auth-User", []edit{{"proxy_set_header X-Auth-User $authz_user;", ""}}, "X-Auth-User"},
		// nginx drops names with "_" unless told otherwise.
		{"nginx", "with underscores_in_headers on", []edit{{"    listen ", "    underscores_in_headers on;\n    listen "}}, "X_Auth_User"},
		// Caddy passes "_" names on.
		{"caddy", "without request_header -*_*", []edit{{"request_header -*_*", ""}}, "X_Auth_User"},
		// The deletion, or the copy of the answer's (empty) value: either
		// replaces the client's in Caddy 2.6 (later versions skip an empty
		// value, so there only the deletion does).
		{"caddy", "without the deletion and the copy", []edit{{"\t\t\trequest_header -X-Auth-User\n", ""},
			{"request_header X-Auth-User {rp.header.X-Auth-User}", ""}}, "X-Auth-User"},
		// Traefik replaces the exact names it copies, nothing else.
		{"traefik", "without X_Auth_User in strip-identity", []edit{{"          X_Auth_User: \"\"\n", ""}}, "X_Auth_User"},
		{"traefik", "without X-Auth-User in authResponseHeaders", []edit{{"          - X-Auth-User\n", ""}}, "X-Auth-User"},
		// Envoy passes "_" names on by default (ALLOW).
		{"envoy", "with headers_with_underscores_action ALLOW", []edit{{"headers_with_underscores_action: DROP_HEADER", "headers_with_underscores_action: ALLOW"}}, "X_Auth_User"},
		// Envoy sets the allowed upstream headers, nothing else.
		{"envoy", "without x-auth-user in allowed_upstream_headers", []edit{{"                              - exact: x-auth-user\n", ""}}, "X-Auth-User"},
	}
	for _, row := range rows {
		t.Run(row.proxy+" "+row.name, func(t *testing.T) {
			var p proxyUnderTest
			for _, q := range proxies {
				if q.name == row.proxy {
					p = q
				}
			}
			f := newFixture(t)
			base := p.start(t, f, func(conf string) string {
				for _, e := range row.edits {
					if !strings.Contains(conf, e.line) {
						t.Fatalf("the %s configuration has no %q", row.proxy, e.line)
					}
					conf = strings.Replace(conf, e.line, e.change, 1)
				}
				return conf
			})
			b := newBrowser(t, base)
			page := b.do(visit{path: "/blog", header: map[string][]string{row.header: {forged}}})
			if page.StatusCode != http.StatusOK {
				t.Fatalf("status %d (body %q), want the web app's answer", page.StatusCode, page.body)
			}
			rec := f.app.Last()
			got := false
			for k, vs := range rec.Header {
				if fold(k) == "x-auth-user" && len(vs) > 0 && strings.Contains(strings.Join(vs, ","), forged) {
					got = true
				}
			}
			if !got {
				t.Errorf("%s: the web app still did not receive the client's %s: those lines are not what stops it (headers %v)", row.name, row.header, rec.Header)
			}
		})
	}
}

// Caddy's forward_auth shortcut copies headers onto the request but passes
// no Set-Cookie of an allowed answer to the browser: a refreshed token's
// cookie is lost, so the next request refreshes again (and a rotated
// refresh token would be reused). This is why testdata/Caddyfile writes
// forward_auth out with copy_response_headers.
func TestCaddyForwardAuthShortcutLosesCookies(t *testing.T) {
	f := newFixture(t)
	base := startCaddy(t, f, func(conf string) string {
		start := strings.Index(conf, "\t\t\treverse_proxy "+hostPort(f.gw.URL)+" {")
		end := strings.Index(conf, "\t\t\treverse_proxy "+hostPort(f.app.URL()))
		if start < 0 || end < start {
			t.Fatal("testdata/Caddyfile: no written-out forward_auth")
		}
		shortcut := "\t\t\tforward_auth " + hostPort(f.gw.URL) + " {\n\t\t\t\turi /_apilayer/authz\n" +
			"\t\t\t\tcopy_headers X-Auth-User X-Auth-Token-Type\n\t\t\t}\n"
		return conf[:start] + shortcut + conf[end:]
	})
	b := newBrowser(t, base)
	old := f.expired("alice")
	p := b.do(visit{path: "/dashboard", cookies: map[string]string{userCookie: old}})
	if p.StatusCode != http.StatusOK || userOf(f.app.Last().Header.Get("X-Auth-User")) != "alice" {
		t.Fatalf("status %d: the shortcut should still let alice through", p.StatusCode)
	}
	if _, ok := p.cookie(userCookie); ok {
		t.Fatal("the forward_auth shortcut passed the refreshed cookie on: testdata/Caddyfile and docs/forward-auth.md can use it")
	}
	if n := f.backend.Calls("auth/refresh"); n != 1 {
		t.Errorf("refresh calls = %d, want 1", n)
	}
}

// nginx's $upstream_http_set_cookie is the first Set-Cookie line of the
// answer only: with the usual one-variable configuration, a visitor who
// gets a guest token and a CSRF token receives the first alone. This is
// why testdata/nginx.conf copies the numbered X-Authz-Set-Cookie-N headers.
func TestNginxPassesOnlyTheFirstSetCookieLine(t *testing.T) {
	f := newFixture(t)
	base := startNginx(t, f, func(conf string) string {
		for i := 1; i <= 5; i++ {
			n := string(rune('0' + i))
			v := "$upstream_http_x_authz_set_cookie_" + n + ";"
			if !strings.Contains(conf, v) {
				t.Fatalf("testdata/nginx.conf has no %s", v)
			}
			repl := "$upstream_http_x_unset_" + n + ";"
			if i == 1 {
				repl = "$upstream_http_set_cookie;"
			}
			conf = strings.Replace(conf, v, repl, 1)
		}
		return conf
	})
	p := newBrowser(t, base).do(visit{path: "/blog"})
	_, guest := p.cookie(guestCookie)
	_, csrf := p.cookie(csrfCookie)
	if p.StatusCode != http.StatusOK || !guest || csrf {
		t.Fatalf("status %d, Set-Cookie %q: want the guest cookie alone (the answer's first line)", p.StatusCode, p.Header.Values("Set-Cookie"))
	}
}
