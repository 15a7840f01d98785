package apilayer_test

// End-to-end tests of the gateway's security features: CSRF, CORS,
// rate limiting and audit events, through the real gateway in front of the
// testkit demo backend and recording web app.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/csrf"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

const (
	secCSRFSecret = "sectest-csrf-secret-6f1c2a9e4b7d"
	secAppOrigin  = "http://app.example"
	secEvilOrigin = "http://evil.example"
	secCSRFCookie = "__csrf"
	secCSRFHeader = "x-csrf-token"
	aliceID       = "1" // the demo backend's first user
	adminID       = "2"
)

// syncBuffer is a bytes.Buffer that the audit logger's goroutine (or a
// logger) may write while the test reads it.
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

// secEnv is the harness of gateway_test.go (env) built with gateway
// options: the audit output is captured in audit.
type secEnv struct {
	*env
	audit *syncBuffer
}

// newSecEnv starts the demo backend, the web app and a gateway whose config
// is secBaseConfig changed by edit.
func newSecEnv(t *testing.T, edit func(*config.Config), opts ...apilayer.Option) *secEnv {
	t.Helper()
	clock := testkit.NewClock(time.Now())
	e := &env{t: t, clock: clock}
	e.backend = testkit.NewBackend(t, demo.BackendOptions{Now: clock.Now})
	e.upstream = testkit.NewUpstream(t)
	cfg := secBaseConfig(e)
	if edit != nil {
		edit(&cfg)
	}
	s := &secEnv{env: e, audit: &syncBuffer{}}
	opts = append([]apilayer.Option{apilayer.WithAuditOutput(s.audit)}, opts...)
	gw, err := apilayer.New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.gw = gw
	e.srv = httptest.NewServer(gw.Handler())
	e.client = e.srv.Client()
	e.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	t.Cleanup(func() {
		e.srv.Close()
		gw.Close()
	})
	return s
}

// secBaseConfig: guests off (anonymous visitors stay anonymous), /dashboard
// protected, /login an auth route.
func secBaseConfig(e *env) config.Config {
	return config.Config{
		Backend:  config.Backend{URL: e.backend.URL(), Timeout: 2 * time.Second},
		Upstream: config.Upstream{URL: e.upstream.URL()},
		Guest: config.Guest{
			Credentials:  demo.GuestCredentials(),
			MaxPerMinute: 1000,
		},
		Access: config.Access{
			ProtectedRoutes: []string{"/dashboard"},
			AuthRoutes:      []string{"/login"},
		},
	}
}

func withCSRF(strategy string) func(*config.Config) {
	return func(c *config.Config) {
		c.CSRF = config.CSRF{Enabled: true, Strategy: strategy, Secret: secCSRFSecret}
	}
}

// noCache makes every request validate with the backend. It uses 1ns, not
// 0: with cacheTTL 0 a valid answer is cached until the token's exp (see
// TestValidationWithoutCacheAsksEveryRequest in cache_test.go).
func noCache(c *config.Config) {
	tiny := time.Nanosecond
	c.Validation.CacheTTL = &tiny
}

// auditEvent is one audit line: decoded, and as raw fields (to check which
// keys are present).
type auditEvent struct {
	audit.Event
	raw map[string]any
}

// events closes the gateway (which flushes the audit logger) and returns
// every event written to the captured output.
func (s *secEnv) events() []auditEvent {
	s.t.Helper()
	if err := s.gw.Close(); err != nil {
		s.t.Fatalf("Close: %v", err)
	}
	return parseAudit(s.t, s.audit.String())
}

