package access

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/respond"
)

func policy(edit func(*config.Access)) *Policy {
	c := config.Access{
		ProtectedRoutes: []string{"/dashboard", "/account"},
		AuthRoutes:      []string{"/login", "/register"},
		LoginPath:       "/login",
		HomePath:        "/",
	}
	if edit != nil {
		edit(&c)
	}
	p, err := New(c, "/_apilayer/health", "/api/auth/me")
	if err != nil {
		panic(err)
	}
	return p
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name string
		edit func(*config.Access)
		req  Request
		want Decision
	}{
		// No token (after a failed or disabled guest mint).
		{name: "anonymous page", req: Request{Path: "/about"}, want: Decision{Action: Forward}},
		{name: "anonymous protected page", req: Request{Path: "/dashboard"}, want: Decision{Action: Redirect, Location: "/login"}},
		{name: "anonymous protected subpage", req: Request{Path: "/dashboard/x"}, want: Decision{Action: Redirect, Location: "/login"}},
		{name: "anonymous protected fetch", req: Request{Path: "/dashboard", Fetch: true},
			want: Decision{Action: Refuse, Status: 401, Message: respond.MsgNotAuthenticated, JSON: true}},
		{name: "anonymous API", req: Request{Path: "/api/posts", API: true},
			want: Decision{Action: Refuse, Status: 401, Message: respond.MsgTokenNotFound, JSON: true}},
		{name: "anonymous public API", req: Request{Path: "/api/news", API: true, SkipAuth: true}, want: Decision{Action: Forward}},
		{name: "prefix lookalike is not protected", req: Request{Path: "/dashboardx"}, want: Decision{Action: Forward}},

		// Guests.
		{name: "guest page", req: Request{Path: "/", State: Guest, TokenType: "guest"}, want: Decision{Action: Forward}},
		{name: "guest auth page", req: Request{Path: "/login", State: Guest, TokenType: "guest"}, want: Decision{Action: Forward}},
		{name: "guest protected page", req: Request{Path: "/account", State: Guest, TokenType: "guest"}, want: Decision{Action: Redirect, Location: "/login"}},
		{name: "guest API", req: Request{Path: "/api/posts", API: true, State: Guest, TokenType: "guest"}, want: Decision{Action: Forward}},

		// Users.
		{name: "user protected page", req: Request{Path: "/dashboard", State: User, TokenType: "user"}, want: Decision{Action: Forward}},
		{name: "user on auth route", req: Request{Path: "/login", State: User, TokenType: "user"}, want: Decision{Action: Redirect, Location: "/"}},
		{name: "user API on a path listed as auth route", edit: func(c *config.Access) { c.AuthRoutes = append(c.AuthRoutes, "/api/x") },
			req: Request{Path: "/api/x", API: true, State: User, TokenType: "user"}, want: Decision{Action: Forward}},
		{name: "type not allowed page", edit: func(c *config.Access) { c.AllowedTokenTypes = []string{"admin"} },
			req:  Request{Path: "/about", State: User, TokenType: "user"},
			want: Decision{Action: Redirect, Location: "/login", ClearAuth: true, Denied: true}},
		{name: "type not allowed API", edit: func(c *config.Access) { c.AllowedTokenTypes = []string{"admin"} },
			req:  Request{Path: "/api/posts", API: true, State: User, TokenType: "user"},
			want: Decision{Action: Refuse, Status: 403, Message: respond.MsgNotAuthorized, JSON: true, ClearAuth: true, Denied: true}},
		{name: "type not allowed fetch", edit: func(c *config.Access) { c.AllowedTokenTypes = []string{"admin"} },
			req:  Request{Path: "/about", Fetch: true, State: User, TokenType: "user"},
			want: Decision{Action: Refuse, Status: 403, Message: respond.MsgNotAuthorized, JSON: true, ClearAuth: true, Denied: true}},
		{name: "type allowed", edit: func(c *config.Access) { c.AllowedTokenTypes = []string{"user"} },
			req: Request{Path: "/about", State: User, TokenType: "user"}, want: Decision{Action: Forward}},
		{name: "guest type not checked against allowed types", edit: func(c *config.Access) { c.AllowedTokenTypes = []string{"admin"} },
			req: Request{Path: "/about", State: Guest, TokenType: "guest"}, want: Decision{Action: Forward}},

		// Terminal logout.
		{name: "expired page", req: Request{Path: "/about", State: Expired}, want: Decision{Action: Redirect, Location: "/login"}},
		{name: "expired on the login page", req: Request{Path: "/login", State: Expired}, want: Decision{Action: Forward, Anonymous: true}},
		{name: "expired API", req: Request{Path: "/api/posts", API: true, State: Expired},
			want: Decision{Action: Refuse, Status: 401, Message: respond.MsgSessionExpired, JSON: true}},
		{name: "expired fetch", req: Request{Path: "/about", Fetch: true, State: Expired},
			want: Decision{Action: Refuse, Status: 401, Message: respond.MsgNotAuthenticated, JSON: true}},

		// Backend unavailable.
		{name: "unavailable page", req: Request{Path: "/about", State: Unavailable}, want: Decision{Action: Forward, Anonymous: true}},
		{name: "unavailable protected page", req: Request{Path: "/dashboard", State: Unavailable},
			want: Decision{Action: Refuse, Status: 503, Message: respond.MsgUnavailable}},
		{name: "unavailable protected fetch", req: Request{Path: "/dashboard", Fetch: true, State: Unavailable},
			want: Decision{Action: Refuse, Status: 503, Message: respond.MsgUnavailable, JSON: true}},
		{name: "unavailable API", req: Request{Path: "/api/posts", API: true, State: Unavailable},
			want: Decision{Action: Refuse, Status: 503, Message: respond.MsgUnavailable, JSON: true}},
		{name: "unavailable public API", req: Request{Path: "/api/news", API: true, SkipAuth: true, State: Unavailable},
			want: Decision{Action: Forward, Anonymous: true}},

		// No token, and no guest minted because the backend is unavailable:
		// decided as Unavailable.
		{name: "guest unavailable page", req: Request{Path: "/about", GuestUnavailable: true}, want: Decision{Action: Forward, Anonymous: true}},
		{name: "guest unavailable protected page", req: Request{Path: "/dashboard", GuestUnavailable: true},
			want: Decision{Action: Refuse, Status: 503, Message: respond.MsgUnavailable}},
		{name: "guest unavailable protected fetch", req: Request{Path: "/dashboard", Fetch: true, GuestUnavailable: true},
			want: Decision{Action: Refuse, Status: 503, Message: respond.MsgUnavailable, JSON: true}},
		{name: "guest unavailable API", req: Request{Path: "/api/posts", API: true, GuestUnavailable: true},
			want: Decision{Action: Refuse, Status: 503, Message: respond.MsgUnavailable, JSON: true}},
		{name: "guest unavailable public API", req: Request{Path: "/api/news", API: true, SkipAuth: true, GuestUnavailable: true},
			want: Decision{Action: Forward, Anonymous: true}},
		{name: "guest unavailable public API under a role rule",
			edit: func(c *config.Access) { c.Rules = []config.Rule{{Path: "/api/admin/**", Roles: []string{"admin"}}} },
			req:  Request{Path: "/api/admin/x", API: true, SkipAuth: true, GuestUnavailable: true},
			want: Decision{Action: Refuse, Status: 503, Message: respond.MsgUnavailable, JSON: true}},

		// Protected by default.
		{name: "by default: page protected", edit: func(c *config.Access) { c.ProtectedByDefault = true; c.PublicRoutes = []string{"/about"} },
			req: Request{Path: "/shop"}, want: Decision{Action: Redirect, Location: "/login"}},
		{name: "by default: public route", edit: func(c *config.Access) { c.ProtectedByDefault = true; c.PublicRoutes = []string{"/about"} },
			req: Request{Path: "/about/team"}, want: Decision{Action: Forward}},
		{name: "by default: auth route open", edit: func(c *config.Access) { c.ProtectedByDefault = true },
			req: Request{Path: "/register"}, want: Decision{Action: Forward}},
		{name: "by default: home never protected", edit: func(c *config.Access) { c.ProtectedByDefault = true },
			req: Request{Path: "/"}, want: Decision{Action: Forward}},
		{name: "by default: below login never protected", edit: func(c *config.Access) { c.ProtectedByDefault = true },
			req: Request{Path: "/login/reset"}, want: Decision{Action: Forward}},
		{name: "by default: health never protected", edit: func(c *config.Access) { c.ProtectedByDefault = true },
			req: Request{Path: "/_apilayer/health"}, want: Decision{Action: Forward}},

		// Return URL.
		{name: "return param", edit: func(c *config.Access) { c.ReturnParam = "next" },
			req:  Request{Path: "/dashboard/a b", Query: "x=1&y=2"},
			want: Decision{Action: Redirect, Location: "/login?next=%2Fdashboard%2Fa+b%3Fx%3D1%26y%3D2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := policy(tt.edit).Decide(tt.req); got != tt.want {
				t.Errorf("Decide(%+v)\n got %+v\nwant %+v", tt.req, got, tt.want)
			}
		})
	}
}

