package demo_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/demo"
)

func TestExpireSession(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := demo.NewBackend(demo.BackendOptions{Now: func() time.Time { return clock }})
	srv := httptest.NewServer(b.WithExpireSession())
	t.Cleanup(srv.Close)

	call := func(t *testing.T, method, path, token, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatalf("%s %s: body: %v", method, path, err)
		}
		return res.StatusCode, out
	}
	access, err := b.Issue("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, method, token string
		status              int
		msg                 string
	}{
		{name: "wrong method", method: "GET", token: access, status: 405, msg: "Method not allowed."},
		{name: "no token", method: "POST", status: 401, msg: "Unauthenticated."},
		{name: "guest", method: "POST", token: b.IssueGuest(time.Hour), status: 403, msg: "Only a signed-in user can expire a session."},
		{name: "user", method: "POST", token: access, status: 200},
		{name: "already expired", method: "POST", token: access, status: 401, msg: "Unauthenticated."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, tt.method, demo.ExpireSessionPath, tt.token, "")
			if status != tt.status {
				t.Fatalf("status = %d, want %d (%v)", status, tt.status, body)
			}
			if tt.msg != "" && body["message"] != tt.msg {
				t.Errorf("message = %v, want %q", body["message"], tt.msg)
			}
			if tt.status == 200 && body["data"].(map[string]any)["expired"] != true {
				t.Errorf("body = %v, want data.expired true", body)
			}
		})
	}

	t.Run("expired token is refused but refreshable once", func(t *testing.T) {
		if status, _ := call(t, "GET", "/api/auth/me", access, ""); status != 401 {
			t.Fatalf("me with expired token = %d, want 401", status)
		}
		status, body := call(t, "POST", "/api/auth/refresh", access, "")
		if status != 200 {
			t.Fatalf("refresh = %d (%v), want 200", status, body)
		}
		next, _ := body["data"].(map[string]any)["accessToken"].(string)
		if status, _ := call(t, "GET", "/api/auth/me", next, ""); status != 200 {
			t.Errorf("me with refreshed token = %d, want 200", status)
		}
		if status, _ := call(t, "POST", "/api/auth/refresh", access, ""); status != 409 {
			t.Errorf("second refresh = %d, want 409 (reuse)", status)
		}
	})

	t.Run("other paths reach the backend", func(t *testing.T) {
		if status, body := call(t, "GET", "/api/public/info", "", ""); status != 200 || body["success"] != true {
			t.Errorf("public/info = %d %v", status, body)
		}
	})
	b.ExpireSession("not-a-token") // ignored
}