func parseAudit(t *testing.T, out string) []auditEvent {
	t.Helper()
	var evs []auditEvent
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ev auditEvent
		if err := json.Unmarshal(line, &ev.Event); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if err := json.Unmarshal(line, &ev.raw); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func ofType(evs []auditEvent, typ string) []auditEvent {
	var out []auditEvent
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// backendTotal is how many requests the backend received, on any path.
func (s *secEnv) backendTotal() int { return len(s.backend.Requests()) }

// csrfToken asks GET /api/auth/csrf with cookies and returns the token.
func (s *secEnv) csrfToken(cookies map[string]string) string {
	s.t.Helper()
	res := s.do(req{path: "/api/auth/csrf", cookies: cookies})
	wantStatus(s.t, res, http.StatusOK)
	m := bodyJSON(s.t, res)
	data, _ := m["data"].(map[string]any)
	tok, _ := data["token"].(string)
	if m["success"] != true || tok == "" {
		s.t.Fatalf("GET /api/auth/csrf = %v, want success and a token", m)
	}
	return tok
}

var csrfTokenShape = regexp.MustCompile(`^[0-9a-f]{64}\.[0-9a-f]{64}$`)

// wantCSRFCookie checks the CSRF cookie a response sets (readable by script,
// SameSite=Strict, Path=/) and returns its value.
func wantCSRFCookie(t *testing.T, res *http.Response) string {
	t.Helper()
	c := setCookies(res)[secCSRFCookie]
	switch {
	case c == nil:
		t.Fatalf("no Set-Cookie %s (got %q)", secCSRFCookie, res.Header.Values("Set-Cookie"))
	case c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure || c.Domain != "":
		t.Fatalf("Set-Cookie %s = %q, want not HttpOnly, SameSite=Strict, Path=/, no Secure, no Domain", secCSRFCookie, c.Raw)
	case !csrfTokenShape.MatchString(c.Value):
		t.Fatalf("CSRF token %q is not <hex hmac>.<hex random>", c.Value)
	}
	return c.Value
}

func wantNoCSRFCookie(t *testing.T, res *http.Response) {
	t.Helper()
	if c := setCookies(res)[secCSRFCookie]; c != nil {
		t.Errorf("Set-Cookie %q: the CSRF cookie must not be rotated here", c.Raw)
	}
}

// protection verifies tokens the way the gateway must: HMAC keyed with
// secret, bound to the user's id.
func protection(t *testing.T, secret string) *csrf.Protection {
	t.Helper()
	p, err := csrf.New(csrf.Options{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// csrfPost is a state-changing API call as a browser (or curl) makes it:
// user is the user cookie, token goes in the CSRF cookie and header, site in
// Sec-Fetch-Site; empty values are left out.
func csrfPost(path, user, token, site string) req {
	r := req{method: http.MethodPost, path: path, body: `{"x":1}`,
		cookies: map[string]string{},
		header:  map[string]string{"Content-Type": "application/json"}}
	if user != "" {
		r.cookies["userAuthToken"] = user
	}
	if token != "" {
		r.cookies[secCSRFCookie] = token
		r.header[secCSRFHeader] = token
	}
	if site != "" {
		r.header["Sec-Fetch-Site"] = site
	}
	return r
}

func TestCSRFStrategies(t *testing.T) {
	type want struct{ fetchMetadata, doubleSubmit, both int }
	tests := []struct {
		name      string
		method    string
		site      string // Sec-Fetch-Site; "" = none sent (curl)
		origin    string
		withToken bool
		want      want
	}{
		{"cross-site without token", "POST", "cross-site", secEvilOrigin, false, want{403, 403, 403}},
		{"cross-site with token", "POST", "cross-site", secEvilOrigin, true, want{403, 200, 403}},
		{"same-site without token", "POST", "same-site", "http://sub.example", false, want{403, 403, 403}},
		{"same-origin without token", "POST", "same-origin", "", false, want{200, 403, 200}},
		{"same-origin with token", "POST", "same-origin", "", true, want{200, 200, 200}},
		{"none (typed URL) without token", "POST", "none", "", false, want{200, 403, 403}},
		{"no Sec-Fetch-Site (curl) without token", "POST", "", "", false, want{200, 403, 403}},
		{"no Sec-Fetch-Site (curl) with token", "POST", "", "", true, want{200, 200, 200}},
		{"cross-site DELETE without token", "DELETE", "cross-site", secEvilOrigin, false, want{403, 403, 403}},
		{"cross-site GET is ignored", "GET", "cross-site", secEvilOrigin, false, want{200, 200, 200}},
	}
	for _, strategy := range []string{"fetch-metadata", "double-submit", "both"} {
		t.Run(strategy, func(t *testing.T) {
			s := newSecEnv(t, withCSRF(strategy))
			alice := s.login("alice")
			tok := s.csrfToken(map[string]string{"userAuthToken": alice})
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					code := map[string]int{"fetch-metadata": tt.want.fetchMetadata, "double-submit": tt.want.doubleSubmit, "both": tt.want.both}[strategy]
					token := ""
					if tt.withToken {
						token = tok
					}
					r := csrfPost("/api/echo", alice, token, tt.site)
					r.method = tt.method
					if tt.origin != "" {
						r.header["Origin"] = tt.origin
					}
					before, echoes := s.backendTotal(), s.backend.Calls("echo")
					res := s.do(r)
					if code == http.StatusForbidden {
						wantCSRFRefused(t, res)
						if got := s.backend.Calls("echo"); got != echoes {
							t.Errorf("a refused request reached the backend's echo")
						}
						// The Fetch Metadata part runs before the token
						// cascade: such a refusal costs no backend call.
						if strategy != "double-submit" && (tt.site == "cross-site" || tt.site == "same-site") {
							if got := s.backendTotal(); got != before {
								t.Errorf("backend received %d requests for a cross-site refusal, want none", got-before)
							}
						}
						return
					}
					wantStatus(t, res, code)
					if got := bodyJSON(t, res); got["success"] != true {
						t.Errorf("echo answered %v", got)
					}
					if got := s.backend.Calls("echo"); got != echoes+1 {
						t.Errorf("echo calls = %d, want %d", got, echoes+1)
					}
					if rec := s.lastBackend("/api/echo"); rec.Header.Get(secCSRFHeader) != "" {
						t.Error("the CSRF header was forwarded to the backend")
					}
				})
			}
		})
	}
}

// TestCSRFBrowserFlow follows one browser: anonymous visit, login, POSTs,
// transparent refresh, logout.
func TestCSRFBrowserFlow(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		withCSRF("both")(c)
		noCache(c) // the refresh below is decided by the backend's clock
		c.Audit = config.Audit{Enabled: true, Events: audit.Types()}
	})
	p := protection(t, secCSRFSecret)

	// An anonymous page view gets a CSRF cookie bound to no one.
	res := s.do(req{path: "/"})
	wantForwarded(t, res, "/")
	anon := wantCSRFCookie(t, res)
	if !p.Valid(anon, "") {
		t.Fatalf("anonymous token %q is not valid for the empty binding", anon)
	}
	// It is not rotated on every response.
	res = s.do(req{path: "/", cookies: map[string]string{secCSRFCookie: anon}})
	wantForwarded(t, res, "/")
	wantNoCSRFCookie(t, res)

	// Login needs the token (curl-like: no Sec-Fetch-Site), and costs no
	// backend call without it.
	login := `{"username":"alice","password":"` + demo.AlicePassword + `"}`
	r := req{method: "POST", path: "/api/auth/login", body: login,
		header:  map[string]string{"Content-Type": "application/json"},
		cookies: map[string]string{secCSRFCookie: anon}}
	res = s.do(r)
	wantCSRFRefused(t, res)
	s.wantCalls(map[string]int64{"auth/login": 0})

	r.header[secCSRFHeader] = anon
	res = s.do(r)
	wantStatus(t, res, http.StatusOK)
	user := wantSet(t, res, "userAuthToken", userMaxAge)
	aliceTok := wantCSRFCookie(t, res)
	if aliceTok == anon {
		t.Fatal("login kept the anonymous CSRF token; want a new one bound to the user")
	}
	if !p.Valid(aliceTok, aliceID) || p.Valid(aliceTok, "") {
		t.Fatalf("the token issued at login is not bound to alice's id %q", aliceID)
	}

	// The anonymous token no longer passes for alice.
	res = s.do(csrfPost("/api/echo", user, anon, ""))
	wantCSRFRefused(t, res)

	// Her own token does, and is not rotated.
	res = s.do(csrfPost("/api/echo", user, aliceTok, ""))
	wantStatus(t, res, http.StatusOK)
	wantNoCSRFCookie(t, res)
	res = s.do(req{path: "/", cookies: map[string]string{"userAuthToken": user, secCSRFCookie: aliceTok}})
	wantForwarded(t, res, "/")
	wantNoCSRFCookie(t, res)

	// GET /api/auth/csrf hands the script the token in effect.
	res = s.do(req{path: "/api/auth/csrf", cookies: map[string]string{"userAuthToken": user, secCSRFCookie: aliceTok}})
	wantStatus(t, res, http.StatusOK)
	wantNoCSRFCookie(t, res)
	if got := strings.TrimSpace(bodyString(t, res)); got != `{"success":true,"data":{"token":"`+aliceTok+`"}}` {
		t.Errorf("GET /api/auth/csrf = %q, want the cookie's token", got)
	}

	// The access token expires; a POST refreshes it transparently and the
	// CSRF token survives the refresh.
	s.clock.Advance(demo.DefaultAccessTTL + time.Minute)
	res = s.do(csrfPost("/api/echo", user, aliceTok, ""))
	wantStatus(t, res, http.StatusOK)
	refreshed := wantSet(t, res, "userAuthToken", userMaxAge)
	if refreshed == user {
		t.Fatal("no new access token after the refresh")
	}
	wantNoCSRFCookie(t, res)
	s.wantCalls(map[string]int64{"auth/refresh": 1})
	res = s.do(csrfPost("/api/echo", refreshed, aliceTok, ""))
	wantStatus(t, res, http.StatusOK)
	wantNoSetCookie(t, res)

	// Logout re-issues an anonymous token.
	res = s.do(csrfPost("/api/auth/logout", refreshed, aliceTok, ""))
	wantStatus(t, res, http.StatusOK)
	wantDeleted(t, res, "userAuthToken")
	after := wantCSRFCookie(t, res)
	if after == aliceTok || !p.Valid(after, "") {
		t.Errorf("logout issued %q, want a new token bound to no one", after)
	}

	fails := ofType(s.events(), audit.TypeCSRFFail)
	reasons := make([]any, len(fails))
	for i, f := range fails {
		reasons[i] = f.Metadata["reason"]
	}
	if len(fails) != 2 || reasons[0] != "missing-header" || reasons[1] != "bad-signature" {
		t.Errorf("csrf:fail reasons = %v, want [missing-header bad-signature]", reasons)
	}
}

