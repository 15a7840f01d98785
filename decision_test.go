package apilayer_test

import (
	"net/http"
	"testing"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/testkit"
)

// Cookie names of the default config.
const (
	userCookie  = "userAuthToken"
	guestCookie = "guestAuthToken"
)

func noGuest(c *config.Config)    { c.Guest.Enabled = false }
func noFallback(c *config.Config) { f := false; c.Refresh.GuestFallback = &f }
func onlyStaff(c *config.Config)  { c.Access.AllowedTokenTypes = []string{"staff"} }
func both(fs ...func(*config.Config)) func(*config.Config) {
	return func(c *config.Config) {
		for _, f := range fs {
			f(c)
		}
	}
}

// decisionCase is one row of the decision table of
// docs/how-it-works.md#decisions, sent
// through the whole gateway.
type decisionCase struct {
	name   string
	edit   func(*config.Config)
	faults map[string]testkit.Fault
	// cookies returns the cookies the browser sends (nil: none).
	cookies func(e *env) map[string]string
	path    string
	header  map[string]string
	check   func(t *testing.T, e *env, res *http.Response, sent map[string]string)
}

func runDecisions(t *testing.T, cases []decisionCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.edit)
			var sent map[string]string
			if tc.cookies != nil {
				sent = tc.cookies(e)
			}
			for ep, f := range tc.faults {
				e.backend.SetFault(ep, f)
			}
			res := e.do(req{path: tc.path, cookies: sent, header: tc.header})
			tc.check(t, e, res, sent)
		})
	}
}

func userCookies(e *env) map[string]string  { return map[string]string{userCookie: e.login("alice")} }
func guestCookies(e *env) map[string]string { return map[string]string{guestCookie: e.guestToken()} }

// expiredCookies sends an expired but refreshable user token and a guest
// cookie (a visitor who was a guest before signing in).
func expiredCookies(e *env) map[string]string {
	return map[string]string{userCookie: e.expired("alice"), guestCookie: e.guestToken()}
}

func expiredOnly(e *env) map[string]string { return map[string]string{userCookie: e.expired("alice")} }

// reusedCookies sends an expired token that was already refreshed once,
// directly at the backend: refreshing it again is reuse.
func reusedCookies(e *env) map[string]string {
	tok := e.expired("alice")
	r, err := http.NewRequest(http.MethodPost, e.backend.URL()+"auth/refresh", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	res, err := e.backend.Client().Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("first refresh at the backend: %d", res.StatusCode)
	}
	e.backend.ResetCalls()
	return map[string]string{userCookie: tok, guestCookie: e.guestToken()}
}

// revokedCookies sends a token that was logged out elsewhere.
func revokedCookies(e *env) map[string]string {
	tok := e.login("alice")
	e.backend.Demo().Revoke(tok)
	return map[string]string{userCookie: tok}
}

// mintedGuest checks that res sets a fresh guest cookie and returns it.
func mintedGuest(t *testing.T, e *env, res *http.Response) string {
	t.Helper()
	g := wantSet(t, res, guestCookie, guestMaxAge)
	e.wantCalls(map[string]int64{"auth/guest": 1})
	return g
}

// forwardedAsGuest checks a page forwarded with a guest token minted in
// this request.
func forwardedAsGuest(t *testing.T, e *env, res *http.Response, path, minted string) {
	t.Helper()
	wantForwarded(t, res, path)
	up := e.lastUpstream()
	wantIdentity(t, up, "guest", "")
	if got := up.Header.Get("X-Refreshed-Token"); got != minted {
		t.Errorf("X-Refreshed-Token = %q, want the minted guest token", got)
	}
	if v, _ := up.Cookie(guestCookie); v != minted {
		t.Errorf("web app Cookie %s = %q, want the minted token", guestCookie, v)
	}
	if _, ok := up.Cookie(userCookie); ok {
		t.Errorf("web app still received the dead %s", userCookie)
	}
}

// apiForwardedWith checks that GET /api/posts reached the backend with
// Bearer tok and its answer came back.
func apiForwardedWith(t *testing.T, e *env, res *http.Response, tok string) {
	t.Helper()
	wantStatus(t, res, http.StatusOK)
	if m := bodyJSON(t, res); m["success"] != true {
		t.Errorf("body = %v, want the backend's posts", m)
	}
	if got := bearer(e.lastBackend("/api/posts")); got != "Bearer "+tok {
		t.Errorf("backend Authorization = %q, want Bearer <effective token>", got)
	}
}

