package apilayer_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/testkit"
)

// msgNotAuthorized is the 403 message of an access refusal
// (docs/api-reference.md#error-bodies).
const msgNotAuthorized = "You are not authorized for this action."

// withRules makes /admin/** (pages) and /api/admin/** (the API) need the
// admin role, read at the default rolesField (/roles).
func withRules(c *config.Config) {
	c.Access.Rules = []config.Rule{
		{Path: "/admin/**", Roles: []string{"admin"}},
		{Path: "/api/admin/**", Roles: []string{"admin"}},
	}
}

// demoUserID returns the id the demo backend gave username.
func demoUserID(t *testing.T, e *env, username string) string {
	t.Helper()
	for _, u := range e.backend.Demo().Users() {
		if u.Username == username {
			return strconv.FormatInt(u.ID, 10)
		}
	}
	t.Fatalf("no demo user %s", username)
	return ""
}

// Users holding the role pass; alice (roles [user]) gets the 403 page on a
// page and the 403 JSON on an API path or from fetch, and the denial
// changes none of her cookies.
func TestRulesThroughTheGateway(t *testing.T) {
	e := newEnv(t, withRules)
	admin, alice := e.login("admin"), e.login("alice")
	type want int
	const (
		forward want = iota
		page403
		json403
	)
	cases := []struct {
		name   string
		path   string
		token  string
		header map[string]string
		want   want
	}{
		{name: "admin on a ruled page", path: "/admin/panel", token: admin, want: forward},
		{name: "admin on the rule's root", path: "/admin", token: admin, want: forward},
		{name: "admin on a ruled API path", path: "/api/admin/stats", token: admin, want: forward},
		{name: "alice on a ruled page", path: "/admin/panel", token: alice, want: page403},
		{name: "alice on the rule's root", path: "/admin/", token: alice, want: page403},
		{name: "alice deep under the rule", path: "/admin/users/1/edit", token: alice, want: page403},
		{name: "alice on a ruled API path", path: "/api/admin/stats", token: alice, want: json403},
		{name: "alice fetching a ruled page", path: "/admin/panel", token: alice, header: map[string]string{"Sec-Fetch-Mode": "cors"}, want: json403},
		{name: "alice asking a ruled page for JSON", path: "/admin/panel", token: alice, header: map[string]string{"Accept": "application/json"}, want: json403},
		{name: "alice outside the rule", path: "/administrator", token: alice, want: forward},
		{name: "alice on an unruled API path", path: "/api/posts", token: alice, want: forward},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.upstream.Reset()
			e.backend.ResetCalls()
			res := e.do(req{path: c.path, cookies: map[string]string{"userAuthToken": c.token}, header: c.header})
			switch c.want {
			case forward:
				wantStatus(t, res, http.StatusOK)
			case page403:
				wantPage(t, res, http.StatusForbidden)
				if b := bodyString(t, res); !strings.Contains(b, msgNotAuthorized) {
					t.Errorf("403 page %q does not say %q", b, msgNotAuthorized)
				}
				e.wantNoUpstream()
			case json403:
				wantJSON(t, res, http.StatusForbidden, msgNotAuthorized)
				e.wantNoUpstream()
				if n := len(e.backendRequests(c.path)); n != 0 {
					t.Errorf("the backend received %d requests on %s, want none", n, c.path)
				}
			}
			wantNoSetCookie(t, res)
		})
	}
}

// A denial on a request whose token was refreshed keeps the refreshed
// token: the session is fine, only the path is out of reach.
func TestRulesDenialKeepsARefreshedSession(t *testing.T) {
	e := newEnv(t, withRules)
	res := e.do(req{path: "/admin/panel", cookies: map[string]string{"userAuthToken": e.expired("alice")}})
	wantPage(t, res, http.StatusForbidden)
	wantSetCookieNames(t, res, "userAuthToken")
	if c := setCookies(res)["userAuthToken"]; deleted(c) {
		t.Fatalf("the denial deleted the session: %q", c.Raw)
	}
	wantSet(t, res, "userAuthToken", userMaxAge)
	e.wantCalls(map[string]int64{"auth/refresh": 1})
}