func TestCSRFGuestVisitorPostsWithTheCookieToken(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		withCSRF("both")(c)
		c.Guest.Enabled = true
	})
	res := s.do(req{path: "/"})
	wantForwarded(t, res, "/")
	guest := wantSet(t, res, "guestAuthToken", guestMaxAge)
	tok := wantCSRFCookie(t, res)

	r := csrfPost("/api/echo", "", tok, "same-origin")
	r.cookies["guestAuthToken"] = guest
	delete(r.header, "Sec-Fetch-Site") // curl-like: the token decides
	res = s.do(r)
	wantStatus(t, res, http.StatusOK)
	data, _ := bodyJSON(t, res)["data"].(map[string]any)
	if data["type"] != "guest" {
		t.Errorf("echo data = %v, want the guest's call", data)
	}

	delete(r.header, secCSRFHeader)
	wantCSRFRefused(t, s.do(r))
}

func TestCSRFCookieFollowsTheCookiesSettings(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		withCSRF("both")(c)
		c.Cookies.Secure = config.SecureAlways
		c.Cookies.Domain = "app.example"
	})
	res := s.do(req{path: "/"})
	wantStatus(t, res, http.StatusOK)
	c := setCookies(res)[secCSRFCookie]
	if c == nil || !c.Secure || c.Domain != "app.example" || c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Fatalf("Set-Cookie %s = %v, want Secure, Domain=app.example, not HttpOnly, SameSite=Strict, Path=/",
			secCSRFCookie, res.Header.Values("Set-Cookie"))
	}
}

func TestCSRFTokenBindingAndSecrets(t *testing.T) {
	const oldSecret = "sectest-previous-secret-99aa"
	s := newSecEnv(t, func(c *config.Config) {
		withCSRF("both")(c)
		c.CSRF.PreviousSecrets = []string{oldSecret}
	})
	alice, admin := s.login("alice"), s.login("admin")
	adminTok := s.csrfToken(map[string]string{"userAuthToken": admin})
	aliceTok := s.csrfToken(map[string]string{"userAuthToken": alice})
	if !protection(t, secCSRFSecret).Valid(adminTok, adminID) {
		t.Fatalf("admin's token is not bound to admin's id %q", adminID)
	}

	tests := []struct {
		name  string
		token string
		code  int
	}{
		{"alice's own token", aliceTok, http.StatusOK},
		{"another user's token", adminTok, http.StatusForbidden},
		{"an anonymous token", protection(t, secCSRFSecret).Mint(""), http.StatusForbidden},
		{"signed with another secret", protection(t, "sectest-attacker-secret").Mint(aliceID), http.StatusForbidden},
		{"signed with a previous secret", protection(t, oldSecret).Mint(aliceID), http.StatusOK},
		{"not a token", "abc.def", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.do(csrfPost("/api/echo", alice, tt.token, ""))
			if tt.code == http.StatusForbidden {
				wantCSRFRefused(t, res)
				return
			}
			wantStatus(t, res, tt.code)
		})
	}

	t.Run("a previous secret's token is replaced", func(t *testing.T) {
		res := s.do(csrfPost("/api/echo", alice, protection(t, oldSecret).Mint(aliceID), ""))
		wantStatus(t, res, http.StatusOK)
		if tok := wantCSRFCookie(t, res); !protection(t, secCSRFSecret).Valid(tok, aliceID) {
			t.Errorf("re-issued token %q is not signed with the current secret for alice", tok)
		}
	})
	t.Run("GET /api/auth/csrf issues the cookie it returns", func(t *testing.T) {
		res := s.do(req{path: "/api/auth/csrf", cookies: map[string]string{"userAuthToken": alice}})
		wantStatus(t, res, http.StatusOK)
		set := wantCSRFCookie(t, res)
		data, _ := bodyJSON(t, res)["data"].(map[string]any)
		if data["token"] != set {
			t.Errorf("data.token = %v, want the cookie's %q", data["token"], set)
		}
	})
}