// terminal checks a terminal logout of a page request: redirect to login,
// every carried auth cookie deleted, no guest minted.
func terminal(t *testing.T, e *env, res *http.Response, sent map[string]string) {
	t.Helper()
	wantRedirect(t, res, "/login")
	var names []string
	for n := range sent {
		wantDeleted(t, res, n)
		names = append(names, n)
	}
	wantSetCookieNames(t, res, names...)
	e.wantCalls(map[string]int64{"auth/guest": 0})
	e.wantNoUpstream()
}

// terminalAPI checks a terminal logout of an API request.
func terminalAPI(t *testing.T, e *env, res *http.Response, sent map[string]string) {
	t.Helper()
	wantJSON(t, res, http.StatusUnauthorized, "Session expired.")
	var names []string
	for n := range sent {
		wantDeleted(t, res, n)
		names = append(names, n)
	}
	wantSetCookieNames(t, res, names...)
	e.wantCalls(map[string]int64{"auth/guest": 0, "posts": 0})
}

func TestDecisionTableWithoutToken(t *testing.T) {
	runDecisions(t, []decisionCase{
		{
			name: "guest minted: page forwarded with the guest cookie and X-Refreshed-Token",
			path: "/about",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				g := mintedGuest(t, e, res)
				wantSetCookieNames(t, res, guestCookie)
				forwardedAsGuest(t, e, res, "/about", g)
				e.wantCalls(map[string]int64{"auth/me": 0})
			},
		},
		{
			name: "guest minted: protected page redirects to login and still sets the guest cookie",
			path: "/dashboard",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantRedirect(t, res, "/login")
				mintedGuest(t, e, res)
				wantSetCookieNames(t, res, guestCookie)
				e.wantNoUpstream()
			},
		},
		{
			name: "guest minted: API forwarded with the minted guest token",
			path: "/api/posts",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				g := mintedGuest(t, e, res)
				wantSetCookieNames(t, res, guestCookie)
				apiForwardedWith(t, e, res, g)
			},
		},
		{
			name: "no guest: protected page redirects to login without cookies",
			edit: noGuest,
			path: "/dashboard",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantRedirect(t, res, "/login")
				wantNoSetCookie(t, res)
				e.wantCalls(map[string]int64{"auth/guest": 0, "auth/me": 0})
				e.wantNoUpstream()
			},
		},
		{
			name: "no guest: returnParam adds the original path and query",
			edit: both(noGuest, func(c *config.Config) { c.Access.ReturnParam = "next" }),
			path: "/dashboard/x?tab=1",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantRedirect(t, res, "/login?next=%2Fdashboard%2Fx%3Ftab%3D1")
			},
		},
		{
			name: "no guest: page forwarded without identity",
			edit: noGuest,
			path: "/about",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantForwarded(t, res, "/about")
				wantNoSetCookie(t, res)
				up := e.lastUpstream()
				wantIdentity(t, up, "", "")
				if v := up.Header.Get("X-Refreshed-Token"); v != "" {
					t.Errorf("X-Refreshed-Token = %q, want none", v)
				}
			},
		},
		{
			name: "no guest: API is 401 Token not found and never reaches the backend",
			edit: noGuest,
			path: "/api/posts",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantJSON(t, res, http.StatusUnauthorized, "Token not found.")
				wantNoSetCookie(t, res)
				e.wantCalls(map[string]int64{"posts": 0, "auth/guest": 0})
			},
		},
		{
			name:   "no guest: fetch to a protected page is 401 JSON Not authenticated",
			edit:   noGuest,
			path:   "/dashboard",
			header: map[string]string{"Sec-Fetch-Mode": "cors"},
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantJSON(t, res, http.StatusUnauthorized, "Not authenticated.")
				e.wantNoUpstream()
			},
		},
		{
			name:   "no guest: Accept preferring JSON to a protected page is 401 JSON",
			edit:   noGuest,
			path:   "/dashboard",
			header: map[string]string{"Accept": "application/json, text/html;q=0.5"},
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantJSON(t, res, http.StatusUnauthorized, "Not authenticated.")
			},
		},
	})
}

