package demo_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixture is a demo backend on a real loopback server with an injected clock.
type fixture struct {
	t     *testing.T
	clock *testkit.Clock
	kit   *testkit.Backend
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := testkit.NewClock(epoch)
	kit := testkit.NewBackend(t, demo.BackendOptions{Now: clock.Now})
	return &fixture{t: t, clock: clock, kit: kit}
}

// reply is a decoded backend answer.
type reply struct {
	Status      int
	ContentType string
	Allow       string
	Body        map[string]any
}

func (r reply) data() map[string]any {
	d, _ := r.Body["data"].(map[string]any)
	return d
}

func (r reply) str(key string) string {
	s, _ := r.data()[key].(string)
	return s
}

// call makes a request to endpoint with an optional bearer token and body
// (a string is sent as is, anything else as JSON).
func (f *fixture) call(method, endpoint, token string, body any) reply {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, f.kit.URL()+endpoint, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := f.kit.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, endpoint, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	out := reply{Status: res.StatusCode, ContentType: res.Header.Get("Content-Type"), Allow: res.Header.Get("Allow")}
	if err := json.Unmarshal(raw, &out.Body); err != nil {
		f.t.Fatalf("%s %s: answer is not a JSON object: %v: %q", method, endpoint, err, raw)
	}
	if out.ContentType != "application/json" {
		f.t.Errorf("%s %s: Content-Type = %q, want application/json", method, endpoint, out.ContentType)
	}
	return out
}

// login signs in and returns the access and refresh tokens.
func (f *fixture) login(user, password string) (access, refresh string) {
	f.t.Helper()
	r := f.call("POST", "auth/login", "", map[string]string{"username": user, "password": password})
	if r.Status != http.StatusOK {
		f.t.Fatalf("login %s: status %d %v", user, r.Status, r.Body)
	}
	return r.str("accessToken"), r.str("refreshToken")
}