// corsHeaders returns the response's Access-Control-* headers.
func corsHeaders(res *http.Response) http.Header {
	h := http.Header{}
	for k, v := range res.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			h[k] = v
		}
	}
	return h
}

func wantCORS(t *testing.T, res *http.Response, origin string) {
	t.Helper()
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, origin)
	}
	if got := res.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
		t.Errorf("Access-Control-Allow-Credentials = %q, want true", got)
	}
	wantVaryOrigin(t, res)
}

func wantVaryOrigin(t *testing.T, res *http.Response) {
	t.Helper()
	for _, v := range res.Header.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Origin") {
				return
			}
		}
	}
	t.Errorf("Vary = %q, want Origin", res.Header.Values("Vary"))
}

func listHas(list, item string) bool {
	for f := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(f), item) {
			return true
		}
	}
	return false
}

func TestCORS(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		withCSRF("both")(c)
		c.CORS.AllowedOrigins = []string{secAppOrigin}
	})
	alice := s.login("alice")
	aliceTok := s.csrfToken(map[string]string{"userAuthToken": alice})

	t.Run("preflight from the allowed origin", func(t *testing.T) {
		before := s.backendTotal()
		res := s.do(req{method: "OPTIONS", path: "/api/echo", header: map[string]string{
			"Origin": secAppOrigin, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "content-type, x-csrf-token"}})
		wantStatus(t, res, http.StatusNoContent)
		wantCORS(t, res, secAppOrigin)
		if m := res.Header.Get("Access-Control-Allow-Methods"); !listHas(m, "POST") || !listHas(m, "DELETE") {
			t.Errorf("Access-Control-Allow-Methods = %q, want POST and DELETE among them", m)
		}
		if h := res.Header.Get("Access-Control-Allow-Headers"); !listHas(h, "content-type") || !listHas(h, "x-csrf-token") {
			t.Errorf("Access-Control-Allow-Headers = %q, want content-type and x-csrf-token", h)
		}
		if got := res.Header.Get("Access-Control-Max-Age"); got != "600" {
			t.Errorf("Access-Control-Max-Age = %q, want 600 (10m)", got)
		}
		if s.backendTotal() != before || len(s.upstream.Requests()) != 0 {
			t.Error("a preflight was forwarded")
		}
	})
	t.Run("preflight from a foreign origin", func(t *testing.T) {
		res := s.do(req{method: "OPTIONS", path: "/api/echo", header: map[string]string{
			"Origin": secEvilOrigin, "Access-Control-Request-Method": "POST"}})
		wantStatus(t, res, http.StatusNoContent)
		if h := corsHeaders(res); len(h) != 0 {
			t.Errorf("CORS headers %v for a foreign origin, want none", h)
		}
	})
	t.Run("credentialed GET from the allowed origin", func(t *testing.T) {
		res := s.do(req{path: "/api/posts", cookies: map[string]string{"userAuthToken": alice},
			header: map[string]string{"Origin": secAppOrigin, "Sec-Fetch-Site": "cross-site"}})
		wantStatus(t, res, http.StatusOK)
		wantCORS(t, res, secAppOrigin)
		if n := len(res.Header.Values("Access-Control-Allow-Origin")); n != 1 {
			t.Errorf("Access-Control-Allow-Origin sent %d times", n)
		}
	})
	t.Run("GET from a foreign origin", func(t *testing.T) {
		res := s.do(req{path: "/api/posts", cookies: map[string]string{"userAuthToken": alice},
			header: map[string]string{"Origin": secEvilOrigin}})
		wantStatus(t, res, http.StatusOK)
		if h := corsHeaders(res); len(h) != 0 {
			t.Errorf("CORS headers %v for a foreign origin, want none", h)
		}
		wantVaryOrigin(t, res)
	})
	t.Run("a 401 refusal carries the headers", func(t *testing.T) {
		res := s.do(req{path: "/api/posts", header: map[string]string{"Origin": secAppOrigin}})
		wantCORS(t, res, secAppOrigin)
		wantJSON(t, res, http.StatusUnauthorized, "Token not found.")
	})
	t.Run("a CSRF refusal carries the headers", func(t *testing.T) {
		r := csrfPost("/api/echo", alice, "", "cross-site")
		r.header["Origin"] = secAppOrigin
		res := s.do(r)
		wantCORS(t, res, secAppOrigin)
		// Under both, an allowed origin passes the Fetch Metadata check but
		// still needs the double-submit token.
		wantCSRFRefused(t, res)
	})
	t.Run("a cross-site POST from the allowed origin with the token passes", func(t *testing.T) {
		r := csrfPost("/api/echo", alice, aliceTok, "cross-site")
		r.header["Origin"] = secAppOrigin
		res := s.do(r)
		wantStatus(t, res, http.StatusOK)
		wantCORS(t, res, secAppOrigin)
	})
	t.Run("a cross-site POST from a foreign origin with the token fails", func(t *testing.T) {
		r := csrfPost("/api/echo", alice, aliceTok, "cross-site")
		r.header["Origin"] = secEvilOrigin
		wantCSRFRefused(t, s.do(r))
	})
}