func TestLoginURLNeverLeavesTheSite(t *testing.T) {
	p := policy(func(c *config.Access) { c.ReturnParam = "next" })
	for _, path := range []string{"//evil.example", `/\evil.example`, "https://evil.example"} {
		if got := p.LoginURL(path, ""); got != "/login" {
			t.Errorf("LoginURL(%q) = %q, want /login without a return URL", path, got)
		}
	}
}

// Next.js's router asks for a page with ?_rsc=<cache key> (RSC: 1): the
// visitor is sent back to the page, not to the router's cache key.
func TestLoginURLDropsTheRouterCacheKey(t *testing.T) {
	p := policy(func(c *config.Access) { c.ReturnParam = "next" })
	for _, tt := range []struct{ query, want string }{
		{"_rsc=2Md0sTUZ", "/login?next=%2Fdashboard"},
		{"tab=2&_rsc=2Md0sTUZ", "/login?next=%2Fdashboard%3Ftab%3D2"},
		{"_rsc=a&tab=2&_rsc=b&x", "/login?next=%2Fdashboard%3Ftab%3D2%26x"},
		{"_rscx=1", "/login?next=%2Fdashboard%3F_rscx%3D1"},
	} {
		if got := p.LoginURL("/dashboard", tt.query); got != tt.want {
			t.Errorf("LoginURL(/dashboard, %q) = %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestIsFetch(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   bool
	}{
		{"navigation", map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Sec-Fetch-Mode": "navigate"}, false},
		{"fetch mode cors", map[string]string{"Sec-Fetch-Mode": "cors"}, true},
		{"accept json", map[string]string{"Accept": "application/json"}, true},
		{"accept problem+json", map[string]string{"Accept": "application/problem+json"}, true},
		{"json below html", map[string]string{"Accept": "text/html, application/json;q=0.5"}, false},
		{"json above html", map[string]string{"Accept": "text/html;q=0.4, application/json"}, true},
		{"json refused", map[string]string{"Accept": "application/json;q=0"}, false},
		{"xhr", map[string]string{"X-Requested-With": "XMLHttpRequest"}, true},
		{"nothing", nil, false},
		{"garbage q", map[string]string{"Accept": "application/json;q=abc"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if got := IsFetch(r); got != tt.want {
				t.Errorf("IsFetch = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAcceptsHTML(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/html,*/*":      true,
		"application/json":   false,
		"text/html;q=0, */*": false,
		"":                   false,
		"TEXT/HTML; q=0.5":   true,
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept", accept)
		if got := AcceptsHTML(r); got != want {
			t.Errorf("AcceptsHTML(%q) = %v, want %v", accept, got, want)
		}
	}
}

func TestRules(t *testing.T) {
	p := policy(func(c *config.Access) {
		c.Rules = []config.Rule{
			{Path: "/admin/**", Roles: []string{"admin"}},
			{Path: "/api/admin/**", Roles: []string{"admin"}},
			{Path: "/reports/*/edit", Roles: []string{"editor", "admin"}, RolesField: "/perms/roles"},
			{Path: "/admin/billing/**", Roles: []string{"billing"}},
		}
	})
	admin := map[string]any{"roles": []any{"admin", "user"}}
	user := map[string]any{"roles": []any{"user"}}
	single := map[string]any{"role": "admin"}
	editor := map[string]any{"perms": map[string]any{"roles": []any{"editor"}}}
	denied := Decision{Action: Refuse, Status: 403, Message: respond.MsgNotAuthorized, Denied: true}
	deniedJSON := Decision{Action: Refuse, Status: 403, Message: respond.MsgNotAuthorized, JSON: true, Denied: true}
	tests := []struct {
		name string
		req  Request
		want Decision
	}{
		{"admin on /admin", Request{Path: "/admin", State: User, TokenType: "user", User: admin}, Decision{Action: Forward}},
		{"admin below /admin", Request{Path: "/admin/users/1", State: User, TokenType: "user", User: admin}, Decision{Action: Forward}},
		{"user on /admin: 403 page, cookies kept", Request{Path: "/admin/users", State: User, TokenType: "user", User: user}, denied},
		{"user fetch on /admin: 403 JSON", Request{Path: "/admin", Fetch: true, State: User, TokenType: "user", User: user}, deniedJSON},
		{"user on admin API: 403 JSON", Request{Path: "/api/admin/stats", API: true, State: User, TokenType: "user", User: user}, deniedJSON},
		{"single role string accepted", Request{Path: "/admin", State: User, TokenType: "user", User: single}, Decision{Action: Forward}},
		{"custom rolesField", Request{Path: "/reports/7/edit", State: User, TokenType: "user", User: editor}, Decision{Action: Forward}},
		{"custom rolesField missing", Request{Path: "/reports/7/edit", State: User, TokenType: "user", User: user}, denied},
		{"every matching rule must pass", Request{Path: "/admin/billing/x", State: User, TokenType: "user", User: admin}, denied},
		{"no roles at all", Request{Path: "/admin", State: User, TokenType: "user", User: map[string]any{}}, denied},
		{"guest on rule path: login", Request{Path: "/admin", State: Guest, TokenType: "guest"}, Decision{Action: Redirect, Location: "/login"}},
		{"anonymous on rule path: login", Request{Path: "/admin/x", State: Anonymous}, Decision{Action: Redirect, Location: "/login"}},
		{"guest on rule API path: 401", Request{Path: "/api/admin/stats", API: true, State: Guest, TokenType: "guest"},
			Decision{Action: Refuse, Status: 401, Message: respond.MsgNotAuthenticated, JSON: true}},
		{"lookalike path not ruled", Request{Path: "/administrator", State: User, TokenType: "user", User: user}, Decision{Action: Forward}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Decide(tt.req); got != tt.want {
				t.Errorf("Decide\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNewRejectsBadRules(t *testing.T) {
	for _, r := range []config.Rule{{Path: "/a**", Roles: []string{"x"}}, {Path: "/a", RolesField: "roles"}} {
		if _, err := New(config.Access{LoginPath: "/login", HomePath: "/", Rules: []config.Rule{r}}); err == nil {
			t.Errorf("New with rule %+v: nil error", r)
		}
	}
}

// With access.caseInsensitive, every route list, loginPath, homePath and
// the rules match in any letter case; the gateway's own paths (never) stay
// exact. Without it, matching is exact.
func TestCaseInsensitive(t *testing.T) {
	admin := map[string]any{"roles": []any{"admin"}}
	edit := func(c *config.Access) {
		c.PublicRoutes = []string{"/about"}
		c.ExcludedPaths = []string{"/assets"}
		c.Rules = []config.Rule{{Path: "/admin/**", Roles: []string{"admin"}, RolesField: "/roles"}}
		c.HomePath = "/home"
	}
	tests := []struct {
		name          string
		byDefault     bool
		req           Request
		folded, exact Action
	}{
		{"protected route", false, Request{Path: "/Dashboard"}, Redirect, Forward},
		{"protected subpage", false, Request{Path: "/DASHBOARD/stats"}, Redirect, Forward},
		{"protected lookalike", false, Request{Path: "/Dashboards"}, Forward, Forward},
		{"rule, anonymous", false, Request{Path: "/Admin/users"}, Redirect, Forward},
		{"rule, user without the role", false, Request{Path: "/ADMIN", State: User, TokenType: "user"}, Refuse, Forward},
		{"rule, admin", false, Request{Path: "/ADMIN", State: User, TokenType: "user", User: admin}, Forward, Forward},
		{"auth route, user", false, Request{Path: "/Register", State: User, TokenType: "user"}, Redirect, Forward},
		{"by default: public route", true, Request{Path: "/About"}, Forward, Redirect},
		{"by default: auth route", true, Request{Path: "/REGISTER"}, Forward, Redirect},
		{"by default: login path", true, Request{Path: "/Login"}, Forward, Redirect},
		{"by default: home path", true, Request{Path: "/Home/"}, Forward, Redirect},
		{"by default: home lookalike", true, Request{Path: "/Homes"}, Redirect, Redirect},
		{"by default: the gateway's own paths stay exact", true, Request{Path: "/_APILAYER/health"}, Redirect, Redirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, fold := range []bool{true, false} {
				p := policy(func(c *config.Access) {
					edit(c)
					c.ProtectedByDefault = tt.byDefault
					c.CaseInsensitive = fold
				})
				want := tt.exact
				if fold {
					want = tt.folded
				}
				if d := p.Decide(tt.req); d.Action != want {
					t.Errorf("caseInsensitive %v: %s: action %v, want %v (%+v)", fold, tt.req.Path, d.Action, want, d)
				}
			}
		})
	}
	p := policy(func(c *config.Access) { edit(c); c.CaseInsensitive = true })
	if !p.Excluded("/ASSETS/app.js") || policy(edit).Excluded("/ASSETS/app.js") {
		t.Error("excludedPaths: /ASSETS/app.js must be excluded only with caseInsensitive")
	}
}
