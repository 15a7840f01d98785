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
	"golang.org/x/net/http/httpguts"
)

// forgedMark is in the value of every header a fuzzed client forges.
const forgedMark = "FORGEDxMARK"

// reservedHeaders are the identity headers only the gateway may set, and
// the headers it sets from its own decisions, by their name with "_" read
// as "-", lower-cased.
var reservedHeaders = []string{
	"x-auth-user", "x-auth-token-type", "x-refreshed-token", "x-locale", "x-auth-assertion",
	"x-auth-user-truncated", "x-request-id", "x-forwarded-for", "x-real-ip",
}

// reservedName reports whether the header name k, as a CGI-style app server
// reads it ("_" as "-", any case), is one the client may not set.
func reservedName(k string) bool {
	k = strings.ToLower(strings.ReplaceAll(k, "_", "-"))
	return strings.HasPrefix(k, "x-middleware-") || contains(reservedHeaders, k)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// FuzzGatewayForgedHeaders sends requests carrying a fuzzed header name with
// a forged value, a fuzzed Connection header and forged identity headers in
// several spellings through the whole gateway, as an anonymous visitor, a
// guest and a signed-in user, to pages, the API, an excluded path and the
// built-in auth API. The invariant: no header the web app or the backend
// receives under a reserved name (in any case, "_" read as "-") carries a
// client's value, and the gateway's own identity headers are all there:
// Connection: cannot remove them.
func FuzzGatewayForgedHeaders(f *testing.F) {
	backend := testkit.NewBackend(f, demo.BackendOptions{})
	upstream := testkit.NewUpstream(f)
	gw, err := apilayer.New(config.Config{
		Backend:  config.Backend{URL: backend.URL(), Timeout: 2 * time.Second},
		Upstream: config.Upstream{URL: upstream.URL(), PassAuthorization: true},
		Guest:    config.Guest{Enabled: true, Credentials: demo.GuestCredentials(), MaxPerMinute: 1 << 20},
		Access: config.Access{
			ProtectedRoutes: []string{"/dashboard"},
			ExcludedPaths:   []string{"/assets"},
		},
	})
	if err != nil {
		f.Fatalf("New: %v", err)
	}
	f.Cleanup(func() { gw.Close() })
	h := gw.Handler()
	alice, err := backend.Demo().Issue("alice", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	guest := backend.Demo().IssueGuest(time.Hour)

	for _, seed := range []struct {
		name, connection string
		who, path        uint8
	}{
		{"X_Auth_User", "", 0, 0},
		{"x_auth_user", "X-Auth-User", 2, 0},
		{"X-AUTH-USER", "x-auth-user, X-Auth-Token-Type, X-Locale, X-Request-Id, Cookie, Authorization", 2, 0},
		{"X_Auth_Token_Type", "X-Auth-Token-Type", 1, 0},
		{"x_middleware_subrequest", "", 0, 1},
		{"X-Middleware-Rewrite", "Upgrade", 0, 0},
		{"X_Forwarded_For", "X-Forwarded-For, X-Real-Ip", 2, 1},
		{"X_Real_IP", "", 2, 2},
		{"X_Refreshed_Token", "X-Refreshed-Token", 2, 0},
		{"x_locale", "X-Locale", 1, 1},
		{"X_Auth_Assertion", "", 2, 0},
		{"X-Auth-User-Truncated", "", 2, 0},
		{"X_Request_ID", "X-Request-Id", 2, 1},
		{"X-Auth_User", "Authorization", 2, 1},
		{"Accept", "Cookie", 2, 0},
		{"X-Auth-User", "close, X-Auth-User", 0, 3},
	} {
		f.Add(seed.name, seed.connection, seed.who, seed.path)
	}

	paths := []string{"/page", "/api/posts", "/assets/app.js", "/api/auth/me"}
	var n int
	f.Fuzz(func(t *testing.T, name, connection string, who, path uint8) {
		if !httpguts.ValidHeaderFieldName(name) || strings.ContainsAny(connection, "\r\n") || strings.EqualFold(name, "Host") ||
			strings.EqualFold(name, "Content-Length") || strings.EqualFold(name, "Transfer-Encoding") {
			return // net/http refuses it, or it changes the framing or another header
		}
		n++
		p := paths[int(path)%len(paths)]
		id := "fz-" + strconv.Itoa(n) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		raw := "GET " + p + "?fz=" + id + " HTTP/1.1\r\nHost: gateway.test\r\nX-Request-ID: " + id + "\r\n" +
			name + ": " + forgedMark + "\r\n" +
			"X_Auth_User: " + forgedMark + "\r\n" +
			"x-auth-token-type: " + forgedMark + "\r\n" +
			"X-Middleware-Subrequest: " + forgedMark + "\r\n"
		if connection != "" {
			raw += "Connection: " + connection + "\r\n"
		}
		var tokenType string
		switch who % 3 {
		case 1:
			raw += "Cookie: guestAuthToken=" + guest + "\r\n"
			tokenType = "guest"
		case 2:
			raw += "Cookie: userAuthToken=" + alice + "\r\n"
			tokenType = "user"
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n")))
		if err != nil {
			return // net/http's server would refuse it before any handler
		}
		req.RemoteAddr = "192.0.2.10:40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusBadGateway && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s with %q and Connection %q: status %d", p, name, connection, rec.Code)
		}

		check := func(where string, r testkit.Recorded) {
			for k, vs := range r.Header {
				for _, v := range vs {
					if reservedName(k) && strings.Contains(v, forgedMark) {
						t.Errorf("%s %s (header %q, Connection %q): received %s: %q", where, p, name, connection, k, v)
					}
				}
			}
		}
		// Requests are told apart by their query: a Connection header may
		// have tried to remove X-Request-Id.
		for _, r := range upstream.Requests() {
			if r.Query.Get("fz") != id {
				continue
			}
			check("the web app", r)
			if got := r.Header.Get("X-Request-Id"); got != id {
				t.Errorf("the web app (header %q, Connection %q): X-Request-Id %q, want %q", name, connection, got, id)
			}
			if p == "/page" && tokenType != "" {
				if got := r.Header.Get("X-Auth-Token-Type"); got != tokenType {
					t.Errorf("the web app (header %q, Connection %q): X-Auth-Token-Type %q, want %q", name, connection, got, tokenType)
				}
				if tokenType == "user" && r.Header.Get("X-Auth-User") == "" {
					t.Errorf("the web app (header %q, Connection %q): no X-Auth-User for a user", name, connection)
				}
			}
		}
		for _, r := range backend.Requests() {
			if r.Query.Get("fz") != id && r.Header.Get("X-Request-Id") != id {
				continue
			}
			check("the backend", r)
			if r.Path == "/api/posts" && tokenType != "" && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ey") {
				t.Errorf("the backend (header %q, Connection %q): Authorization %q, want the gateway's Bearer token", name, connection, r.Header.Get("Authorization"))
			}
		}
	})
}
