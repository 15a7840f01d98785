package apilayer_test

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/config"
)

// Promises of the pipeline that no other test held (each was found by
// removing the line that keeps it and seeing every test still pass).

func TestClientAuthorizationNeverReachesTheBackendWithoutToken(t *testing.T) {
	forged := map[string]string{"Authorization": "Bearer forged-by-the-client"}
	tests := []struct {
		name   string
		edit   func(*config.Config)
		path   string
		header map[string]string
	}{
		{"publicEndpoints", func(c *config.Config) { c.API.PublicEndpoints = []string{"public/**"} }, "/api/public/info", nil},
		{"X-Skip-Auth", nil, "/api/public/info", map[string]string{"X-Skip-Auth": "true"}},
		{"skipAuthByDefault", func(c *config.Config) { c.API.SkipAuthByDefault = true }, "/api/public/info", nil},
		{"excludedPaths", func(c *config.Config) { c.Access.ExcludedPaths = []string{"/api/public"} }, "/api/public/info", nil},
	}
	for _, tt := range tests {
		for _, who := range []string{"anonymous", "alice"} {
			t.Run(tt.name+", "+who, func(t *testing.T) {
				e := newEnv(t, tt.edit)
				h := map[string]string{}
				for k, v := range forged {
					h[k] = v
				}
				for k, v := range tt.header {
					h[k] = v
				}
				r := req{path: tt.path, header: h}
				if who == "alice" {
					r.cookies = map[string]string{userCookie: e.login("alice")}
				}
				res := e.do(r)
				wantStatus(t, res, http.StatusOK)
				if got := bearer(e.lastBackend(tt.path)); got != "" {
					t.Errorf("the backend received Authorization %q, want none", got)
				}
			})
		}
	}
}

func TestBeforeAuthNeverSeesForgedHeaders(t *testing.T) {
	var (
		mu   sync.Mutex
		seen http.Header
	)
	hooks := apilayer.Hooks{BeforeAuth: func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
		return false
	}}
	s := newSecEnv(t, nil, apilayer.WithHooks(hooks))
	forged := map[string]string{
		"X-Auth-User":             "eyJpZCI6Mn0=",
		"X-Auth-Token-Type":       "user",
		"X-Refreshed-Token":       "forged",
		"X-Locale":                "xx",
		"X-Middleware-Subrequest": "middleware",
	}
	for _, p := range []string{"/page", "/api/posts", "/api/auth/me"} {
		s.do(req{path: p, header: forged})
		mu.Lock()
		h := seen
		seen = nil
		mu.Unlock()
		if h == nil {
			t.Fatalf("%s: BeforeAuth did not run", p)
		}
		for k := range forged {
			if v := h.Values(k); len(v) != 0 {
				t.Errorf("%s: BeforeAuth saw %s = %q", p, k, v)
			}
		}
	}
}

func TestUpstreamBreakingMidBodyStaysTruncated(t *testing.T) {
	e := newEnv(t, nil)
	e.upstream.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first part of the page, ")
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // the web app's connection breaks mid-body
	}))
	res := e.do(req{path: "/page"})
	wantStatus(t, res, http.StatusOK)
	b, err := io.ReadAll(res.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading the body gave %q and error %v, want it cut off (unexpected EOF)", b, err)
	}
}

func TestPanicInThePipelineIsA500(t *testing.T) {
	hooks := apilayer.Hooks{AfterAuth: func(w http.ResponseWriter, r *http.Request, a apilayer.Auth) bool {
		panic("a hook bug")
	}}
	s := newSecEnv(t, func(c *config.Config) {
		c.Audit = config.Audit{Enabled: true, Events: []string{audit.TypeError}}
	}, apilayer.WithHooks(hooks))
	res := s.do(req{path: "/api/posts", header: map[string]string{"X-Skip-Auth": "true"}})
	wantJSON(t, res, http.StatusInternalServerError, "Internal error.")
	if res.Header.Get("X-Request-Id") == "" {
		t.Error("the 500 carries no X-Request-Id")
	}
	res = s.do(req{path: "/page"})
	wantPage(t, res, http.StatusInternalServerError)
	if evs := ofType(s.events(), audit.TypeError); len(evs) != 2 {
		t.Errorf("%d audit error events, want 2", len(evs))
	}
}