func TestCORSOnRateLimitRefusal(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		c.CORS.AllowedOrigins = []string{secAppOrigin}
		c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 1, Window: time.Minute}
	})
	r := req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.login("alice")},
		header: map[string]string{"Origin": secAppOrigin}}
	wantStatus(t, s.do(r), http.StatusOK)
	res := s.do(r)
	wantStatus(t, res, http.StatusTooManyRequests)
	wantCORS(t, res, secAppOrigin)
	if exp := res.Header.Get("Access-Control-Expose-Headers"); !listHas(exp, "Retry-After") || !listHas(exp, "X-RateLimit-Remaining") {
		t.Errorf("Access-Control-Expose-Headers = %q, want Retry-After and X-RateLimit-* readable", exp)
	}
	// Preflights are answered before the rate limit: never counted, never
	// refused by it.
	res = s.do(req{method: "OPTIONS", path: "/api/posts", header: map[string]string{
		"Origin": secAppOrigin, "Access-Control-Request-Method": "GET"}})
	wantStatus(t, res, http.StatusNoContent)
	wantCORS(t, res, secAppOrigin)
}

// rateHeaders checks X-RateLimit-Limit and -Remaining, and that
// X-RateLimit-Reset is an epoch second within (now, now+window].
func rateHeaders(t *testing.T, res *http.Response, limit, remaining int, window time.Duration, sent time.Time) {
	t.Helper()
	if got := res.Header.Get("X-RateLimit-Limit"); got != strconv.Itoa(limit) {
		t.Errorf("X-RateLimit-Limit = %q, want %d", got, limit)
	}
	if got := res.Header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(remaining) {
		t.Errorf("X-RateLimit-Remaining = %q, want %d", got, remaining)
	}
	reset, err := strconv.ParseInt(res.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil {
		t.Fatalf("X-RateLimit-Reset = %q: %v", res.Header.Get("X-RateLimit-Reset"), err)
	}
	hi := time.Now().Add(window + time.Second).Unix() // rounded up to the second
	if reset <= sent.Unix() || reset > hi {
		t.Errorf("X-RateLimit-Reset = %d, want within (%d, %d]", reset, sent.Unix(), hi)
	}
}

// wantRateLimited checks the 429 answer and returns its Retry-After.
func wantRateLimited(t *testing.T, res *http.Response, window time.Duration) int {
	t.Helper()
	wantStatus(t, res, http.StatusTooManyRequests)
	ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || ra <= 0 || time.Duration(ra)*time.Second > window {
		t.Errorf("Retry-After = %q, want seconds within (0, %s]", res.Header.Get("Retry-After"), window)
	}
	m := bodyJSON(t, res)
	if len(m) != 3 || m["success"] != false || m["message"] != "Too many requests. Please try again later." ||
		m["retryAfter"] != float64(ra) {
		t.Errorf("429 body = %v, want success false, the message and retryAfter %d", m, ra)
	}
	return ra
}

func TestRateLimitByIP(t *testing.T) {
	const window = time.Minute
	s := newSecEnv(t, func(c *config.Config) {
		c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 3, Window: window}
	})
	// A new token each time: every allowed request validates, so a blocked
	// one that validated would show in the auth/me count.
	next := func() req {
		return req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.login("alice")}}
	}
	for i := range 3 {
		sent := time.Now()
		res := s.do(next())
		wantStatus(t, res, http.StatusOK)
		rateHeaders(t, res, 3, 2-i, window, sent)
	}
	s.wantCalls(map[string]int64{"auth/me": 3, "posts": 3})
	sent := time.Now()
	res := s.do(next())
	wantRateLimited(t, res, window)
	rateHeaders(t, res, 3, 0, window, sent)
	s.wantCalls(map[string]int64{"auth/me": 3, "posts": 3})

	// A page view from the same client shares the bucket.
	wantStatus(t, s.do(req{path: "/"}), http.StatusTooManyRequests)
	if n := len(s.upstream.Requests()); n != 0 {
		t.Errorf("the web app received %d blocked requests", n)
	}
}

func TestRateLimitIgnoresForwardedHeadersFromUntrustedPeers(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 3, Window: time.Minute}
	})
	alice := map[string]string{"userAuthToken": s.login("alice")}
	spoofs := []map[string]string{
		{"X-Forwarded-For": "203.0.113.1"},
		{"X-Real-IP": "203.0.113.2"},
		{"CF-Connecting-IP": "203.0.113.3"},
		{"True-Client-IP": "203.0.113.4", "X-Forwarded-For": "203.0.113.5"},
	}
	for i, h := range spoofs {
		res := s.do(req{path: "/api/posts", cookies: alice, header: h})
		if i < 3 {
			wantStatus(t, res, http.StatusOK)
			continue
		}
		wantRateLimited(t, res, time.Minute)
	}
}

func TestRateLimitBelievesTrustedProxies(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		c.ClientIP.TrustedProxies = []string{"127.0.0.1/32"}
		c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 3, Window: time.Minute}
		c.Audit = config.Audit{Enabled: true, Events: []string{audit.TypeRateLimitExceeded}}
	})
	alice := map[string]string{"userAuthToken": s.login("alice")}
	for i := range 6 {
		res := s.do(req{path: "/api/posts", cookies: alice,
			header: map[string]string{"X-Forwarded-For": "198.51.100." + strconv.Itoa(10+i)}})
		wantStatus(t, res, http.StatusOK)
		if got := res.Header.Get("X-RateLimit-Remaining"); got != "2" {
			t.Errorf("client %d: X-RateLimit-Remaining = %q, want 2 (its own bucket)", i, got)
		}
	}
	one := req{path: "/api/posts", cookies: alice, header: map[string]string{"X-Forwarded-For": "198.51.100.10"}}
	wantStatus(t, s.do(one), http.StatusOK)
	wantStatus(t, s.do(one), http.StatusOK)
	wantRateLimited(t, s.do(one), time.Minute)

	evs := ofType(s.events(), audit.TypeRateLimitExceeded)
	if len(evs) != 1 || evs[0].IP != "198.51.100.10" {
		t.Errorf("rateLimit:exceeded events = %+v, want one for 198.51.100.10", evs)
	}
}

