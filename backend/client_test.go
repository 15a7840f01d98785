package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/requestid"
)

// serve starts a backend answering with h and a Client for it.
func serve(t *testing.T, h http.HandlerFunc, mod ...func(*Options)) (*httptest.Server, *Client) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	o := Options{URL: srv.URL + "/api/", Timeout: 2 * time.Second}
	for _, f := range mod {
		f(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return srv, c
}

// reply answers every request with status and body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// hang blocks until the client gives up. The body is read first: the server
// notices a closed connection only once the body has been consumed.
func hang(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

func TestValidate(t *testing.T) {
	huge := `{"success":true,"data":{"id":1,"pad":"` + strings.Repeat("x", MaxResponseBody) + `"}}`
	tests := []struct {
		name     string
		status   int
		body     string
		wantErr  error
		wantType string
		wantExp  int64
	}{
		{"valid user", 200, `{"success":true,"data":{"id":7,"type":"user","exp":1900000000}}`, nil, "user", 1900000000},
		{"valid guest", 200, `{"success":true,"data":{"id":"g","type":"guest"}}`, nil, "guest", 0},
		{"type missing is user", 200, `{"success":true,"data":{"id":7}}`, nil, "user", 0},
		{"success missing is fine", 200, `{"data":{"id":7,"exp":"1900000000"}}`, nil, "user", 1900000000},
		{"201 is 2xx", 201, `{"success":true,"data":{"id":7}}`, nil, "user", 0},
		{"401", 401, `{"success":false}`, ErrInvalid, "", 0},
		{"403", 403, `{}`, ErrInvalid, "", 0},
		{"404 other 4xx", 404, `not json`, ErrInvalid, "", 0},
		{"302 is not 2xx", 302, ``, ErrInvalid, "", 0},
		{"2xx not json", 200, `<html>`, ErrInvalid, "", 0},
		{"2xx trailing garbage", 200, `{"success":true,"data":{}} x`, ErrInvalid, "", 0},
		{"success false", 200, `{"success":false,"data":{"id":7}}`, ErrInvalid, "", 0},
		{"data a string", 200, `{"success":true,"data":"user"}`, ErrInvalid, "", 0},
		{"data an array", 200, `{"success":true,"data":[1]}`, ErrInvalid, "", 0},
		{"data missing", 200, `{"success":true}`, ErrInvalid, "", 0},
		{"body a string", 200, `"ok"`, ErrInvalid, "", 0},
		{"huge body", 200, huge, ErrInvalid, "", 0},
		{"500", 500, `{"success":false}`, ErrUnavailable, "", 0},
		{"503 html", 503, `<html>`, ErrUnavailable, "", 0},
		{"429", 429, `{}`, ErrUnavailable, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := serve(t, reply(tt.status, tt.body))
			id, err := c.Validate(context.Background(), "tok")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if errors.Is(err, ErrInvalid) && errors.Is(err, ErrUnavailable) {
					t.Fatal("an error is both invalid and unavailable")
				}
				return
			}
			if id.Type != tt.wantType {
				t.Errorf("Type = %q, want %q", id.Type, tt.wantType)
			}
			if got := id.Exp; (tt.wantExp == 0) != got.IsZero() || (tt.wantExp != 0 && got.Unix() != tt.wantExp) {
				t.Errorf("Exp = %v, want unix %d", got, tt.wantExp)
			}
			if len(id.UserJSON) == 0 || id.User == nil {
				t.Errorf("no user: %+v", id)
			}
		})
	}
}

