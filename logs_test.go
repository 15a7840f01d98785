package apilayer_test

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// secrets collects every secret a test saw go by: token cookie values,
// tokens sent in requests or received by the backend and the web app,
// passwords and keys.
type secrets map[string]bool

func (s secrets) add(v string) {
	v = strings.TrimSpace(strings.TrimPrefix(v, "Bearer "))
	if len(v) < 8 {
		return
	}
	s[v] = true
	// A leak of part of a token counts too: each long dot-separated piece
	// (JWT payload and signature, the CSRF MAC and random value).
	for part := range strings.SplitSeq(v, ".") {
		if len(part) >= 16 {
			s[part] = true
		}
	}
}

// fromResponse adds every cookie value the response sets.
func (s secrets) fromResponse(res *http.Response) {
	for _, c := range res.Cookies() {
		s.add(c.Value)
	}
}

// fromRequest adds the cookie values and Authorization the request sends.
func (s secrets) fromRequest(r req) {
	for _, v := range r.cookies {
		s.add(v)
	}
	s.add(r.header["Authorization"])
}

// fromRecorded adds the tokens a backend or web app request carried.
func (s secrets) fromRecorded(recs []testkit.Recorded) {
	for _, rec := range recs {
		s.add(rec.Header.Get("Authorization"))
		s.add(rec.Header.Get("X-Refreshed-Token"))
		for _, c := range rec.Cookies {
			s.add(c.Value)
		}
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestLogsNeverContainSecrets runs a full session through a gateway that
// logs everything (DEBUG, access log, audit) and checks that no token,
// cookie value, Authorization header, password or key is in the output.
func TestLogsNeverContainSecrets(t *testing.T) {
	const wrongPassword = "sectest-wrong-password-1234"
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	edit := func(c *config.Config) {
		c.Guest.Enabled = true
		c.Cookies.Refresh = "refreshToken" // dual-token mode: refresh tokens go by too
		noCache(c)
		withCSRF("both")(c)
		c.Log = config.Log{Level: "debug", Access: true}
		c.Audit = config.Audit{Enabled: true, Events: audit.Types()}
	}
	s := newSecEnv(t, edit, apilayer.WithLogger(logger))
	seen := secrets{}
	for _, v := range []string{demo.AlicePassword, demo.GuestPassword, secCSRFSecret, wrongPassword} {
		seen[v] = true
	}
	jar := map[string]string{}
	send := func(r req, want int) *http.Response {
		t.Helper()
		if r.cookies == nil {
			r.cookies = map[string]string{}
		}
		for k, v := range jar {
			if _, set := r.cookies[k]; !set {
				r.cookies[k] = v
			}
		}
		seen.fromRequest(r)
		res := s.do(r)
		seen.fromResponse(res)
		for _, c := range res.Cookies() {
			if c.MaxAge < 0 {
				delete(jar, c.Name)
			} else {
				jar[c.Name] = c.Value
			}
		}
		if res.StatusCode != want {
			t.Fatalf("%s %s: status %d, want %d", r.method, r.path, res.StatusCode, want)
		}
		return res
	}
	post := func(path, body string, want int) *http.Response {
		t.Helper()
		return send(req{method: "POST", path: path, body: body, header: map[string]string{
			"Content-Type": "application/json", secCSRFHeader: jar[secCSRFCookie]}}, want)
	}
	requests := 0
	count := func(n int) { requests += n }

	// A guest visit, a failed then a successful login, a page with the cookie.
	send(req{path: "/?token=query-secret-value-abcdef"}, http.StatusOK)
	seen.add("query-secret-value-abcdef")
	if jar["guestAuthToken"] == "" || jar[secCSRFCookie] == "" {
		t.Fatalf("no guest or CSRF cookie after the first visit: %v", jar)
	}
	post("/api/auth/login", `{"username":"alice","password":"`+wrongPassword+`"}`, http.StatusUnauthorized)
	post("/api/auth/login", `{"username":"alice","password":"`+demo.AlicePassword+`"}`, http.StatusOK)
	if jar["userAuthToken"] == "" || jar["refreshToken"] == "" {
		t.Fatalf("no user or refresh cookie after login: %v", jar)
	}
	send(req{path: "/dashboard"}, http.StatusOK)
	count(4)

	// Forced expiry: the next page refreshes transparently.
	old := jar["userAuthToken"]
	s.clock.Advance(demo.DefaultAccessTTL + time.Minute)
	send(req{path: "/dashboard"}, http.StatusOK)
	if jar["userAuthToken"] == old {
		t.Fatal("the access token was not refreshed")
	}
	// An API call, with a client-sent Authorization header the gateway
	// replaces; a CSRF failure; logout.
	send(req{path: "/api/posts", header: map[string]string{"Authorization": "Bearer " + s.login("admin")}}, http.StatusOK)
	send(req{method: "POST", path: "/api/echo", body: `{}`}, http.StatusForbidden)
	post("/api/auth/logout", "", http.StatusOK)
	count(4)

	// Backend failures: validation answering 500, a refresh answering 500.
	s.backend.SetFault("auth/me", testkit.Status(http.StatusInternalServerError))
	send(req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.login("alice")}}, http.StatusServiceUnavailable)
	s.backend.SetFault("auth/me", testkit.None)
	s.backend.SetFault("auth/refresh", testkit.Status(http.StatusInternalServerError))
	send(req{path: "/api/posts", cookies: map[string]string{"userAuthToken": s.expired("alice"),
		"refreshToken": "rt_sectest-refresh-credential-0001"}}, http.StatusServiceUnavailable)
	if s.backend.Calls("auth/refresh") < 2 {
		t.Fatal("the failing refresh was not attempted")
	}
	s.backend.SetFault("auth/refresh", testkit.None)
	count(2)

	// A gateway whose backend and web app are on a closed port: 502s and 503s.
	dead := closedAddr(t)
	down := newSecEnv(t, func(c *config.Config) {
		edit(c)
		c.Backend.URL = "http://" + dead + "/api/"
		c.Upstream.URL = "http://" + dead
	}, apilayer.WithLogger(logger))
	tok := s.login("alice")
	seen.add(tok)
	for _, tt := range []struct {
		r    req
		want int
	}{
		{req{path: "/api/public/info", header: map[string]string{"X-Skip-Auth": "true", "Authorization": "Bearer " + tok}}, http.StatusBadGateway},
		{req{path: "/api/posts", cookies: map[string]string{"userAuthToken": tok}}, http.StatusServiceUnavailable},
		{req{path: "/", cookies: map[string]string{"guestAuthToken": tok}}, http.StatusBadGateway},
		{req{method: "POST", path: "/api/auth/login", header: map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"},
			body: `{"username":"alice","password":"` + demo.AlicePassword + `"}`}, http.StatusServiceUnavailable},
	} {
		res := down.do(tt.r)
		seen.fromResponse(res)
		if res.StatusCode != tt.want {
			t.Errorf("%s %s on a dead backend: %d, want %d", tt.r.method, tt.r.path, res.StatusCode, tt.want)
		}
	}
	count(4)

	seen.fromRecorded(s.backend.Requests())
	seen.fromRecorded(s.upstream.Requests())
	auditOut := strings.Join([]string{s.auditOutput(), down.auditOutput()}, "")
	logOut := logs.String()

	// The outputs are not empty: the check below means something.
	lines := 0
	for line := range strings.SplitSeq(strings.TrimSpace(logOut), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if m["msg"] == "request" {
			lines++
		}
	}
	if lines != requests {
		t.Errorf("%d access log lines, want one per request (%d)", lines, requests)
	}
	if !strings.Contains(logOut, `"level":"DEBUG"`) {
		t.Errorf("the log has no DEBUG line; the test would prove little:\n%s", logOut)
	}
	for _, typ := range []string{audit.TypeAuthGuest, audit.TypeAuthSuccess, audit.TypeAuthRefresh, audit.TypeCSRFFail, audit.TypeAuthFail, audit.TypeError} {
		if !strings.Contains(auditOut, `"type":"`+typ+`"`) {
			t.Errorf("no %s audit event; the test would prove little", typ)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("only %d secrets collected", len(seen))
	}
	for v := range seen {
		if strings.Contains(logOut, v) {
			t.Errorf("the log contains the secret %.12s...", v)
		}
		if strings.Contains(auditOut, v) {
			t.Errorf("the audit output contains the secret %.12s...", v)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s\naudit:\n%s", logOut, auditOut)
	}
}

// auditOutput closes the gateway and returns the raw audit output.
func (s *secEnv) auditOutput() string {
	s.t.Helper()
	if err := s.gw.Close(); err != nil {
		s.t.Fatalf("Close: %v", err)
	}
	return s.audit.String()
}

// New warns about configurations that work but are risky; the plain
// configuration gets no warning.
func TestStartupWarnings(t *testing.T) {
	const (
		csrfWarning = "csrf.secret: not set"
		ipWarning   = "clientIP.headers: the default list"
	)
	for _, tc := range []struct {
		name string
		edit func(*config.Config)
		want []string
	}{
		{"plain", func(*config.Config) {}, nil},
		{"csrf without a secret", func(c *config.Config) { c.CSRF.Enabled = true }, []string{csrfWarning}},
		{"csrf with a secret", func(c *config.Config) { c.CSRF.Enabled, c.CSRF.Secret = true, "s3cret-s3cret-s3cret" }, nil},
		{"trusted proxies, default headers", func(c *config.Config) { c.ClientIP.TrustedProxies = []string{"10.0.0.0/8"} }, []string{ipWarning}},
		{"trusted proxies, headers chosen", func(c *config.Config) {
			c.ClientIP.TrustedProxies = []string{"10.0.0.0/8"}
			c.ClientIP.Headers = []string{"x-forwarded-for"}
		}, nil},
		{"default headers, nobody trusted", func(c *config.Config) { c.ClientIP.Headers = config.DefaultIPHeaders }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuffer
			c := config.Config{Backend: config.Backend{URL: "http://127.0.0.1:1/api/"}}
			tc.edit(&c)
			gw, err := apilayer.New(c, apilayer.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
			if err != nil {
				t.Fatal(err)
			}
			gw.Close()
			out := buf.String()
			for _, w := range []string{csrfWarning, ipWarning} {
				if got, want := strings.Contains(out, w), slices.Contains(tc.want, w); got != want {
					t.Errorf("warning %q logged: %v, want %v; log:\n%s", w, got, want, out)
				}
			}
		})
	}
}