func TestDecisionTableValidTokens(t *testing.T) {
	runDecisions(t, []decisionCase{
		{
			name:    "valid guest: protected page redirects to login",
			cookies: guestCookies,
			path:    "/dashboard",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantRedirect(t, res, "/login")
				wantNoSetCookie(t, res)
				e.wantCalls(map[string]int64{"auth/guest": 0, "auth/me": 1})
				e.wantNoUpstream()
			},
		},
		{
			name:    "valid guest: fetch to a protected page is 401 JSON",
			cookies: guestCookies,
			path:    "/dashboard",
			header:  map[string]string{"Accept": "application/json"},
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantJSON(t, res, http.StatusUnauthorized, "Not authenticated.")
				wantNoSetCookie(t, res)
			},
		},
		{
			name:    "valid guest: page forwarded as guest without X-Refreshed-Token",
			cookies: guestCookies,
			path:    "/about",
			check: func(t *testing.T, e *env, res *http.Response, sent map[string]string) {
				wantForwarded(t, res, "/about")
				wantNoSetCookie(t, res)
				up := e.lastUpstream()
				wantIdentity(t, up, "guest", "")
				if u := decodeUser(t, up.Header.Get("X-Auth-User")); u["type"] != "guest" {
					t.Errorf("X-Auth-User = %v, want the guest's data", u)
				}
				if v := up.Header.Get("X-Refreshed-Token"); v != "" {
					t.Errorf("X-Refreshed-Token = %q, want none", v)
				}
				if v, _ := up.Cookie(guestCookie); v != sent[guestCookie] {
					t.Errorf("web app guest cookie = %q, want the one sent", v)
				}
			},
		},
		{
			name:    "valid guest: API forwarded with the guest token",
			cookies: guestCookies,
			path:    "/api/posts",
			check: func(t *testing.T, e *env, res *http.Response, sent map[string]string) {
				apiForwardedWith(t, e, res, sent[guestCookie])
				wantNoSetCookie(t, res)
			},
		},
		{
			name:    "valid user: auth route redirects home",
			cookies: userCookies,
			path:    "/login",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantRedirect(t, res, "/")
				wantNoSetCookie(t, res)
				e.wantNoUpstream()
			},
		},
		{
			name:    "valid user: protected page forwarded with the user's identity",
			cookies: userCookies,
			path:    "/dashboard",
			check: func(t *testing.T, e *env, res *http.Response, sent map[string]string) {
				wantForwarded(t, res, "/dashboard")
				wantNoSetCookie(t, res)
				up := e.lastUpstream()
				wantIdentity(t, up, "user", "alice")
				if v := up.Header.Get("X-Refreshed-Token"); v != "" {
					t.Errorf("X-Refreshed-Token = %q, want none", v)
				}
				if v, _ := up.Cookie(userCookie); v != sent[userCookie] {
					t.Errorf("web app user cookie = %q, want the one sent", v)
				}
				e.wantCalls(map[string]int64{"auth/me": 1, "auth/refresh": 0, "auth/guest": 0})
			},
		},
		{
			name: "valid user: a carried guest cookie is deleted",
			cookies: func(e *env) map[string]string {
				return map[string]string{userCookie: e.login("alice"), guestCookie: e.guestToken()}
			},
			path: "/about",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantForwarded(t, res, "/about")
				wantDeleted(t, res, guestCookie)
				wantSetCookieNames(t, res, guestCookie)
				if _, ok := e.lastUpstream().Cookie(guestCookie); ok {
					t.Error("the web app received the deleted guest cookie")
				}
			},
		},
		{
			name:    "valid user: API forwarded with the user's token",
			cookies: userCookies,
			path:    "/api/posts",
			check: func(t *testing.T, e *env, res *http.Response, sent map[string]string) {
				apiForwardedWith(t, e, res, sent[userCookie])
				wantNoSetCookie(t, res)
			},
		},
		{
			name: "type not allowed: page redirects to login and deletes every carried auth cookie",
			edit: onlyStaff,
			cookies: func(e *env) map[string]string {
				return map[string]string{userCookie: e.login("alice"), guestCookie: "g"}
			},
			path: "/about",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantRedirect(t, res, "/login")
				wantDeleted(t, res, userCookie)
				wantDeleted(t, res, guestCookie)
				wantSetCookieNames(t, res, userCookie, guestCookie)
				e.wantNoUpstream()
			},
		},
		{
			name:    "type not allowed: API is 403 and deletes the user cookie only",
			edit:    onlyStaff,
			cookies: userCookies,
			path:    "/api/posts",
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantJSON(t, res, http.StatusForbidden, "You are not authorized for this action.")
				wantDeleted(t, res, userCookie)
				wantSetCookieNames(t, res, userCookie)
				e.wantCalls(map[string]int64{"posts": 0})
			},
		},
		{
			name:    "type not allowed: fetch to a page is 403 JSON with cookies deleted",
			edit:    onlyStaff,
			cookies: userCookies,
			path:    "/about",
			header:  map[string]string{"Sec-Fetch-Mode": "cors"},
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantJSON(t, res, http.StatusForbidden, "You are not authorized for this action.")
				wantDeleted(t, res, userCookie)
				e.wantNoUpstream()
			},
		},
	})
}