func TestRateLimitRules(t *testing.T) {
	login := `{"username":"alice","password":"` + demo.AlicePassword + `"}`
	loginReq := req{method: "POST", path: "/api/auth/login", body: login,
		header: map[string]string{"Content-Type": "application/json"}}
	rules := []config.RateLimitRule{{Path: "/api/auth/login", MaxRequests: 2, Window: time.Minute}}

	t.Run("the rule is more restrictive", func(t *testing.T) {
		s := newSecEnv(t, func(c *config.Config) {
			c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 10, Window: time.Minute, Rules: rules}
		})
		for i := range 2 {
			sent := time.Now()
			res := s.do(loginReq)
			wantStatus(t, res, http.StatusOK)
			rateHeaders(t, res, 2, 1-i, time.Minute, sent)
		}
		res := s.do(loginReq)
		wantRateLimited(t, res, time.Minute)
		if got := res.Header.Get("X-RateLimit-Limit"); got != "2" {
			t.Errorf("X-RateLimit-Limit = %q, want the rule's 2", got)
		}
		s.wantCalls(map[string]int64{"auth/login": 2})

		// Other paths only have the global limit.
		res = s.do(req{path: "/api/public/info", header: map[string]string{"X-Skip-Auth": "true"}})
		wantStatus(t, res, http.StatusOK)
		if got := res.Header.Get("X-RateLimit-Limit"); got != "10" {
			t.Errorf("X-RateLimit-Limit = %q off the rule's path, want 10", got)
		}
	})
	t.Run("the global limit is more restrictive", func(t *testing.T) {
		s := newSecEnv(t, func(c *config.Config) {
			c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 3, Window: time.Minute, Rules: rules}
		})
		info := req{path: "/api/public/info", header: map[string]string{"X-Skip-Auth": "true"}}
		wantStatus(t, s.do(info), http.StatusOK)
		wantStatus(t, s.do(info), http.StatusOK)
		sent := time.Now()
		res := s.do(loginReq) // global: 0 left; the rule: 1 left
		wantStatus(t, res, http.StatusOK)
		rateHeaders(t, res, 3, 0, time.Minute, sent)
		wantRateLimited(t, s.do(loginReq), time.Minute)
		s.wantCalls(map[string]int64{"auth/login": 1})
	})
}

func TestRateLimitSkipRoutes(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 1, Window: time.Minute,
			SkipRoutes: []string{"/api/public/**", "/assets/**"}}
	})
	alice := map[string]string{"userAuthToken": s.login("alice")}
	for _, p := range []string{"/api/public/info", "/api/public/info", "/api/public", "/assets/app.js", "/assets/app.js"} {
		res := s.do(req{path: p, cookies: alice})
		if res.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("%s: 429, want it never counted", p)
		}
		if got := res.Header.Get("X-RateLimit-Limit"); got != "" {
			t.Errorf("%s: X-RateLimit-Limit = %q, want no header on a skipped route", p, got)
		}
	}
	// The bucket is still full.
	res := s.do(req{path: "/api/posts", cookies: alice})
	wantStatus(t, res, http.StatusOK)
	if got := res.Header.Get("X-RateLimit-Remaining"); got != "0" {
		t.Errorf("X-RateLimit-Remaining = %q, want 0", got)
	}
	wantRateLimited(t, s.do(req{path: "/api/posts", cookies: alice}), time.Minute)
}

func TestRateLimitSkipsPrefetches(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 1, Window: time.Minute}
	})
	prefetch := req{path: "/", header: map[string]string{"Sec-Purpose": "prefetch"}}
	for range 3 {
		res := s.do(prefetch)
		wantForwarded(t, res, "/")
		if got := res.Header.Get("X-RateLimit-Limit"); got != "" {
			t.Errorf("prefetch: X-RateLimit-Limit = %q, want not counted", got)
		}
	}
	sent := time.Now()
	res := s.do(req{path: "/"})
	rateHeaders(t, res, 1, 0, time.Minute, sent) // on a page the web app answered
	wantForwarded(t, res, "/")
	wantRateLimited(t, s.do(req{path: "/"}), time.Minute)
	// A POST that claims to be a prefetch is counted all the same.
	post := req{method: "POST", path: "/form", header: map[string]string{"Sec-Purpose": "prefetch"}}
	wantRateLimited(t, s.do(post), time.Minute)
}

// Routers prefetch pages, never API reads: a prefetch header on an API
// request buys no exemption, or a client could flood the backend's GETs.
func TestRateLimitCountsAPIPrefetches(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 1, Window: time.Minute}
	})
	prefetch := req{path: "/api/public/info", header: map[string]string{"Next-Router-Prefetch": "1", "X-Skip-Auth": "true"}}
	wantStatus(t, s.do(prefetch), http.StatusOK)
	wantRateLimited(t, s.do(prefetch), time.Minute)
}

func TestRateLimitByUser(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 2, Window: time.Minute, By: "user"}
	})
	alice := req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.login("alice")}}
	admin := req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.login("admin")}}
	anon := req{path: "/"}

	wantStatus(t, s.do(alice), http.StatusOK)
	wantStatus(t, s.do(alice), http.StatusOK)
	posts := s.backend.Calls("posts")
	wantRateLimited(t, s.do(alice), time.Minute)
	if s.backend.Calls("posts") != posts {
		t.Error("a blocked request reached the backend")
	}

	// Same IP, another user: another bucket.
	for range 2 {
		res := s.do(admin)
		wantStatus(t, res, http.StatusOK)
	}
	wantRateLimited(t, s.do(admin), time.Minute)

	// Anonymous visitors (and invalid tokens) are counted by IP.
	wantForwarded(t, s.do(anon), "/")
	wantForwarded(t, s.do(req{path: "/", cookies: map[string]string{"userAuthToken": "not-a-token"}}), "/")
	wantRateLimited(t, s.do(anon), time.Minute)
}

