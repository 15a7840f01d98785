package apiclient_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/apiclient"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// A handler behind the real gateway calls the backend with the token the
// gateway settled on: after a transparent refresh, the new one
// (next-api-layer's server helpers sent the stale cookie token).
func TestTokenFromTheGateway(t *testing.T) {
	be := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	gw, err := apilayer.New(config.Config{
		Backend:  config.Backend{URL: be.URL(), Timeout: 2 * time.Second},
		Upstream: config.Upstream{URL: up.URL()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })

	api, err := apiclient.New(apiclient.Config{BaseURL: be.URL(), RequestID: apiclient.RequestID{Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })

	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := api.Get(r.Context(), "echo")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Write(res.Data)
	})
	srv := httptest.NewServer(gw.Middleware(page))
	t.Cleanup(srv.Close)

	expired, err := be.Demo().Issue("alice", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		cookie   string // name
		token    string
		wantType string
	}{
		{name: "refreshed in this request", cookie: "userAuthToken", token: expired, wantType: "user"},
		{name: "guest", cookie: "guestAuthToken", token: be.Demo().IssueGuest(time.Hour), wantType: "guest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/page", nil)
			req.AddCookie(&http.Cookie{Name: tt.cookie, Value: tt.token})
			req.Header.Set("X-Request-ID", "trace-42")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			var echo struct{ Type string }
			if err := json.Unmarshal(body, &echo); err != nil || echo.Type != tt.wantType {
				t.Fatalf("echo = %s (%v), want type %s", body, err, tt.wantType)
			}
			last := be.Last()
			if last.Path != "/api/echo" {
				t.Fatalf("last backend call = %s", last.Path)
			}
			auth := last.Header.Get("Authorization")
			switch {
			case tt.cookie == "userAuthToken" && (auth == "" || auth == "Bearer "+expired):
				t.Errorf("Authorization is not the refreshed token")
			case tt.cookie == "guestAuthToken" && auth != "Bearer "+tt.token:
				t.Errorf("Authorization is not the guest token")
			}
			if got := last.Header.Get("X-Request-ID"); got != "trace-42" {
				t.Errorf("X-Request-ID = %q, want the gateway's", got)
			}
		})
	}

	t.Run("outside the gateway there is no token", func(t *testing.T) {
		_, err := api.Get(t.Context(), "echo")
		if !strings.Contains(err.Error(), "no_token") {
			t.Fatalf("err = %v", err)
		}
	})
}