func TestDecisionTableRefresh(t *testing.T) {
	refreshed := func(t *testing.T, e *env, res *http.Response, sent map[string]string) string {
		t.Helper()
		tok := wantSet(t, res, userCookie, userMaxAge)
		if tok == sent[userCookie] {
			t.Fatal("the new cookie carries the old token")
		}
		e.wantCalls(map[string]int64{"auth/refresh": 1, "auth/guest": 0})
		return tok
	}
	runDecisions(t, []decisionCase{
		{
			name:    "refresh ok: page forwarded with the new cookie, guest cookie deleted",
			cookies: expiredCookies,
			path:    "/about",
			check: func(t *testing.T, e *env, res *http.Response, sent map[string]string) {
				tok := refreshed(t, e, res, sent)
				wantDeleted(t, res, guestCookie)
				wantSetCookieNames(t, res, userCookie, guestCookie)
				wantForwarded(t, res, "/about")
				up := e.lastUpstream()
				wantIdentity(t, up, "user", "alice")
				if got := up.Header.Get("X-Refreshed-Token"); got != tok {
					t.Errorf("X-Refreshed-Token = %q, want the new token", got)
				}
				if v, _ := up.Cookie(userCookie); v != tok {
					t.Errorf("web app Cookie %s = %q, want the new token", userCookie, v)
				}
				if _, ok := up.Cookie(guestCookie); ok {
					t.Error("web app received the deleted guest cookie")
				}
			},
		},
		{
			name:    "refresh ok: protected page forwarded",
			cookies: expiredOnly,
			path:    "/dashboard",
			check: func(t *testing.T, e *env, res *http.Response, sent map[string]string) {
				refreshed(t, e, res, sent)
				wantSetCookieNames(t, res, userCookie)
				wantForwarded(t, res, "/dashboard")
			},
		},
		{
			name:    "refresh ok: auth route redirects home with the new cookie",
			cookies: expiredOnly,
			path:    "/login",
			check: func(t *testing.T, e *env, res *http.Response, sent map[string]string) {
				wantRedirect(t, res, "/")
				refreshed(t, e, res, sent)
				wantSetCookieNames(t, res, userCookie)
			},
		},
		{
			name:    "refresh ok: API forwarded with the new token",
			cookies: expiredOnly,
			path:    "/api/posts",
			check: func(t *testing.T, e *env, res *http.Response, sent map[string]string) {
				tok := refreshed(t, e, res, sent)
				wantSetCookieNames(t, res, userCookie)
				apiForwardedWith(t, e, res, tok)
			},
		},
		{
			name:    "reuse detected by the backend: page redirects to login, all auth cookies deleted",
			cookies: reusedCookies,
			path:    "/about",
			check:   terminal,
		},
		{
			name:    "reuse by status 409: page redirects to login, all auth cookies deleted",
			faults:  map[string]testkit.Fault{"auth/refresh": testkit.Status(409)},
			cookies: expiredCookies,
			path:    "/about",
			check:   terminal,
		},
		{
			name:    "reuse by a configured reuseStatusCodes 418",
			edit:    func(c *config.Config) { c.Refresh.ReuseStatusCodes = []int{418} },
			faults:  map[string]testkit.Fault{"auth/refresh": testkit.Status(418)},
			cookies: expiredCookies,
			path:    "/about",
			check:   terminal,
		},
		{
			name:    "reuse: API is 401 Session expired with cookies deleted",
			cookies: reusedCookies,
			path:    "/api/posts",
			check:   terminalAPI,
		},
		{
			name:    "reuse: fetch to a page is 401 Not authenticated",
			cookies: reusedCookies,
			path:    "/about",
			header:  map[string]string{"Sec-Fetch-Mode": "cors"},
			check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
				wantJSON(t, res, http.StatusUnauthorized, "Not authenticated.")
				wantDeleted(t, res, userCookie)
				wantDeleted(t, res, guestCookie)
			},
		},
	})
}