// expect checks status, success and, when set, message and code.
func expect(t *testing.T, r reply, status int, message, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d (body %v)", r.Status, status, r.Body)
	}
	if got, want := r.Body["success"], status < 300; got != want {
		t.Errorf("success = %v, want %v (body %v)", got, want, r.Body)
	}
	if message != "" && r.Body["message"] != message {
		t.Errorf("message = %v, want %q", r.Body["message"], message)
	}
	if code != "" && r.Body["code"] != code {
		t.Errorf("code = %v, want %q", r.Body["code"], code)
	}
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		body    any
		status  int
		message string
		errors  map[string]string // field => first error
		user    string            // on success: the expected name
	}{
		{name: "username", body: map[string]string{"username": "alice", "password": "alice-password"}, status: 200, user: "Alice"},
		{name: "email, any case", body: map[string]string{"email": "Admin@Example.com", "password": "admin-password"}, status: 200, user: "Admin"},
		{name: "wrong password", body: map[string]string{"username": "alice", "password": "nope"}, status: 401, message: "Invalid credentials."},
		{name: "unknown user", body: map[string]string{"username": "mallory", "password": "alice-password"}, status: 401, message: "Invalid credentials."},
		{name: "missing password", body: map[string]string{"username": "alice"}, status: 422, message: "The given data was invalid.",
			errors: map[string]string{"password": "The password field is required."}},
		{name: "empty body", body: "", status: 422, message: "The given data was invalid.",
			errors: map[string]string{"username": "The username field is required.", "password": "The password field is required."}},
		{name: "not JSON", body: "username=alice", status: 400, message: "Invalid JSON body."},
		{name: "too large", body: `{"username":"` + strings.Repeat("a", 1<<20) + `"}`, status: 413, message: "Request body too large."},
		{name: "wrong method", method: "GET", status: 405, message: "Method not allowed."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			method := tt.method
			if method == "" {
				method = "POST"
			}
			r := f.call(method, "auth/login", "", tt.body)
			expect(t, r, tt.status, tt.message, "")
			if tt.status == 405 && r.Allow != "POST" {
				t.Errorf("Allow = %q, want POST", r.Allow)
			}
			for field, msg := range tt.errors {
				errs, _ := r.Body["errors"].(map[string]any)
				list, _ := errs[field].([]any)
				if len(list) == 0 || list[0] != msg {
					t.Errorf("errors.%s = %v, want [%q]", field, errs[field], msg)
				}
			}
			if tt.user == "" {
				return
			}
			d := r.data()
			if d["name"] != tt.user || d["type"] != "user" || d["exp"] != float64(epoch.Add(demo.DefaultAccessTTL).Unix()) {
				t.Errorf("user data = %v", d)
			}
			if r.str("accessToken") == "" || !strings.HasPrefix(r.str("refreshToken"), "rt_") {
				t.Errorf("tokens missing in %v", d)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	f := newFixture(t)
	r := f.call("POST", "auth/register", "", map[string]string{"name": "Bob", "email": "bob@example.com", "password": "bob-password"})
	expect(t, r, 200, "", "")
	if r.str("name") != "Bob" || r.str("email") != "bob@example.com" || r.data()["id"] != float64(3) {
		t.Errorf("register data = %v", r.data())
	}
	me := f.call("GET", "auth/me", r.str("accessToken"), nil)
	expect(t, me, 200, "", "")
	if me.str("email") != "bob@example.com" {
		t.Errorf("me = %v", me.data())
	}
	f.login("bob@example.com", "bob-password")
	if users := f.kit.Demo().Users(); len(users) != 3 || users[2].Name != "Bob" || !slices.Equal(users[2].Roles, []string{"user"}) {
		t.Errorf("Users() = %+v", users)
	}

	invalid := []struct {
		name  string
		body  map[string]string
		field string
		msg   string
	}{
		{"duplicate email", map[string]string{"name": "B", "email": "ALICE@example.com", "password": "long-enough"}, "email", "The email has already been taken."},
		{"bad email", map[string]string{"name": "B", "email": "not-an-email", "password": "long-enough"}, "email", "The email field must be a valid email address."},
		{"short password", map[string]string{"name": "B", "email": "b2@example.com", "password": "short"}, "password", "The password field must be at least 8 characters."},
		{"missing name", map[string]string{"email": "b3@example.com", "password": "long-enough"}, "name", "The name field is required."},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call("POST", "auth/register", "", tt.body)
			expect(t, r, 422, "The given data was invalid.", "")
			errs, _ := r.Body["errors"].(map[string]any)
			if list, _ := errs[tt.field].([]any); len(list) != 1 || list[0] != tt.msg {
				t.Errorf("errors = %v, want %s: [%q]", errs, tt.field, tt.msg)
			}
		})
	}
}

func TestMe(t *testing.T) {
	f := newFixture(t)
	access, refresh := f.login("admin", "admin-password")
	expired, err := f.kit.Demo().Issue("alice", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	revoked, _ := f.kit.Demo().Issue("alice", time.Hour)
	f.kit.Demo().Revoke(revoked)
	foreign, _ := demo.NewBackend(demo.BackendOptions{}).Issue("alice", time.Hour)
	tampered := access[:len(access)-3] + "AAA"

	tests := []struct {
		name, token string
		status      int
		typ         string
	}{
		{"valid user", access, 200, "user"},
		{"valid guest", f.kit.Demo().IssueGuest(time.Hour), 200, "guest"},
		{"expired", expired, 401, ""},
		{"revoked", revoked, 401, ""},
		{"other key", foreign, 401, ""},
		{"tampered", tampered, 401, ""},
		{"refresh token", refresh, 401, ""},
		{"garbage", "not-a-token", 401, ""},
		{"no token", "", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call("GET", "auth/me", tt.token, nil)
			if tt.status != 200 {
				expect(t, r, tt.status, "Unauthenticated.", "")
				return
			}
			expect(t, r, 200, "", "")
			if r.str("type") != tt.typ || r.data()["exp"] == nil || r.data()["id"] == nil || r.data()["roles"] == nil {
				t.Errorf("data = %v, want type %s with id, exp and roles", r.data(), tt.typ)
			}
			if _, leaked := r.data()["accessToken"]; leaked {
				t.Errorf("auth/me leaks a token: %v", r.data())
			}
		})
	}

	t.Run("admin fields", func(t *testing.T) {
		d := f.call("GET", "auth/me", access, nil).data()
		if d["id"] != float64(2) || d["name"] != "Admin" || d["email"] != "admin@example.com" ||
			fmt.Sprint(d["roles"]) != "[admin user]" || d["exp"] != float64(epoch.Add(15*time.Minute).Unix()) {
			t.Errorf("data = %v", d)
		}
	})
	t.Run("expires with the clock", func(t *testing.T) {
		f.clock.Advance(15 * time.Minute)
		expect(t, f.call("GET", "auth/me", access, nil), 401, "Unauthenticated.", "")
	})
}

