package apilayer_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/route"
)

// forgedUser is the X-Auth-User every fuzzed request carries: a client
// impersonating a user. Neither the web app nor the backend may receive it.
const forgedUser = "eyJpZCI6MSwibmFtZSI6IkZvcmdlZCJ9" // {"id":1,"name":"Forged"}

// FuzzGatewayPathAndCookie sends arbitrary request targets and Cookie
// headers through the whole gateway (a real demo backend and a recording web
// app behind it) and checks the invariants no input may break: no panic (no
// 500), a known status, the web app receives exactly the cleaned path, no
// forged identity header gets through, and a protected page is never
// forwarded without a verified identity.
//
// The cookies are garbage (never a token the backend issued), so no request
// is ever authenticated as a user.
func FuzzGatewayPathAndCookie(f *testing.F) {
	backend := testkit.NewBackend(f, demo.BackendOptions{})
	upstream := testkit.NewUpstream(f)
	gw, err := apilayer.New(config.Config{
		Backend:  config.Backend{URL: backend.URL(), Timeout: 2 * time.Second},
		Upstream: config.Upstream{URL: upstream.URL()},
		Guest:    config.Guest{Enabled: true, Credentials: demo.GuestCredentials()},
		Access: config.Access{
			ProtectedRoutes: []string{"/dashboard"},
			AuthRoutes:      []string{"/login"},
			ExcludedPaths:   []string{"/assets"},
		},
	})
	if err != nil {
		f.Fatalf("New: %v", err)
	}
	f.Cleanup(func() { gw.Close() })
	h := gw.Handler()

	for _, seed := range []struct{ path, cookie string }{
		{"/", ""},
		{"/dashboard", ""},
		{"/dashboard/", "userAuthToken=garbage"},
		{"/Dashboard", ""},
		{"//dashboard", ""},
		{"/./dashboard", ""},
		{"/public/../dashboard", "guestAuthToken=garbage"},
		{"/public/%2e%2e/dashboard", ""},
		{"/public/%2E%2E%2Fdashboard", ""},
		{"/%2e%2e/dashboard", ""},
		{"/public/..%2fdashboard", ""},
		{"/public/..%252fdashboard", ""},
		{"/%64ashboard", "userAuthToken=x; guestAuthToken=y"},
		{"/dashboard%2F", ""},
		{"/dashboard/%2e", ""},
		{"/dashboard/..", ""},
		{"/dashboard/../dashboard/x", ""},
		{"/assets/../dashboard", ""},
		{"/assets/%2e%2e/dashboard", ""},
		{"/assets/..%2fdashboard", ""},
		{"/api/../dashboard", ""},
		{"/api/%2e%2e/dashboard", ""},
		{"/api/posts", "userAuthToken=garbage"},
		{"/api/auth/me", `userAuthToken="quoted"`},
		{"/api/auth/guest", ""},
		{"/api/auth/login", ""},
		{"/login?next=//evil.example", ""},
		{"/dashboard?x=1#frag", ""},
		{"/../etc/passwd", ""},
		{"/a/b/../../..", ""},
		{"/%00dashboard", ""},
		{"/dashboard%00", ""},
		{"/%zz", ""},
		{"/dash%20board", ""},
		{"/\\dashboard", ""},
		{"/public/..\\dashboard", ""},
		{"/public/..;/dashboard", ""},
		{"/_apilayer/health", ""},
		{"/_apilayer/health/../../dashboard", ""},
		{"*", ""},
		{"http://evil.example/dashboard", ""},
		{"http://evil.example//dashboard", ""},
		{"/caf%C3%A9", "userAuthToken=" + strings.Repeat("A", 4096)},
		{"/", "userAuthToken=a; userAuthToken=b; guestAuthToken=; =; ;;"},
		{"/", "userAuthToken=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."},
	} {
		f.Add(seed.path, seed.cookie)
	}

	var n int
	f.Fuzz(func(t *testing.T, target, cookie string) {
		if strings.ContainsAny(target+cookie, "\r\n") || strings.ContainsAny(target, " \t") {
			return // would change the request line or add headers: another input
		}
		n++
		id := "fuzz-" + strconv.Itoa(n) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		raw := "GET " + target + " HTTP/1.1\r\nHost: gateway.test\r\n" +
			"X-Request-ID: " + id + "\r\n" +
			"X-Auth-User: " + forgedUser + "\r\n" +
			"X-Refreshed-Token: forged-refreshed\r\n" +
			"X-Middleware-Subrequest: middleware\r\n"
		if cookie != "" {
			raw += "Cookie: " + cookie + "\r\n"
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n")))
		if err != nil {
			return // net/http's server would refuse it before any handler
		}
		req.RemoteAddr = "192.0.2.10:40000"
		requested := req.URL.EscapedPath()
		clean, cleanOK := route.Clean(requested)

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		switch rec.Code {
		case 200, 307, 400, 401, 403, 404, 405, 413, 502, 503:
		default:
			t.Fatalf("GET %q with Cookie %q: status %d, want one of 200/307/400/401/403/404/405/413/502/503; body %q",
				target, cookie, rec.Code, rec.Body.String())
		}
		for _, name := range []string{"X-Auth-User", "X-Refreshed-Token"} {
			if v := rec.Header().Get(name); v != "" {
				t.Errorf("GET %q: the browser received %s", target, name)
			}
		}

		var reached []testkit.Recorded
		for _, r := range upstream.Requests() {
			if r.Header.Get("X-Request-ID") == id {
				reached = append(reached, r)
			}
		}
		for _, r := range reached {
			if !cleanOK {
				t.Fatalf("GET %q: path %q is refused by route.Clean but reached the web app as %q", target, requested, r.Path)
			}
			// The recording holds the decoded path; both sides decode once.
			if want := decoded(t, clean); r.Path != want {
				t.Errorf("GET %q (status %d): the web app received %q, want the cleaned path %q (decoded from %q)",
					target, rec.Code, r.Path, want, clean)
			}
			if got := r.Header.Get("X-Auth-User"); got == forgedUser {
				t.Errorf("GET %q: the web app received the client's X-Auth-User", target)
			}
			if got := r.Header.Get("X-Refreshed-Token"); got == "forged-refreshed" {
				t.Errorf("GET %q: the web app received the client's X-Refreshed-Token", target)
			}
			if got := r.Header.Get("X-Middleware-Subrequest"); got != "" {
				t.Errorf("GET %q: the web app received X-Middleware-Subrequest %q", target, got)
			}
			if route.Under(clean, "/dashboard") {
				if r.Header.Get("X-Auth-User") == "" {
					t.Errorf("GET %q: the protected page %q reached the web app without X-Auth-User", target, clean)
				}
				// Stronger: only garbage cookies, so no user token is
				// valid and a protected page is never forwarded at all.
				t.Errorf("GET %q (status %d): the protected page %q reached the web app without a user token (X-Auth-Token-Type %q)",
					target, rec.Code, clean, r.Header.Get("X-Auth-Token-Type"))
			}
		}
		if len(reached) > 1 {
			t.Errorf("GET %q reached the web app %d times", target, len(reached))
		}
		for _, r := range backend.Requests() {
			if r.Header.Get("X-Request-ID") != id {
				continue
			}
			if r.Header.Get("X-Auth-User") == forgedUser || r.Header.Get("X-Refreshed-Token") == "forged-refreshed" ||
				r.Header.Get("X-Middleware-Subrequest") != "" {
				t.Errorf("GET %q: the backend (%s) received a client-supplied internal header", target, r.Path)
			}
		}
		if cleanOK && route.Under(clean, "/dashboard") && rec.Code == http.StatusOK {
			t.Errorf("GET %q: the protected page %q answered 200 to a visitor with only garbage cookies", target, clean)
		}
	})
}

// decoded is the path a Go server reading the escaped path p sees as
// r.URL.Path.
func decoded(t *testing.T, p string) string {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, "http://x"+p, nil)
	if err != nil {
		t.Fatalf("cleaned path %q does not parse: %v", p, err)
	}
	return r.URL.Path
}
