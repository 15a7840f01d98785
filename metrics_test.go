package apilayer_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

func TestMetrics(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	gw, err := apilayer.New(config.Config{
		Backend:   config.Backend{URL: b.URL()},
		Upstream:  config.Upstream{URL: up.URL()},
		Access:    config.Access{ProtectedRoutes: []string{"/dashboard"}},
		RateLimit: config.RateLimit{Enabled: true, MaxRequests: 5},
		Metrics:   config.Metrics{Enabled: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(func() { srv.Close(); gw.Close() })

	old, _ := b.Demo().Issue("alice", -time.Minute)
	for _, tc := range []struct{ path, cookie string }{{"/dashboard", old}, {"/dashboard", ""}, {"/api/posts", ""}} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		if tc.cookie != "" {
			req.AddCookie(&http.Cookie{Name: "userAuthToken", Value: tc.cookie})
		}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	text := string(body)
	for _, want := range []string{
		`apilayer_requests_total{code="200",kind="page"} 1`,
		`apilayer_requests_total{code="307",kind="page"} 1`,
		`apilayer_requests_total{code="401",kind="api"} 1`,
		`apilayer_sessions_total{state="user"} 1`,
		`apilayer_sessions_total{state="anonymous"} 2`,
		`apilayer_refreshes_total{result="ok"} 1`,
		`apilayer_backend_calls_total{endpoint="auth/refresh",outcome="2xx"} 1`,
		`apilayer_backend_calls_total{endpoint="auth/me",outcome="4xx"} 1`,
		`apilayer_request_duration_seconds_count{kind="page"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if len(up.Requests()) != 1 || b.Calls("auth/guest") != 0 {
		t.Fatalf("the metrics path reached the web app or the backend")
	}
	if strings.Contains(text, old) {
		t.Fatal("a token appears in the metrics")
	}
}
