package apilayer_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// Gateway.Close releases everything New built: after it, no goroutine of
// the gateway is left (the backend client's keep-alive connections, the
// session manager, the audit writer, the rate limiter, the proxies).
func TestGatewayCloseLeavesNoGoroutine(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	before := goleak.IgnoreCurrent()
	tests := []struct {
		name string
		edit func(*config.Config)
	}{
		{"memory", nil},
		{"audit, rate limit, csrf, metrics", func(c *config.Config) {
			c.Audit = config.Audit{Enabled: true, Events: audit.Types(), Output: "file:" + filepath.Join(t.TempDir(), "audit.log")}
			c.RateLimit = config.RateLimit{Enabled: true}
			c.CSRF = config.CSRF{Enabled: true, Secret: secCSRFSecret}
			c.Metrics = config.Metrics{Enabled: true}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Config{
				Backend:  config.Backend{URL: b.URL(), Timeout: 2 * time.Second},
				Upstream: config.Upstream{URL: up.URL()},
				Guest:    config.Guest{Enabled: true, Credentials: demo.GuestCredentials()},
				Access:   config.Access{ProtectedRoutes: []string{"/dashboard"}},
			}
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			gw, err := apilayer.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(gw.Handler())
			alice, _ := b.Demo().Issue("alice", time.Hour)
			expired, _ := b.Demo().Issue("alice", -time.Minute)
			for _, r := range []struct{ path, cookie string }{
				{"/dashboard", alice}, {"/", ""}, {"/api/posts", alice}, {"/dashboard", expired},
			} {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+r.path, nil)
				if r.cookie != "" {
					req.AddCookie(&http.Cookie{Name: "userAuthToken", Value: r.cookie})
				}
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
			}
			srv.Close()
			if err := gw.Close(); err != nil {
				t.Fatal(err)
			}
			goleak.VerifyNone(t, before)
		})
	}
}