// A guest or anonymous visitor on a rule's path is treated as on a
// protected route: login redirect for a page, 401 for the API and fetch.
func TestRulesGuestAndAnonymous(t *testing.T) {
	guestsOn := newEnv(t, both(withRules, withReturnParam))
	guestsOff := newEnv(t, both(withRules, noGuest))
	guest := guestsOn.guestToken()
	cases := []struct {
		name    string
		e       *env
		path    string
		cookies map[string]string
		header  map[string]string
		loc     string // redirect; else a JSON 401 with msg
		msg     string
	}{
		{name: "guest cookie on a page", e: guestsOn, path: "/admin/panel", cookies: map[string]string{"guestAuthToken": guest}, loc: "/login?next=%2Fadmin%2Fpanel"},
		{name: "guest minted on a page", e: guestsOn, path: "/admin/panel", loc: "/login?next=%2Fadmin%2Fpanel"},
		{name: "guest fetching a page", e: guestsOn, path: "/admin/panel", cookies: map[string]string{"guestAuthToken": guest}, header: map[string]string{"Sec-Fetch-Mode": "cors"}, msg: "Not authenticated."},
		{name: "guest on the API", e: guestsOn, path: "/api/admin/stats", cookies: map[string]string{"guestAuthToken": guest}, msg: "Not authenticated."},
		{name: "anonymous on a page", e: guestsOff, path: "/admin/panel", loc: "/login"},
		{name: "anonymous on the API", e: guestsOff, path: "/api/admin/stats", msg: "Token not found."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.e.upstream.Reset()
			res := c.e.do(req{path: c.path, cookies: c.cookies, header: c.header})
			if c.loc != "" {
				wantRedirect(t, res, c.loc)
			} else {
				wantJSON(t, res, http.StatusUnauthorized, c.msg)
			}
			c.e.wantNoUpstream()
			if n := len(c.e.backendRequests(c.path)); n != 0 {
				t.Errorf("the backend received %d requests on %s, want none", n, c.path)
			}
		})
	}
}

// Every matching rule must pass, and a rule is matched on the cleaned
// path: dot segments, doubled slashes and escapes do not get around it.
func TestRulesEveryMatchingRuleOnTheCleanedPath(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		withRules(c)
		c.Access.Rules = append(c.Access.Rules, config.Rule{Path: "/admin/billing/**", Roles: []string{"billing"}})
	})
	admin := e.login("admin")
	res := e.do(req{path: "/admin/billing/invoices", cookies: map[string]string{"userAuthToken": admin}})
	wantPage(t, res, http.StatusForbidden)
	e.wantNoUpstream()

	alice := e.login("alice")
	for _, target := range []string{"/x/../admin/panel", "/admin//panel", "/./admin/panel", "/%61dmin/panel", "/admin/panel/"} {
		t.Run(target, func(t *testing.T) {
			res := e.raw(target, "Cookie: userAuthToken="+alice)
			wantPage(t, res, http.StatusForbidden)
			e.wantNoUpstream()
		})
	}
}

// Rules are matched after the locale prefix is stripped: /tr/admin is
// ruled like /admin, the refusal carries X-Locale, the login redirect keeps
// the locale.
func TestRulesAfterLocaleStripping(t *testing.T) {
	e := newEnv(t, both(withRules, withI18n("as-needed")))
	admin, alice := e.login("admin"), e.login("alice")

	res := e.do(req{path: "/tr/admin/panel", cookies: map[string]string{"userAuthToken": alice}})
	wantPage(t, res, http.StatusForbidden)
	if got := res.Header.Get("X-Locale"); got != "tr" {
		t.Errorf("X-Locale on the 403 = %q, want tr", got)
	}
	e.wantNoUpstream()

	res = e.do(req{path: "/pt-BR/admin", cookies: map[string]string{"userAuthToken": alice}})
	wantPage(t, res, http.StatusForbidden)

	res = e.do(req{path: "/tr/admin/panel", cookies: map[string]string{"userAuthToken": admin}})
	wantForwarded(t, res, "/tr/admin/panel")
	wantLocale(t, e, res, "tr")

	res = e.do(req{path: "/tr/admin/panel"})
	wantRedirect(t, res, "/tr/login")
}