func TestGuestMintingIsCappedPerIP(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		c.Guest.Enabled = true
		c.Guest.MaxPerMinute = 2
	})
	for i := range 2 {
		res := s.do(req{path: "/"})
		wantForwarded(t, res, "/")
		wantSet(t, res, "guestAuthToken", guestMaxAge)
		if i == 1 {
			wantIdentity(t, s.lastUpstream(), "guest", "")
		}
	}
	// The third is answered as if guest tokens were disabled.
	res := s.do(req{path: "/"})
	wantForwarded(t, res, "/")
	if c := setCookies(res)["guestAuthToken"]; c != nil {
		t.Errorf("a third guest was minted: %q", c.Raw)
	}
	wantIdentity(t, s.lastUpstream(), "", "")
	wantJSON(t, s.do(req{path: "/api/posts"}), http.StatusUnauthorized, "Token not found.")
	wantRedirect(t, s.do(req{path: "/dashboard"}), "/login")
	s.wantCalls(map[string]int64{"auth/guest": 2})
}

var auditTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func TestAuditEvents(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*config.Config)
		prepare func(*secEnv) req
		fault   string // endpoint given a fault, if any
		with    testkit.Fault
		status  int
		typ     string
		success bool
		userID  string
		meta    map[string]any
	}{
		{name: "auth:success", typ: audit.TypeAuthSuccess, status: 200, success: true, userID: aliceID,
			prepare: func(s *secEnv) req {
				return req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.login("alice")}}
			},
			meta: map[string]any{"tokenType": "user"}},
		{name: "auth:success at login", typ: audit.TypeAuthSuccess, status: 200, success: true, userID: aliceID,
			prepare: func(*secEnv) req {
				return req{method: "POST", path: "/api/auth/login", header: map[string]string{"Content-Type": "application/json"},
					body: `{"username":"alice","password":"` + demo.AlicePassword + `"}`}
			},
			meta: map[string]any{"tokenType": "user"}},
		{name: "auth:fail without token", typ: audit.TypeAuthFail, status: 401,
			prepare: func(*secEnv) req { return req{path: "/api/posts"} },
			meta:    map[string]any{"reason": "no-token"}},
		{name: "auth:fail with an invalid token", typ: audit.TypeAuthFail, status: 401,
			prepare: func(*secEnv) req {
				return req{path: "/api/posts", cookies: map[string]string{"userAuthToken": "not-a-token"}}
			},
			meta: map[string]any{"reason": "invalid-token"}},
		{name: "auth:guest", typ: audit.TypeAuthGuest, status: 200, success: true,
			edit:    func(c *config.Config) { c.Guest.Enabled = true },
			prepare: func(*secEnv) req { return req{path: "/"} },
			meta:    map[string]any{"minted": true}},
		{name: "auth:refresh", typ: audit.TypeAuthRefresh, status: 200, success: true, userID: aliceID,
			prepare: func(s *secEnv) req {
				return req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.expired("alice")}}
			}},
		{name: "auth:refresh:fail", typ: audit.TypeAuthRefreshFail, status: 401,
			fault: "auth/refresh", with: testkit.Status(http.StatusForbidden),
			prepare: func(s *secEnv) req {
				return req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.expired("alice")}}
			},
			meta: map[string]any{"reason": "revoked"}},
		{name: "auth:reuse", typ: audit.TypeAuthReuse, status: 401,
			fault: "auth/refresh", with: testkit.Status(http.StatusConflict),
			prepare: func(s *secEnv) req {
				return req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.expired("alice")}}
			},
			meta: map[string]any{"reason": "reuse"}},
		{name: "access:denied", typ: audit.TypeAccessDenied, status: 403, userID: aliceID,
			edit: func(c *config.Config) { c.Access.AllowedTokenTypes = []string{"service"} },
			prepare: func(s *secEnv) req {
				return req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.login("alice")}}
			},
			meta: map[string]any{"tokenType": "user"}},
		{name: "csrf:fail", typ: audit.TypeCSRFFail, status: 403,
			edit: withCSRF("both"),
			prepare: func(s *secEnv) req {
				r := csrfPost("/api/echo", s.login("alice"), "", "cross-site")
				r.header["Origin"] = secEvilOrigin
				return r
			},
			meta: map[string]any{"reason": "cross-site-request"}},
		{name: "rateLimit:exceeded", typ: audit.TypeRateLimitExceeded, status: 429,
			edit: func(c *config.Config) {
				c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 1, Window: time.Minute}
			},
			prepare: func(s *secEnv) req {
				wantStatus(s.t, s.do(req{path: "/"}), http.StatusOK)
				return req{path: "/"}
			},
			meta: map[string]any{"limit": float64(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSecEnv(t, func(c *config.Config) {
				c.Audit = config.Audit{Enabled: true, Events: audit.Types()}
				if tt.edit != nil {
					tt.edit(c)
				}
			})
			if tt.fault != "" {
				s.backend.SetFault(tt.fault, tt.with)
			}
			r := tt.prepare(s)
			start := time.Now()
			res := s.do(r)
			wantStatus(t, res, tt.status)
			id := res.Header.Get("X-Request-ID")
			if id == "" {
				t.Fatal("no X-Request-ID")
			}
			var got *auditEvent
			evs := s.events()
			for i, e := range evs {
				if e.Type == tt.typ && e.RequestID == id {
					got = &evs[i]
				}
			}
			if got == nil {
				t.Fatalf("no %s event for request %s; events: %+v", tt.typ, id, evs)
			}
			for _, k := range []string{"type", "timestamp", "ip", "path", "method", "success", "requestId"} {
				if _, ok := got.raw[k]; !ok {
					t.Errorf("event has no %q field: %v", k, got.raw)
				}
			}
			if ts, _ := got.raw["timestamp"].(string); !auditTime.MatchString(ts) {
				t.Errorf("timestamp %q is not RFC 3339 UTC with milliseconds", ts)
			}
			if got.Timestamp.Before(start.Add(-time.Second)) || got.Timestamp.After(time.Now().Add(time.Second)) {
				t.Errorf("timestamp %s is not the time of the request", got.Timestamp)
			}
			want := audit.Event{Type: tt.typ, IP: "127.0.0.1", UserID: tt.userID, Path: r.path,
				Method: r.method, Success: tt.success, RequestID: id}
			if want.Method == "" {
				want.Method = "GET"
			}
			if got.IP != want.IP || got.UserID != want.UserID || got.Path != want.Path ||
				got.Method != want.Method || got.Success != want.Success {
				t.Errorf("event = %+v, want %+v", got.Event, want)
			}
			for k, v := range tt.meta {
				if got.Metadata[k] != v {
					t.Errorf("metadata[%q] = %v, want %v (metadata %v)", k, got.Metadata[k], v, got.Metadata)
				}
			}
		})
	}
}