func TestRefreshDualToken(t *testing.T) {
	f := newFixture(t)
	access, refresh := f.login("alice", "alice-password")

	r := f.call("POST", "auth/refresh", refresh, nil)
	expect(t, r, 200, "", "")
	access2, refresh2 := r.str("accessToken"), r.str("refreshToken")
	if access2 == "" || access2 == access || refresh2 == "" || refresh2 == refresh {
		t.Fatalf("refresh did not rotate: %v", r.data())
	}
	expect(t, f.call("GET", "auth/me", access2, nil), 200, "", "")

	// A second use of the same refresh token is reuse: 409, and the whole
	// family (the first access token included) is revoked.
	expect(t, f.call("POST", "auth/refresh", refresh, nil), 409, "Refresh token reuse detected.", "token_reuse")
	for name, tok := range map[string]string{"first access": access, "second access": access2} {
		if r := f.call("GET", "auth/me", tok, nil); r.Status != 401 {
			t.Errorf("%s after reuse: status %d, want 401", name, r.Status)
		}
	}
	expect(t, f.call("POST", "auth/refresh", refresh2, nil), 403, "", "revoked")

	// Other sessions are unaffected.
	other, _ := f.login("alice", "alice-password")
	expect(t, f.call("GET", "auth/me", other, nil), 200, "", "")
}

func TestRefreshSingleToken(t *testing.T) {
	f := newFixture(t)
	access, _ := f.login("alice", "alice-password")
	f.clock.Advance(20 * time.Minute) // past AccessTTL
	expect(t, f.call("GET", "auth/me", access, nil), 401, "Unauthenticated.", "")

	r := f.call("POST", "auth/refresh", access, nil)
	expect(t, r, 200, "", "")
	access2 := r.str("accessToken")
	me := f.call("GET", "auth/me", access2, nil)
	expect(t, me, 200, "", "")
	if me.data()["exp"] != float64(f.clock.Now().Add(15*time.Minute).Unix()) {
		t.Errorf("new exp = %v", me.data()["exp"])
	}

	// A valid access token is rotated away by its refresh.
	r = f.call("POST", "auth/refresh", access2, nil)
	expect(t, r, 200, "", "")
	expect(t, f.call("GET", "auth/me", access2, nil), 401, "Unauthenticated.", "")
	access3 := r.str("accessToken")

	// Reusing the first credential revokes the family.
	expect(t, f.call("POST", "auth/refresh", access, nil), 409, "", "token_reuse")
	expect(t, f.call("GET", "auth/me", access3, nil), 401, "", "")
	expect(t, f.call("POST", "auth/refresh", access3, nil), 403, "", "revoked")
}

func TestRefreshRejects(t *testing.T) {
	f := newFixture(t)
	d := f.kit.Demo()
	old, _ := d.Issue("alice", time.Minute)
	f.clock.Advance(demo.DefaultRefreshTTL) // old is now too old to refresh
	fresh, _ := d.Issue("alice", time.Minute)
	foreign, _ := demo.NewBackend(demo.BackendOptions{}).Issue("alice", time.Minute)
	loggedOut, _ := d.Issue("alice", time.Minute)
	d.Revoke(loggedOut)

	tests := []struct {
		name, token string
		status      int
		code        string
	}{
		{"too old", old, 401, ""},
		{"other key", foreign, 401, ""},
		{"unknown refresh token", "rt_unknown", 401, ""},
		{"guest", d.IssueGuest(time.Minute), 401, ""},
		{"no token", "", 401, ""},
		{"revoked", loggedOut, 403, "revoked"},
		{"fresh", fresh, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, f.call("POST", "auth/refresh", tt.token, nil), tt.status, "", tt.code)
		})
	}
}