func TestRequestShape(t *testing.T) {
	type seen struct{ method, path, auth, ctype, accept, rid, body string }
	var got atomic.Pointer[seen]
	_, c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(&seen{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"),
			r.Header.Get("Accept"), r.Header.Get("X-Request-ID"), string(b)})
		io.WriteString(w, `{"success":true,"data":{"id":1,"accessToken":"new"}}`)
	}, func(o *Options) {
		o.URL = strings.TrimSuffix(o.URL, "/") // a missing "/" is added
		o.GuestCredentials = map[string]any{"username": "guest", "password": "pw"}
		o.Endpoints = config.Endpoints{Validate: "/users/me"}
	})
	ctx := requestid.NewContext(context.Background(), "rid-1")
	tests := []struct {
		name string
		call func() error
		want seen
	}{
		{"validate", func() error { _, err := c.Validate(ctx, "t1"); return err },
			seen{"GET", "/api/users/me", "Bearer t1", "application/json", "application/json", "rid-1", ""}},
		{"refresh", func() error { _, err := c.Refresh(ctx, "r1"); return err },
			seen{"POST", "/api/auth/refresh", "Bearer r1", "application/json", "application/json", "rid-1", ""}},
		{"guest", func() error { _, err := c.Guest(ctx); return err },
			seen{"POST", "/api/auth/guest", "", "application/json", "application/json", "rid-1", `{"password":"pw","username":"guest"}`}},
		{"login", func() error { _, err := c.Login(ctx, []byte(`{"email":"a"}`)); return err },
			seen{"POST", "/api/auth/login", "", "application/json", "application/json", "rid-1", `{"email":"a"}`}},
		{"register", func() error { _, err := c.Register(ctx, []byte(`{"email":"b"}`)); return err },
			seen{"POST", "/api/auth/register", "", "application/json", "application/json", "rid-1", `{"email":"b"}`}},
		{"logout", func() error { return c.Logout(ctx, "t2", "") },
			seen{"POST", "/api/auth/logout", "Bearer t2", "application/json", "application/json", "rid-1", ""}},
		{"logout with a refresh token", func() error { return c.Logout(ctx, "t3", "r3") },
			seen{"POST", "/api/auth/logout", "Bearer t3", "application/json", "application/json", "rid-1", `{"refreshToken":"r3"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			if g := *got.Load(); g != tt.want {
				t.Errorf("request = %+v, want %+v", g, tt.want)
			}
		})
	}
}

func TestUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close()

	tests := []struct {
		name string
		h    http.HandlerFunc
		url  string
	}{
		{"hang past timeout", hang, ""},
		{"connection refused", nil, refused},
		{"500", reply(500, `{}`), ""},
		{"429", reply(429, `{}`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			if h == nil {
				h = reply(200, `{}`)
			}
			_, c := serve(t, h, func(o *Options) {
				o.Timeout = 100 * time.Millisecond
				if tt.url != "" {
					o.URL = tt.url
				}
			})
			ctx := context.Background()
			calls := map[string]error{}
			_, calls["validate"] = c.Validate(ctx, "t")
			_, calls["guest"] = c.Guest(ctx)
			calls["logout"] = c.Logout(ctx, "t", "")
			_, rerr := c.Refresh(ctx, "t")
			calls["refresh"] = rerr
			for op, err := range calls {
				if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalid) {
					t.Errorf("%s: err = %v, want ErrUnavailable", op, err)
				}
			}
			var re *RefreshError
			if !errors.As(rerr, &re) || re.Reason != ReasonNetwork {
				t.Errorf("refresh: err = %v, want reason network", rerr)
			}
			if c.Available() {
				t.Error("Available() = true after unavailable calls")
			}
		})
	}
}

func TestLoginUnavailable(t *testing.T) {
	_, c := serve(t, hang, func(o *Options) { o.Timeout = 50 * time.Millisecond })
	if _, err := c.Login(context.Background(), []byte(`{}`)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestAvailableRecovers(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	_, c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(502)
			return
		}
		w.WriteHeader(401)
	})
	if !c.Available() {
		t.Fatal("a new client is not available")
	}
	c.Validate(context.Background(), "t")
	if c.Available() {
		t.Fatal("available after a 502")
	}
	fail.Store(false)
	if _, err := c.Validate(context.Background(), "t"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if !c.Available() {
		t.Fatal("not available after an answer")
	}
}

func TestCallerCancellation(t *testing.T) {
	entered := make(chan struct{})
	_, c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-entered; cancel() }()
	_, err := c.Validate(ctx, "t")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want only context.Canceled", err)
	}
	if !c.Available() {
		t.Error("a caller's cancellation made the backend unavailable")
	}
}

func TestRefresh(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		mod         func(*Options)
		wantReason  Reason
		wantAccess  string
		wantRefresh string
	}{
		{"ok", 200, `{"success":true,"data":{"accessToken":"a2"}}`, nil, "", "a2", ""},
		{"ok rotated", 200, `{"success":true,"data":{"accessToken":"a2","refreshToken":"r2"}}`, nil, "", "a2", "r2"},
		{"success false", 200, `{"success":false,"data":{"accessToken":"a2"}}`, nil, ReasonUnknown, "", ""},
		{"2xx without token", 200, `{"success":true,"data":{}}`, nil, ReasonUnknown, "", ""},
		{"2xx token not a string", 200, `{"success":true,"data":{"accessToken":5}}`, nil, ReasonUnknown, "", ""},
		{"2xx not json", 200, `nope`, nil, ReasonUnknown, "", ""},
		{"409 reuse", 409, `{}`, nil, ReasonReuse, "", ""},
		{"code token_reuse", 400, `{"code":"token_reuse"}`, nil, ReasonReuse, "", ""},
		{"error token_reuse", 401, `{"error":"token_reuse"}`, nil, ReasonReuse, "", ""},
		{"reason token_reuse", 403, `{"reason":"token_reuse"}`, nil, ReasonReuse, "", ""},
		{"first string code wins", 401, `{"code":"expired","error":"token_reuse"}`, nil, ReasonExpired, "", ""},
		{"custom reuse status", 419, `{}`, func(o *Options) { o.ReuseStatusCodes = []int{419} }, ReasonReuse, "", ""},
		{"custom error pointer", 400, `{"err":{"kind":"stolen"}}`, func(o *Options) {
			o.Mapping.ErrorCode = "/err/kind"
			o.ReuseCodes = []string{"stolen"}
		}, ReasonReuse, "", ""},
		{"409 not reuse when list empty", 409, `{}`, func(o *Options) { o.ReuseStatusCodes = []int{} }, ReasonUnknown, "", ""},
		{"401 expired", 401, `{"message":"expired"}`, nil, ReasonExpired, "", ""},
		{"403 revoked", 403, ``, nil, ReasonRevoked, "", ""},
		{"500 network", 500, `{}`, nil, ReasonNetwork, "", ""},
		{"429 network", 429, `{}`, nil, ReasonNetwork, "", ""},
		{"418 unknown", 418, `{}`, nil, ReasonUnknown, "", ""},
		{"custom mapping", 200, `{"ok":true,"jwt":"a3","rt":"r3"}`, func(o *Options) {
			o.Mapping = config.Mapping{Success: "/ok", AccessToken: "/jwt", RefreshToken: "/rt"}
		}, "", "a3", "r3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*Options)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			_, c := serve(t, reply(tt.status, tt.body), mods...)
			tok, err := c.Refresh(context.Background(), "old")
			if tt.wantReason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tok.Access != tt.wantAccess || tok.Refresh != tt.wantRefresh {
					t.Fatalf("tokens = %q/%q, want %q/%q", tok.Access, tok.Refresh, tt.wantAccess, tt.wantRefresh)
				}
				return
			}
			var re *RefreshError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RefreshError", err)
			}
			if re.Reason != tt.wantReason || re.Status != tt.status {
				t.Fatalf("reason/status = %s/%d, want %s/%d", re.Reason, re.Status, tt.wantReason, tt.status)
			}
			if got := errors.Is(err, ErrUnavailable); got != (tt.wantReason == ReasonNetwork) {
				t.Errorf("errors.Is(err, ErrUnavailable) = %v", got)
			}
		})
	}
}

func TestGuest(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       string
		wantUnav   bool
	}{
		{"ok", `{"success":true,"data":{"accessToken":"g1"}}`, 200, "g1", false},
		{"no token", `{"success":true,"data":{}}`, 200, "", false},
		{"success false", `{"success":false,"data":{"accessToken":"g1"}}`, 200, "", false},
		{"not json", `x`, 200, "", false},
		{"refused", `{}`, 401, "", false},
		{"500", `{}`, 500, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := serve(t, reply(tt.status, tt.body))
			g, err := c.Guest(context.Background())
			if g != tt.want || (tt.want == "") != (err != nil) {
				t.Fatalf("Guest() = %q, %v; want %q", g, err, tt.want)
			}
			if errors.Is(err, ErrUnavailable) != tt.wantUnav {
				t.Errorf("errors.Is(err, ErrUnavailable) = %v", !tt.wantUnav)
			}
		})
	}
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantErr    error
		wantTokens Tokens
		wantUser   bool
	}{
		{"ok", 200, `{"success":true,"data":{"id":1,"email":"a@b","accessToken":"A","refreshToken":"R","token":"T","profile":{"access_token":"X"}},"meta":[{"refresh_token":"Y"}]}`,
			nil, Tokens{Access: "A", Refresh: "R"}, true},
		{"validation error passes through", 422, `{"success":false,"message":"bad","errors":{"email":["required"]}}`, nil, Tokens{}, false},
		{"success false", 200, `{"success":false,"data":{"id":1,"accessToken":"A"}}`, nil, Tokens{}, false},
		{"429 throttle passes through", 429, `{"success":false,"message":"slow down"}`, nil, Tokens{}, false},
		{"not json", 200, `<html>`, ErrBadResponse, Tokens{}, false},
		{"not an object", 200, `[1,2]`, ErrBadResponse, Tokens{}, false},
		{"500 not json", 500, `oops`, ErrBadResponse, Tokens{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := serve(t, reply(tt.status, tt.body))
			r, err := c.Login(context.Background(), []byte(`{"email":"a@b","password":"pw"}`))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if r.Status != tt.status || r.Tokens != tt.wantTokens || (r.Identity != nil) != tt.wantUser {
				t.Fatalf("got status %d tokens %+v identity %v", r.Status, r.Tokens, r.Identity != nil)
			}
			b, _ := json.Marshal(r.Body)
			for _, secret := range []string{`"A"`, `"R"`, `"T"`, `"X"`, `"Y"`, "oken"} {
				if bytes.Contains(b, []byte(secret)) {
					t.Errorf("body %s contains %s", b, secret)
				}
			}
			if r.Identity != nil {
				if bytes.Contains(r.Identity.UserJSON, []byte("oken")) {
					t.Errorf("user %s contains a token", r.Identity.UserJSON)
				}
				if r.Identity.User["email"] != "a@b" {
					t.Errorf("user = %v", r.Identity.User)
				}
			}
		})
	}
}

func TestLogout(t *testing.T) {
	for _, tt := range []struct {
		name    string
		status  int
		wantErr bool
	}{{"ok", 204, false}, {"refused", 401, true}} {
		t.Run(tt.name, func(t *testing.T) {
			_, c := serve(t, reply(tt.status, ``))
			if err := c.Logout(context.Background(), "t", ""); (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestUserNeverContainsTokens(t *testing.T) {
	tests := []struct {
		name    string
		mapping config.Mapping
		body    string
		want    string
	}{
		{"default names and pointers", config.Mapping{},
			`{"success":true,"data":{"id":1,"accessToken":"s1","refreshToken":"s2","token":"s3","access_token":"s4","refresh_token":"s5"}}`,
			`{"id":1}`},
		{"pointer inside the user", config.Mapping{User: "/data/user", AccessToken: "/data/user/session/jwt", RefreshToken: "/data/user/a~1b"},
			`{"data":{"user":{"id":2,"session":{"jwt":"s1","kind":"web"},"a/b":"s2"}}}`,
			`{"id":2,"session":{"kind":"web"}}`},
		{"nested token names", config.Mapping{User: "/u", Success: "/ok", AccessToken: "/u/auth/jwt", TokenType: "/u/kind"},
			`{"ok":true,"u":{"id":3,"kind":"admin","auth":{"jwt":"s1","scope":"x","token":"s2"},"list":[{"refresh_token":"s3"}]}}`,
			`{"auth":{"scope":"x"},"id":3,"kind":"admin","list":[{}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := serve(t, reply(200, tt.body), func(o *Options) { o.Mapping = tt.mapping })
			id, err := c.Validate(context.Background(), "t")
			if err != nil {
				t.Fatal(err)
			}
			if string(id.UserJSON) != tt.want {
				t.Errorf("UserJSON = %s, want %s", id.UserJSON, tt.want)
			}
			b, _ := json.Marshal(id.User)
			if string(b) != tt.want {
				t.Errorf("User = %s, want %s", b, tt.want)
			}
		})
	}
}

func TestUserJSONReduced(t *testing.T) {
	var logs bytes.Buffer
	big := strings.Repeat("p", MaxUserJSON)
	body := `{"success":true,"data":{"id":9,"email":"e@x","name":"N","roles":["admin"],"type":"user","bio":"` + big + `","accessToken":"SECRET"}}`
	_, c := serve(t, reply(200, body), func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	id, err := c.Validate(context.Background(), "SECRET-TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":9,"email":"e@x","name":"N","type":"user","roles":["admin"]}`
	var got, w map[string]any
	json.Unmarshal(id.UserJSON, &got)
	json.Unmarshal([]byte(want), &w)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("UserJSON = %s, want %s", id.UserJSON, want)
	}
	if id.User["bio"] != big {
		t.Error("the User map itself lost data")
	}
	if !id.Truncated {
		t.Error("Truncated = false for a reduced user")
	}
	if !strings.Contains(logs.String(), "reduced") {
		t.Errorf("no warning logged: %q", logs.String())
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Error("a token was logged")
	}
}

func TestUserJSONUnderLimitKept(t *testing.T) {
	pad := strings.Repeat("p", MaxUserJSON-100)
	_, c := serve(t, reply(200, `{"success":true,"data":{"bio":"`+pad+`"}}`))
	id, err := c.Validate(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(id.UserJSON, []byte(pad)) || len(id.UserJSON) >= MaxUserJSON {
		t.Errorf("UserJSON of %d bytes was changed", len(id.UserJSON))
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"ok", Options{URL: "http://127.0.0.1:1/api/"}, true},
		{"empty url", Options{}, false},
		{"relative url", Options{URL: "/api/"}, false},
		{"ftp url", Options{URL: "ftp://x/"}, false},
		{"bad pointer", Options{URL: "http://x/", Mapping: config.Mapping{User: "data"}}, false},
		{"bad escape", Options{URL: "http://x/", Mapping: config.Mapping{User: "/a~2"}}, false},
		{"unencodable credentials", Options{URL: "http://x/", GuestCredentials: map[string]any{"f": func() {}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "backend: ") {
				t.Errorf("error %q is not package-prefixed", err)
			}
		})
	}
}

func TestTokensRedacted(t *testing.T) {
	var logs bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&logs, nil))
	tok := Tokens{Access: "AAA", Refresh: "RRR"}
	l.Info("x", "tokens", tok)
	s := logs.String() + tok.String()
	if strings.Contains(s, "AAA") || strings.Contains(s, "RRR") {
		t.Fatalf("tokens leaked: %s", s)
	}
}

// Probe: any HTTP answer means reachable, no answer does not; it goes
// around the breaker. Answered says when validate last got an answer.
func TestProbeAndAnswered(t *testing.T) {
	var status, probes atomic.Int64
	status.Store(http.StatusServiceUnavailable)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			probes.Add(1)
		}
		w.WriteHeader(int(status.Load()))
	}))
	c, err := New(Options{URL: srv.URL + "/api/", Breaker: BreakerOptions{Failures: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if !c.Answered().IsZero() {
		t.Fatal("Answered is set before any call")
	}
	if err := c.Probe(ctx); err != nil || probes.Load() != 1 {
		t.Fatalf("Probe of a backend answering 503 = %v (%d probes), want nil", err, probes.Load())
	}
	c.Validate(ctx, "tok") // 503: unavailable, opens the breaker
	if !c.Answered().IsZero() {
		t.Error("a 503 counts as answered")
	}
	if err := c.Probe(ctx); err != nil || probes.Load() != 2 {
		t.Errorf("Probe with the breaker open = %v (%d probes), want a real call answered", err, probes.Load())
	}
	status.Store(http.StatusUnauthorized)
	c2, _ := New(Options{URL: srv.URL + "/api/"})
	defer c2.Close()
	before := time.Now()
	c2.Validate(ctx, "tok")
	if c2.Answered().Before(before) {
		t.Errorf("Answered = %v after a 401, want the time of the call", c2.Answered())
	}
	srv.Close()
	if err := c2.Probe(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Probe of a closed backend = %v, want ErrUnavailable", err)
	}
}
