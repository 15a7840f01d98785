package testkit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/demo"
)

// get makes a GET to the backend endpoint with ctx and returns the status,
// Content-Type and body.
func get(ctx context.Context, b *Backend, endpoint, token string) (int, string, string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", b.URL()+endpoint, nil)
	if err != nil {
		return 0, "", "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := b.Client().Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(body), err
}

func TestBackendFaults(t *testing.T) {
	tests := []struct {
		name        string
		endpoint    string // where the fault is set
		fault       Fault
		status      int
		contentType string
		body        string // a substring of the answer
	}{
		{"none", "auth/me", None, 200, "application/json", `"type":"user"`},
		{"status", "auth/me", Status(503), 503, "application/json", `{"success":false,"message":"Injected fault."}`},
		{"not JSON", "auth/me", NotJSON, 200, "text/html; charset=utf-8", "<!doctype html>"},
		{"wrong shape", "auth/me", WrongShape, 200, "application/json", `{"ok":true,"result":{"token":42,"user":"alice"}}`},
		{"delay answers normally", "auth/me", Delay(time.Millisecond), 200, "application/json", `"success":true`},
		{"wildcard", "*", Status(502), 502, "application/json", "Injected fault."},
		{"other endpoint unaffected", "auth/refresh", Status(500), 200, "application/json", `"type":"user"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBackend(t, demo.BackendOptions{})
			token, err := b.Demo().Issue("alice", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			b.SetFault(tt.endpoint, tt.fault)
			status, ct, body, err := get(t.Context(), b, "auth/me", token)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.status || ct != tt.contentType || !strings.Contains(body, tt.body) {
				t.Errorf("%v: got %d %q %q, want %d %q containing %q", tt.fault, status, ct, body, tt.status, tt.contentType, tt.body)
			}
			if got := b.Calls("auth/me"); got != 1 {
				t.Errorf("Calls(auth/me) = %d, want 1", got)
			}
			wantDemo := int64(0)
			if tt.status == 200 && tt.fault != NotJSON && tt.fault != WrongShape {
				wantDemo = 1
			}
			if got := b.Demo().Calls("auth/me"); got != wantDemo {
				t.Errorf("Demo().Calls(auth/me) = %d, want %d", got, wantDemo)
			}

			b.SetFault(tt.endpoint, None)
			if status, _, _, err := get(t.Context(), b, "auth/me", token); err != nil || status != 200 {
				t.Errorf("after SetFault(None): %d %v", status, err)
			}
		})
	}
}

func TestBackendSpecificFaultBeatsWildcard(t *testing.T) {
	b := NewBackend(t, demo.BackendOptions{})
	b.SetFault("*", Status(503))
	b.SetFault("public/info", Status(418))
	if status, _, _, _ := get(t.Context(), b, "public/info", ""); status != 418 {
		t.Errorf("public/info: %d, want 418", status)
	}
	if status, _, _, _ := get(t.Context(), b, "posts", ""); status != 503 {
		t.Errorf("posts: %d, want 503", status)
	}
}

func TestBackendHangReleasedByRequestContext(t *testing.T) {
	b := NewBackend(t, demo.BackendOptions{})
	b.SetFault("auth/me", Hang)
	arrived := b.notifyArrivals()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, _, _, err := get(ctx, b, "auth/me", "x")
		errc <- err
	}()
	<-arrived // the request is at the server
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("hung request ended with %v, want context.Canceled", err)
	}
	if b.Demo().Calls("auth/me") != 0 {
		t.Error("a hung request reached the demo backend")
	}
}

func TestBackendHangReleasedAtCleanup(t *testing.T) {
	errc := make(chan error, 1)
	t.Run("inner", func(t *testing.T) {
		b := NewBackend(t, demo.BackendOptions{})
		b.SetFault("auth/me", Hang)
		arrived := b.notifyArrivals()
		go func() {
			_, _, _, err := get(context.Background(), b, "auth/me", "x")
			errc <- err
		}()
		<-arrived
		// The test ends with the request still hung: cleanup must release it
		// (or this test never finishes).
	})
	if err := <-errc; err == nil {
		t.Error("a request hung at cleanup got an answer; want a dropped connection")
	}
}

func TestBackendBlock(t *testing.T) {
	b := NewBackend(t, demo.BackendOptions{})
	release := make(chan struct{})
	b.SetFault("public/info", Block(release))
	arrived := b.notifyArrivals()
	const n = 3
	statuses := make(chan int, n)
	for range n {
		go func() {
			status, _, _, _ := get(t.Context(), b, "public/info", "")
			statuses <- status
		}()
	}
	for range n {
		<-arrived
	}
	if got := b.Demo().Calls("public/info"); got != 0 {
		t.Fatalf("%d blocked requests reached the demo backend", got)
	}
	close(release)
	for range n {
		if s := <-statuses; s != 200 {
			t.Errorf("released request: %d, want 200", s)
		}
	}
	if got := b.Demo().Calls("public/info"); got != n {
		t.Errorf("Demo().Calls = %d, want %d", got, n)
	}
}

func TestBackendRecordsRequests(t *testing.T) {
	b := NewBackend(t, demo.BackendOptions{})
	res, err := b.Client().Post(b.URL()+"auth/login?x=1", "application/json",
		strings.NewReader(`{"username":"alice","password":"alice-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("login through the recorder: %d (the body must reach the backend whole)", res.StatusCode)
	}
	last := b.Last()
	if last.Method != "POST" || last.Path != "/api/auth/login" || last.Query.Get("x") != "1" ||
		!strings.Contains(string(last.Body), "alice-password") || len(b.Requests()) != 1 {
		t.Errorf("recorded %+v", last)
	}
	b.ResetCalls()
	if len(b.Requests()) != 0 || b.Calls("auth/login") != 0 || b.Demo().Calls("auth/login") != 0 {
		t.Error("ResetCalls left state behind")
	}
}

func TestUpstream(t *testing.T) {
	u := NewUpstream(t)
	if (u.Last().Method) != "" {
		t.Fatal("Last before any request is not zero")
	}
	user := base64.StdEncoding.EncodeToString([]byte(`{"id":1,"name":"Alice"}`))
	req, _ := http.NewRequest("PUT", u.URL()+"/a/b?q=1&q=2", strings.NewReader("hello"))
	req.Header.Set("X-Auth-User", user)
	req.AddCookie(&http.Cookie{Name: "userAuthToken", Value: "tok"})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "upstream: PUT /a/b\n" {
		t.Errorf("default answer %q", body)
	}
	last := u.Last()
	if v, ok := last.Cookie("userAuthToken"); !ok || v != "tok" {
		t.Errorf("cookie = %q %v", v, ok)
	}
	if _, ok := last.Cookie("guestAuthToken"); ok {
		t.Error("found a cookie that was not sent")
	}
	got, err := last.AuthUser()
	if err != nil || got["name"] != "Alice" {
		t.Errorf("AuthUser = %v, %v", got, err)
	}
	if last.Method != "PUT" || last.Path != "/a/b" || last.RawQuery != "q=1&q=2" || len(last.Query["q"]) != 2 ||
		string(last.Body) != "hello" || last.Header.Get("X-Auth-User") != user {
		t.Errorf("recorded %+v", last)
	}

	u.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusTeapot)
		json.NewEncoder(w).Encode(map[string]string{"body": string(body)})
	}))
	res, err = http.Post(u.URL()+"/x", "text/plain", strings.NewReader("again"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusTeapot || !strings.Contains(string(body), `"again"`) {
		t.Errorf("custom handler: %d %s", res.StatusCode, body)
	}
	if n := len(u.Requests()); n != 2 {
		t.Errorf("Requests() has %d, want 2", n)
	}
	u.Reset()
	if len(u.Requests()) != 0 {
		t.Error("Reset kept requests")
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(start)
	c.Advance(time.Hour)
	if got := c.Now(); !got.Equal(start.Add(time.Hour)) {
		t.Errorf("after Advance: %v", got)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("after Set: %v", got)
	}
}

// notifyArrivals returns a channel that receives the endpoint of every
// request as it reaches the server.
func (b *Backend) notifyArrivals() <-chan string {
	ch := make(chan string, 16)
	b.mu.Lock()
	b.arrive = ch
	b.mu.Unlock()
	return ch
}