func TestDecisionTableRefreshFailureFallback(t *testing.T) {
	fallbackPage := func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
		t.Helper()
		g := mintedGuest(t, e, res)
		wantDeleted(t, res, userCookie)
		wantSetCookieNames(t, res, guestCookie, userCookie)
		forwardedAsGuest(t, e, res, "/about", g)
	}
	var cases []decisionCase
	for _, f := range []struct {
		name    string
		fault   testkit.Fault
		cookies func(*env) map[string]string
	}{
		{"expired (401)", testkit.Status(401), expiredOnly},
		{"revoked (403)", testkit.Status(403), expiredOnly},
		{"unknown (400)", testkit.Status(400), expiredOnly},
		{"revoked at the backend (logged out elsewhere)", testkit.None, revokedCookies},
		{"unknown token (not a JWT)", testkit.None, func(*env) map[string]string { return map[string]string{userCookie: "not-a-jwt"} }},
	} {
		faults := map[string]testkit.Fault{"auth/refresh": f.fault}
		cases = append(cases,
			decisionCase{
				name:   f.name + " with guestFallback: page forwarded as a new guest, user cookie deleted",
				faults: faults, cookies: f.cookies, path: "/about", check: fallbackPage,
			},
			decisionCase{
				name:   f.name + " with guestFallback: protected page redirects, guest set, user cookie deleted",
				faults: faults, cookies: f.cookies, path: "/dashboard",
				check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
					wantRedirect(t, res, "/login")
					mintedGuest(t, e, res)
					wantDeleted(t, res, userCookie)
					wantSetCookieNames(t, res, guestCookie, userCookie)
				},
			},
			decisionCase{
				name:   f.name + " with guestFallback: API forwarded with the new guest token",
				faults: faults, cookies: f.cookies, path: "/api/posts",
				check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
					g := mintedGuest(t, e, res)
					wantDeleted(t, res, userCookie)
					apiForwardedWith(t, e, res, g)
				},
			},
			decisionCase{
				name: f.name + " without guestFallback: page redirects to login, cookies deleted",
				edit: noFallback, faults: faults, cookies: f.cookies, path: "/about", check: terminal,
			},
			decisionCase{
				name: f.name + " without guestFallback: API is 401 Session expired",
				edit: noFallback, faults: faults, cookies: f.cookies, path: "/api/posts", check: terminalAPI,
			},
		)
	}
	runDecisions(t, cases)
}

func TestDecisionTableRefreshNetworkFailure(t *testing.T) {
	faults := map[string]testkit.Fault{"auth/refresh": testkit.Status(500)}
	for _, fallback := range []bool{true, false} {
		edit := func(c *config.Config) { c.Refresh.GuestFallback = &fallback }
		name := "guestFallback " + map[bool]string{true: "true", false: "false"}[fallback]
		runDecisionsNamed(t, name, []decisionCase{
			{
				name: "other page forwarded without identity and without cookie change",
				edit: edit, faults: faults, cookies: expiredCookies, path: "/about",
				check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
					wantForwarded(t, res, "/about")
					wantNoSetCookie(t, res)
					up := e.lastUpstream()
					wantIdentity(t, up, "", "")
					if v := up.Header.Get("X-Refreshed-Token"); v != "" {
						t.Errorf("X-Refreshed-Token = %q, want none", v)
					}
					e.wantCalls(map[string]int64{"auth/refresh": 1, "auth/guest": 0})
				},
			},
			{
				name: "protected page is a 503 page",
				edit: edit, faults: faults, cookies: expiredCookies, path: "/dashboard",
				check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
					wantPage(t, res, http.StatusServiceUnavailable)
					wantNoSetCookie(t, res)
					e.wantNoUpstream()
					e.wantCalls(map[string]int64{"auth/guest": 0})
				},
			},
			{
				name: "API is 503 unavailable",
				edit: edit, faults: faults, cookies: expiredCookies, path: "/api/posts",
				check: func(t *testing.T, e *env, res *http.Response, _ map[string]string) {
					wantJSON(t, res, http.StatusServiceUnavailable, "Authentication service unavailable.")
					wantNoSetCookie(t, res)
					e.wantCalls(map[string]int64{"posts": 0, "auth/guest": 0})
				},
			},
		})
	}
}