func TestRefreshConcurrentUseIsReuse(t *testing.T) {
	f := newFixture(t)
	_, refresh := f.login("alice", "alice-password")
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			statuses <- f.call("POST", "auth/refresh", refresh, nil).Status
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	// Exactly one winner; every other use is reuse (409), or, once the
	// family is revoked by an earlier reuse, revoked (403).
	if counts[200] != 1 || counts[200]+counts[409]+counts[403] != n || counts[409] == 0 {
		t.Errorf("statuses = %v, want one 200 and the rest 409/403", counts)
	}
}

func TestGuest(t *testing.T) {
	f := newFixture(t)
	r := f.call("POST", "auth/guest", "", demo.GuestCredentials())
	expect(t, r, 200, "", "")
	if r.data()["expiresIn"] != float64(3600) || r.str("accessToken") == "" {
		t.Fatalf("guest data = %v", r.data())
	}
	guest := r.str("accessToken")
	me := f.call("GET", "auth/me", guest, nil)
	expect(t, me, 200, "", "")
	if me.str("type") != "guest" || me.data()["exp"] != float64(epoch.Add(time.Hour).Unix()) {
		t.Errorf("guest me = %v", me.data())
	}
	expect(t, f.call("GET", "posts", guest, nil), 200, "", "")
	expect(t, f.call("GET", "admin/stats", guest, nil), 403, "This action is unauthorized.", "")

	for name, body := range map[string]any{
		"wrong password": map[string]string{"username": "guest", "password": "alice-password"},
		"user password":  map[string]string{"username": "alice", "password": "alice-password"},
		"empty":          "",
	} {
		t.Run(name, func(t *testing.T) {
			expect(t, f.call("POST", "auth/guest", "", body), 401, "Invalid credentials.", "")
		})
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	access, refresh := f.login("alice", "alice-password")
	r := f.call("POST", "auth/logout", access, nil)
	expect(t, r, 200, "", "")
	if len(r.Body) != 1 {
		t.Errorf("logout body = %v, want {\"success\":true}", r.Body)
	}
	expect(t, f.call("GET", "auth/me", access, nil), 401, "Unauthenticated.", "")
	expect(t, f.call("POST", "auth/refresh", refresh, nil), 403, "Token has been revoked.", "revoked")
	expect(t, f.call("POST", "auth/logout", "garbage", nil), 401, "Unauthenticated.", "")

	t.Run("with an expired token", func(t *testing.T) {
		access, refresh := f.login("alice", "alice-password")
		f.clock.Advance(time.Hour)
		expect(t, f.call("POST", "auth/logout", access, nil), 200, "", "")
		expect(t, f.call("POST", "auth/refresh", refresh, nil), 403, "", "revoked")
	})
}

func TestDemoAPI(t *testing.T) {
	f := newFixture(t)
	alice, _ := f.login("alice", "alice-password")
	admin, _ := f.login("admin", "admin-password")

	t.Run("posts", func(t *testing.T) {
		r := f.call("GET", "posts", alice, nil)
		expect(t, r, 200, "", "")
		if list, _ := r.Body["data"].([]any); len(list) != 3 {
			t.Errorf("posts = %v, want 3", r.Body["data"])
		}
		expect(t, f.call("GET", "posts", "", nil), 401, "Unauthenticated.", "")
	})
	t.Run("admin stats", func(t *testing.T) {
		expect(t, f.call("GET", "admin/stats", alice, nil), 403, "This action is unauthorized.", "")
		r := f.call("GET", "admin/stats", admin, nil)
		expect(t, r, 200, "", "")
		if r.data()["users"] != float64(2) {
			t.Errorf("stats = %v", r.data())
		}
		expect(t, f.call("GET", "admin/stats", "", nil), 401, "", "")
	})
	t.Run("echo", func(t *testing.T) {
		for _, method := range []string{"POST", "PUT", "DELETE"} {
			r := f.call(method, "echo?lang=tr", alice, map[string]any{"title": "<b>hi</b>", "n": 1})
			expect(t, r, 200, "", "")
			d := r.data()
			body, _ := d["body"].(map[string]any)
			if d["method"] != method || body["title"] != "<b>hi</b>" || body["n"] != float64(1) || d["type"] != "user" ||
				fmt.Sprint(d["query"]) != "map[lang:[tr]]" {
				t.Errorf("%s echo = %v", method, d)
			}
		}
		expect(t, f.call("POST", "echo", alice, "{not json"), 400, "Invalid JSON body.", "")
		expect(t, f.call("POST", "echo", "", map[string]int{}), 401, "Unauthenticated.", "")
		if r := f.call("POST", "echo", f.kit.Demo().IssueGuest(time.Minute), nil); r.Status != 200 || r.data()["body"] != nil {
			t.Errorf("guest echo without body = %d %v", r.Status, r.Body)
		}
	})
	t.Run("public info", func(t *testing.T) {
		r := f.call("GET", "public/info", "", nil)
		expect(t, r, 200, "", "")
		if r.str("time") != epoch.Format(time.RFC3339) {
			t.Errorf("info = %v", r.data())
		}
	})
	t.Run("unknown path", func(t *testing.T) {
		expect(t, f.call("GET", "nope", alice, nil), 404, "Not found.", "")
	})
}

func TestCalls(t *testing.T) {
	f := newFixture(t)
	d := f.kit.Demo()
	access, _ := f.login("alice", "alice-password")
	f.call("GET", "auth/me", access, nil)
	f.call("GET", "auth/me", "bad", nil)
	f.call("GET", "auth/login", "", nil) // 405 still counts
	if got := d.Calls("auth/me"); got != 2 {
		t.Errorf("Calls(auth/me) = %d, want 2", got)
	}
	if got := d.Calls("auth/login"); got != 2 {
		t.Errorf("Calls(auth/login) = %d, want 2", got)
	}
	if got := d.Calls("auth/refresh"); got != 0 {
		t.Errorf("Calls(auth/refresh) = %d, want 0", got)
	}
	d.ResetCalls()
	if got := d.Calls("auth/me"); got != 0 {
		t.Errorf("after ResetCalls: %d", got)
	}
}

// TestTokenClaims checks that a gateway in local mode can verify the tokens
// with the key and read the claims of the contract.
func TestTokenClaims(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	b := demo.NewBackend(demo.BackendOptions{Key: key, Now: func() time.Time { return epoch }})
	tests := []struct {
		name  string
		token func() string
		sub   string
		typ   string
		roles string
	}{
		{"user", func() string { s, _ := b.Issue("admin", time.Minute); return s }, "2", "user", "[admin user]"},
		{"guest", func() string { return b.IssueGuest(time.Minute) }, "guest-", "guest", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := jwt.ParseString(tt.token(), jwt.WithKey(jwa.HS256(), b.Key()), jwt.WithValidate(false))
			if err != nil {
				t.Fatal(err)
			}
			sub, _ := tok.Subject()
			jti, _ := tok.JwtID()
			iat, _ := tok.IssuedAt()
			exp, _ := tok.Expiration()
			var typ string
			var roles []any
			if err := tok.Get("type", &typ); err != nil {
				t.Fatal(err)
			}
			if err := tok.Get("roles", &roles); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(sub, tt.sub) || typ != tt.typ || fmt.Sprint(roles) != tt.roles || jti == "" ||
				!iat.Equal(epoch) || !exp.Equal(epoch.Add(time.Minute)) {
				t.Errorf("claims sub=%q type=%q roles=%v jti=%q iat=%v exp=%v", sub, typ, roles, jti, iat, exp)
			}
		})
	}
	if _, err := b.Issue("nobody", time.Minute); err == nil {
		t.Error("Issue(nobody) succeeded")
	}
}

// TestDeadTokensArePruned checks that state stays bounded: records of
// tokens that can no longer be used for anything are dropped.
func TestDeadTokensArePruned(t *testing.T) {
	f := newFixture(t)
	d := f.kit.Demo()
	for range 300 {
		if _, err := d.Issue("alice", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(demo.DefaultRefreshTTL + time.Minute)
	admin, _ := f.login("admin", "admin-password")
	for range 300 { // crosses a pruning point
		d.IssueGuest(time.Minute)
	}
	stats := f.call("GET", "admin/stats", admin, nil).data()
	if n := stats["accessTokens"].(float64); n > 301 || n < 1 {
		t.Errorf("accessTokens = %v after the first 300 died, want at most 301", n)
	}
	expect(t, f.call("GET", "auth/me", admin, nil), 200, "", "")
}
