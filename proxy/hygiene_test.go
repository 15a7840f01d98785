package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The request header hygiene both proxies share, checked end to end:
// client -> front server (which sets what the pipeline would) -> proxy ->
// recording web app or backend.

// hygieneFold is the name an app server that follows CGI reads: case
// ignored, '_' and '-' the same. It is the test's own, independent of the
// proxy's.
func hygieneFold(k string) string { return strings.ReplaceAll(strings.ToLower(k), "_", "-") }

// hygieneReserved reports whether a header name, as an app server reads
// it, is one the gateway owns or removes.
func hygieneReserved(k string) bool {
	f := hygieneFold(k)
	if strings.HasPrefix(f, "x-middleware-") {
		return true
	}
	switch f {
	case "x-auth-user", "x-auth-token-type", "x-refreshed-token", "x-locale", "x-auth-assertion", "x-auth-user-truncated",
		"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-forwarded-prefix",
		"forwarded", "x-real-ip", "cf-connecting-ip", "true-client-ip", "x-request-id",
		"x-client-ip", "x-forwarded-scheme", "x-forwarded-ssl",
		"x-original-url", "x-rewrite-url", "x-http-method-override",
		"cookie", "authorization":
		return true
	}
	return false
}

// hygieneForgeable are the reserved names a client may try to send, in
// canonical form.
var hygieneForgeable = []string{
	"X-Auth-User", "X-Auth-Token-Type", "X-Refreshed-Token", "X-Locale", "X-Auth-Assertion", "X-Auth-User-Truncated",
	"X-Middleware-Subrequest",
	"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix",
	"Forwarded", "X-Real-Ip", "Cf-Connecting-Ip", "True-Client-Ip", "X-Request-Id",
	"X-Client-Ip", "X-Forwarded-Scheme", "X-Forwarded-Ssl",
	"X-Original-Url", "X-Rewrite-Url", "X-Http-Method-Override",
}

// hygieneSpellings returns the spellings of a canonical name a client can
// send: as is, lower case, upper case, and with '_' for '-' in each case.
func hygieneSpellings(name string) []string {
	under := strings.ReplaceAll(name, "-", "_")
	out := []string{name, strings.ToLower(name), strings.ToUpper(name)}
	if under != name {
		out = append(out, under, strings.ToLower(under), strings.ToUpper(under))
	}
	return out
}

// The values the front server sets, as the pipeline would.
var (
	hygienePageOwned = map[string]string{
		"X-Auth-User":           "gw-user",
		"X-Auth-User-Truncated": "1",
		"X-Auth-Token-Type":     "user",
		"X-Refreshed-Token":     "gw-refreshed",
		"X-Locale":              "en",
		"X-Auth-Assertion":      "gw-assertion",
		"X-Request-Id":          "gw-request",
		"Cookie":                "userAuthToken=gw-cookie",
		"Authorization":         "Bearer gw-page",
	}
	hygieneAPIOwned = map[string]string{
		"Authorization": "Bearer gw-api",
		"X-Request-Id":  "gw-request",
	}
	// hygieneForwarded is what both proxies set from ClientInfo.
	hygieneForwarded = map[string]string{
		"X-Forwarded-For":   "203.0.113.7",
		"X-Real-Ip":         "203.0.113.7",
		"X-Forwarded-Proto": "https",
		"X-Forwarded-Host":  "app.example",
	}
)

func hygieneClientInfo(*http.Request) (netip.Addr, string, string) {
	return netip.MustParseAddr("203.0.113.7"), "https", "app.example"
}

// hygieneRecorder is the web app or backend: it records the header of each
// request and answers 200, or 101 to a WebSocket upgrade.
type hygieneRecorder struct {
	mu   sync.Mutex
	seen []http.Header
}

func (rec *hygieneRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.seen = append(rec.seen, r.Header.Clone())
	rec.mu.Unlock()
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		return
	}
	io.WriteString(w, "ok")
}

func (rec *hygieneRecorder) last(t *testing.T) http.Header {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(rec.seen))
	}
	h := rec.seen[0]
	rec.seen = nil
	return h
}

// hygieneProxy is one proxy under test behind its front server.
type hygieneProxy struct {
	name  string
	url   string            // the front server + a path the proxy forwards
	owned map[string]string // what the front server set
	rec   *hygieneRecorder
}

// hygieneProxies starts the page proxy and the API proxy, each in front of
// a recorder and behind a front server that sets the headers the pipeline
// would (without removing any forged spelling: the proxies defend
// themselves). edit, if not nil, adjusts the API options.
func hygieneProxies(t testing.TB, editAPI func(*APIOptions)) []hygieneProxy {
	t.Helper()
	front := func(h http.Handler, owned map[string]string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for k, v := range owned {
				r.Header[k] = []string{v}
			}
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv
	}

	pageRec := &hygieneRecorder{}
	app := httptest.NewServer(pageRec)
	t.Cleanup(app.Close)
	u, err := NewUpstream(UpstreamOptions{URL: app.URL, ClientInfo: hygieneClientInfo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })

	apiRec := &hygieneRecorder{}
	be := httptest.NewServer(apiRec)
	t.Cleanup(be.Close)
	o := APIOptions{Backend: be.URL, Prefix: "/api", Timeout: 5 * time.Second, ClientInfo: hygieneClientInfo}
	if editAPI != nil {
		editAPI(&o)
	}
	a, err := NewAPI(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })

	return []hygieneProxy{
		{name: "upstream", url: front(u, hygienePageOwned).URL + "/page", owned: hygienePageOwned, rec: pageRec},
		{name: "api", url: front(a, hygieneAPIOwned).URL + "/api/x", owned: hygieneAPIOwned, rec: apiRec},
	}
}