// TestAuditEventsNameTheKnownUser: when a refusal is decided after the
// user is known, the event says who it was (its userId field).
func TestAuditEventsNameTheKnownUser(t *testing.T) {
	tests := []struct {
		name string
		edit func(*config.Config)
		send func(*secEnv)
		typ  string
	}{
		{"csrf:fail at the token check", withCSRF("both"), func(s *secEnv) {
			alice := s.login("alice")
			adminTok := s.csrfToken(map[string]string{"userAuthToken": s.login("admin")})
			wantStatus(s.t, s.do(csrfPost("/api/echo", alice, adminTok, "")), http.StatusForbidden)
		}, audit.TypeCSRFFail},
		{"rateLimit:exceeded by user", func(c *config.Config) {
			c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 1, Window: time.Minute, By: "user"}
		}, func(s *secEnv) {
			r := req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.login("alice")}}
			wantStatus(s.t, s.do(r), http.StatusOK)
			wantStatus(s.t, s.do(r), http.StatusTooManyRequests)
		}, audit.TypeRateLimitExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSecEnv(t, func(c *config.Config) {
				tt.edit(c)
				c.Audit = config.Audit{Enabled: true, Events: []string{tt.typ}}
			})
			tt.send(s)
			evs := s.events()
			if len(evs) != 1 {
				t.Fatalf("events = %+v, want one %s", evs, tt.typ)
			}
			// BUG(lead): security.go csrfFail and allow emit with userID ""
			// even when the session is known (the token check runs with
			// the user's binding; by: user keys the limit by the user's id).
			if evs[0].UserID != aliceID {
				t.Errorf("%s userId = %q, want alice's %q", tt.typ, evs[0].UserID, aliceID)
			}
		})
	}
}

func TestAuditDisabledTypesAreNotWritten(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		withCSRF("both")(c)
		c.Guest.Enabled = true
		c.Audit = config.Audit{Enabled: true, Events: []string{audit.TypeCSRFFail}}
	})
	alice := s.login("alice")
	wantStatus(t, s.do(req{path: "/api/posts", cookies: map[string]string{"userAuthToken": alice}}), http.StatusOK)
	wantStatus(t, s.do(req{path: "/"}), http.StatusOK)
	wantStatus(t, s.do(req{path: "/api/posts", cookies: map[string]string{"userAuthToken": "bad"}}), http.StatusOK)
	wantStatus(t, s.do(csrfPost("/api/echo", alice, "", "cross-site")), http.StatusForbidden)
	evs := s.events()
	if len(evs) != 1 || evs[0].Type != audit.TypeCSRFFail {
		t.Errorf("events = %+v, want exactly one csrf:fail", evs)
	}
}

func TestAuditDefaultEventsLeaveOutGuests(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		c.Guest.Enabled = true
		c.Audit = config.Audit{Enabled: true}
	})
	wantStatus(t, s.do(req{path: "/"}), http.StatusOK)
	wantStatus(t, s.do(req{path: "/api/posts"}), http.StatusOK)
	if evs := s.events(); len(evs) != 0 {
		t.Errorf("events = %+v, want none (auth:guest is off by default)", evs)
	}
}

func TestAuditFileOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	s := newSecEnv(t, func(c *config.Config) {
		c.Audit = config.Audit{Enabled: true, Output: "file:" + path}
	})
	var ids []string
	for range 3 {
		res := s.do(req{path: "/api/posts"})
		wantStatus(t, res, http.StatusUnauthorized)
		ids = append(ids, res.Header.Get("X-Request-ID"))
	}
	if err := s.gw.Close(); err != nil {
		t.Fatal(err)
	}
	if out := s.audit.String(); out != "" {
		t.Errorf("stdout got %q with a file output", out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	evs := parseAudit(t, string(b))
	if len(evs) != 3 || strings.Count(string(b), "\n") != 3 {
		t.Fatalf("file holds %q, want 3 events, one per line", b)
	}
	for i, e := range evs {
		if e.Type != audit.TypeAuthFail || e.RequestID != ids[i] {
			t.Errorf("event %d = %+v, want auth:fail for %s", i, e.Event, ids[i])
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

func TestAuditWebhookThatNeverAnswersBlocksNoRequest(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	var mu sync.Mutex
	received := 0 // events delivered, guarded by mu
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		var batch []json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&batch); err == nil {
			mu.Lock()
			received += len(batch)
			mu.Unlock()
		}
	}))
	t.Cleanup(hook.Close)
	t.Cleanup(free) // runs before hook.Close

	s := newSecEnv(t, func(c *config.Config) {
		c.Audit = config.Audit{Enabled: true, Output: hook.URL + "/audit"}
	})
	s.client.Timeout = 10 * time.Second // liveness bound, not a speed claim
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			res, err := s.client.Get(s.srv.URL + "/api/posts")
			if err != nil {
				errs <- err
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				errs <- errors.New("status " + res.Status)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("request with a hung audit webhook: %v", err)
	}

	free()
	if err := s.gw.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if received != n {
		t.Errorf("webhook received %d events once answering, want %d", received, n)
	}
}