func runDecisionsNamed(t *testing.T, name string, cases []decisionCase) {
	t.Run(name, func(t *testing.T) { runDecisions(t, cases) })
}

// A failed refresh is remembered: a second request with the same dead
// token makes no second refresh call.
func TestFailedRefreshIsRememberedAcrossRequests(t *testing.T) {
	e := newEnv(t, noGuest)
	e.backend.SetFault("auth/refresh", testkit.Status(401))
	tok := e.expired("alice")
	for range 3 {
		res := e.do(req{path: "/about", cookies: map[string]string{userCookie: tok}})
		wantForwarded(t, res, "/about")
		wantDeleted(t, res, userCookie)
	}
	e.wantCalls(map[string]int64{"auth/refresh": 1, "auth/me": 1})
}

// Paths are cleaned before any route list is matched.
func TestPathsAreCleanedBeforeMatching(t *testing.T) {
	e := newEnv(t, noGuest)
	for _, p := range []string{
		"/dashboard/../dashboard", "/%64ashboard", "//dashboard", "/x/..%2fdashboard",
		"/Dashboard/../dashboard", "/public/%2e%2e/dashboard", "/dashboard/", "/./dashboard",
	} {
		t.Run(p, func(t *testing.T) {
			wantRedirect(t, e.raw(p), "/login")
		})
	}
	e.wantNoUpstream()

	t.Run("a user reaches the cleaned path", func(t *testing.T) {
		res := e.raw("/x/..%2fdashboard", "Cookie: "+userCookie+"="+e.login("alice"))
		wantStatus(t, res, http.StatusOK)
		if got := e.lastUpstream().Path; got != "/dashboard" {
			t.Errorf("the web app received %q, want the cleaned /dashboard", got)
		}
	})
}

func TestPathsEscapingTheRootOrThePrefixAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		path string
		api  bool
	}{
		{"/../etc/passwd", false},
		{"/a/../../etc/passwd", false},
		{"/%2e%2e/etc/passwd", false},
		{"/api/../dashboard", true},
		{"/api/%2e%2e/x", true},
		{"/api/..%2fdashboard", true},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := e.raw(tc.path)
			if tc.api {
				wantJSON(t, res, http.StatusBadRequest, "Bad request path.")
			} else {
				wantPage(t, res, http.StatusBadRequest)
			}
			wantNoSetCookie(t, res)
		})
	}
	e.wantNoUpstream()
	e.wantCalls(map[string]int64{"auth/guest": 0, "auth/me": 0})
}

func TestExcludedPathsAreSegmentAware(t *testing.T) {
	for _, tc := range []struct {
		path     string
		excluded bool
	}{
		{"/assets", true},
		{"/assets/", true},
		{"/assets/app.js", true},
		{"/assets/../assets/app.js", true},
		{"/assetsx", false},
		{"/assets.js", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			e := newEnv(t, nil)
			res := e.raw(tc.path, "Cookie: "+userCookie+"="+e.login("alice"), "X-Auth-User: forged")
			wantStatus(t, res, http.StatusOK)
			up := e.lastUpstream()
			if tc.excluded {
				e.wantCalls(map[string]int64{"auth/me": 0, "auth/guest": 0})
				wantIdentity(t, up, "", "")
			} else {
				e.wantCalls(map[string]int64{"auth/me": 1})
				wantIdentity(t, up, "user", "alice")
			}
		})
	}
}