// hygieneCheck fails the test unless every reserved name (in any
// spelling) that reached the server is one the gateway set, under its
// canonical name and with the gateway's value alone, and every header the
// gateway set arrived.
func hygieneCheck(t testing.TB, p hygieneProxy, got http.Header) {
	t.Helper()
	want := map[string]string{}
	for k, v := range p.owned {
		want[k] = v
	}
	for k, v := range hygieneForwarded {
		want[k] = v
	}
	for k, v := range got {
		if !hygieneReserved(k) {
			continue
		}
		if w, ok := want[k]; !ok || !slices.Equal(v, []string{w}) {
			t.Errorf("%s: server received %s %q; want only the gateway's (%q)", p.name, k, v, w)
		}
	}
	for k, w := range want {
		if v := got[k]; !slices.Equal(v, []string{w}) {
			t.Errorf("%s: server received %s %q, want the gateway's %q", p.name, k, v, w)
		}
	}
}

func TestForgedHeaderSpellings(t *testing.T) {
	for _, p := range hygieneProxies(t, nil) {
		t.Run(p.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, p.url, nil)
			for _, name := range hygieneForgeable {
				for _, k := range hygieneSpellings(name) {
					req.Header[k] = append(req.Header[k], "forged")
				}
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			hygieneCheck(t, p, p.rec.last(t))
		})
	}
}

// hygieneConnection is a Connection header naming every header the
// gateway sets, in canonical, lower-case and underscore spellings.
func hygieneConnection() string {
	names := []string{"X-Auth-User", "X-Auth-User-Truncated", "X-Auth-Token-Type", "X-Refreshed-Token", "X-Locale",
		"X-Auth-Assertion", "X-Request-Id", "Cookie", "Authorization", "X-Forwarded-For", "X-Forwarded-Proto",
		"X-Forwarded-Host", "X-Real-Ip"}
	var all []string
	for _, n := range names {
		all = append(all, n, strings.ToLower(n), strings.ReplaceAll(n, "-", "_"))
	}
	return strings.Join(all, ", ")
}

func TestConnectionCannotRemoveGatewayHeaders(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		for _, p := range hygieneProxies(t, nil) {
			t.Run(p.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodGet, p.url, nil)
				req.Header.Set("Connection", hygieneConnection())
				req.Header.Set("X-Auth-User", "forged")
				req.Header["X_Auth_User"] = []string{"forged"}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Fatalf("status %d, want 200", res.StatusCode)
				}
				hygieneCheck(t, p, p.rec.last(t))
			})
		}
	})
	t.Run("websocket", func(t *testing.T) {
		for _, p := range hygieneProxies(t, nil) {
			t.Run(p.name, func(t *testing.T) {
				addr := strings.TrimPrefix(p.url, "http://")
				addr, path, _ := strings.Cut(addr, "/")
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second)) // a failure, not a hang
				io.WriteString(conn, "GET /"+path+" HTTP/1.1\r\nHost: app.example\r\n"+
					"Connection: Upgrade, "+hygieneConnection()+"\r\nUpgrade: websocket\r\n"+
					"X_Auth_User: forged\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
				res, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("status %d, want 101", res.StatusCode)
				}
				hygieneCheck(t, p, p.rec.last(t))
			})
		}
	})
}

// A signed identity header under a configured name (identity.header) is
// handled as X-Auth-Assertion is: the client's spellings removed, the
// pipeline's value kept through Connection, never sent back.
func TestUpstreamCustomAssertionHeader(t *testing.T) {
	var got http.Header
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("X-Identity", "echoed")
	})
	// The pipeline's part: the inbound request has the gateway's value
	// and, here, the client's other spellings too.
	u, _, _ := startUpstream(t, app, "", UpstreamOptions{AssertionHeader: "x-identity"})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header["X-Identity"] = []string{"signed"}
		u.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	req, _ := http.NewRequest(http.MethodGet, front.URL+"/page", nil)
	req.Header["X_Identity"] = []string{"forged"}
	req.Header["X_IDENTITY"] = []string{"forged"}
	req.Header.Set("Connection", "X-Identity")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var values []string
	for k, v := range got {
		if strings.EqualFold(strings.ReplaceAll(k, "_", "-"), "x-identity") {
			values = append(values, v...)
		}
	}
	if !slices.Equal(values, []string{"signed"}) {
		t.Errorf("the web app received %q, want only the gateway's value", values)
	}
	if v := res.Header.Get("X-Identity"); v != "" {
		t.Errorf("the browser received X-Identity %q", v)
	}
}