// rolesField points anywhere in the user object; the default /roles also
// accepts a single "role" string, and an explicit pointer may name a
// string.
func TestRulesRolesField(t *testing.T) {
	users := map[string]map[string]any{
		"tok-staff":      {"id": 7, "name": "Sam", "perms": map[string]any{"groups": []string{"staff", "ops"}}},
		"tok-role-admin": {"id": 8, "name": "Ada", "role": "admin"},
		"tok-role-user":  {"id": 9, "name": "Una", "role": "user"},
		"tok-both":       {"id": 10, "name": "Bo", "roles": []string{"user"}, "role": "admin"},
	}
	e := newRolesEnv(t, users, []config.Rule{
		{Path: "/staff/**", Roles: []string{"staff"}, RolesField: "/perms/groups"},
		{Path: "/admin/**", Roles: []string{"admin"}},
		{Path: "/ops/**", Roles: []string{"admin"}, RolesField: "/role"},
	})
	cases := []struct {
		token, path string
		allowed     bool
	}{
		{"tok-staff", "/staff/x", true},
		{"tok-role-admin", "/staff/x", false},
		{"tok-staff", "/admin/x", false},
		{"tok-role-admin", "/admin/x", true},
		{"tok-role-user", "/admin/x", false},
		// A roles list is there: it decides, the single role is not read.
		{"tok-both", "/admin/x", false},
		{"tok-role-admin", "/ops/x", true},
		{"tok-role-user", "/ops/x", false},
		{"tok-staff", "/ops/x", false},
	}
	for _, c := range cases {
		t.Run(c.token+" "+c.path, func(t *testing.T) {
			e.upstream.Reset()
			res := e.do(req{path: c.path, cookies: map[string]string{"userAuthToken": c.token}})
			if c.allowed {
				wantForwarded(t, res, c.path)
				return
			}
			wantPage(t, res, http.StatusForbidden)
			e.wantNoUpstream()
			wantNoSetCookie(t, res)
		})
	}
}

// newRolesEnv starts a gateway in front of a minimal JWT backend whose
// auth/me answers users[token] (opaque tokens), and a recording web app.
func newRolesEnv(t *testing.T, users map[string]map[string]any, rules []config.Rule) *env {
	t.Helper()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		u, ok := users[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if r.URL.Path != "/api/auth/me" || !ok {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"success":false,"message":"Unauthenticated."}`))
			return
		}
		data := map[string]any{"type": "user"}
		for k, v := range u {
			data[k] = v
		}
		json.NewEncoder(w).Encode(map[string]any{"success": true, "data": data})
	}))
	t.Cleanup(be.Close)
	e := &env{t: t, upstream: testkit.NewUpstream(t)}
	gw, err := apilayer.New(config.Config{
		Backend:  config.Backend{URL: be.URL + "/api/"},
		Upstream: config.Upstream{URL: e.upstream.URL()},
		Access:   config.Access{Rules: rules},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.gw = gw
	e.srv = httptest.NewServer(gw.Handler())
	e.client = e.srv.Client()
	e.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	t.Cleanup(func() { e.srv.Close(); gw.Close() })
	return e
}

// A denial is an access:denied audit event naming the user; a pass is not.
func TestRulesAuditAccessDenied(t *testing.T) {
	s := newSecEnv(t, func(c *config.Config) {
		withRules(c)
		c.Audit = config.Audit{Enabled: true}
	})
	admin, alice := s.login("admin"), s.login("alice")
	aliceID := demoUserID(t, s.env, "alice")

	wantStatus(t, s.do(req{path: "/admin/panel", cookies: map[string]string{"userAuthToken": admin}}), http.StatusOK)
	wantPage(t, s.do(req{path: "/admin/panel", cookies: map[string]string{"userAuthToken": alice}}), http.StatusForbidden)
	wantJSON(t, s.do(req{path: "/api/admin/stats", cookies: map[string]string{"userAuthToken": alice}}), http.StatusForbidden, msgNotAuthorized)

	denied := ofType(s.events(), "access:denied")
	if len(denied) != 2 {
		t.Fatalf("access:denied events = %+v, want 2 (alice's page and API denials, none for admin)", denied)
	}
	for i, path := range []string{"/admin/panel", "/api/admin/stats"} {
		ev := denied[i]
		if ev.UserID != aliceID || ev.Path != path || ev.Method != http.MethodGet || ev.Success || ev.IP != "127.0.0.1" {
			t.Errorf("event %d = %+v, want alice (%s) denied GET %s from 127.0.0.1", i, ev.Event, aliceID, path)
		}
		if ev.Metadata["tokenType"] != "user" {
			t.Errorf("event %d metadata = %v, want tokenType user", i, ev.Metadata)
		}
		for _, k := range []string{"token", "userAuthToken", "authorization"} {
			if _, ok := ev.raw[k]; ok {
				t.Errorf("event %d carries %q", i, k)
			}
		}
		if raw, _ := json.Marshal(ev.raw); strings.Contains(string(raw), alice) {
			t.Errorf("event %d contains alice's token", i)
		}
	}
}
