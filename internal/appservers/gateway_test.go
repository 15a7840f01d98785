package appservers

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/testkit"
)

// The default names of the auth cookies (cookies.user, cookies.guest).
const (
	userCookie  = "userAuthToken"
	guestCookie = "guestAuthToken"
)

// gatewayConfig puts the gateway in front of the app at appURL: /dashboard
// protected, /assets excluded (access.excludedPaths), the built-in auth API
// off so that /api/auth/me is a bypassed path forwarded to the app
// (authApi.enabled false), i18n on so that X-Locale is set, the token sent
// to the app in Authorization (upstream.passAuthorization), and no guest
// minting, so that an anonymous visitor stays anonymous.
func gatewayConfig(backendURL, appURL string) config.Config {
	off := false
	return config.Config{
		Backend:  config.Backend{URL: backendURL, Timeout: 5 * time.Second},
		Upstream: config.Upstream{URL: appURL, PassAuthorization: true},
		Access: config.Access{
			ProtectedRoutes: []string{"/dashboard"},
			AuthRoutes:      []string{"/login"},
			ExcludedPaths:   []string{"/assets"},
		},
		AuthAPI: config.AuthAPI{Enabled: &off},
		I18n:    config.I18n{Enabled: true, Locales: []string{"en", "tr"}, DefaultLocale: "en"},
	}
}

// gatewayLocale is the locale the gateway resolves for the test clients
// (no cookie, no Accept-Language, no path prefix): i18n.defaultLocale.
const gatewayLocale = "en"

// gateway is one apilayer gateway in front of one app server, served on
// loopback over HTTP/1.1 and over HTTP/2 with TLS.
type gateway struct {
	h1 rawHTTP1
	h2 http2TLS
}

// newGateway builds the gateway for appURL and serves it; everything is
// closed at t.Cleanup.
func newGateway(t *testing.T, backendURL, appURL string) *gateway {
	t.Helper()
	gw, err := apilayer.New(gatewayConfig(backendURL, appURL))
	if err != nil {
		t.Fatalf("apilayer.New: %v", err)
	}
	h1 := httptest.NewServer(gw.Handler())
	h2 := httptest.NewUnstartedServer(gw.Handler())
	h2.EnableHTTP2 = true
	h2.StartTLS()
	g := &gateway{h1: rawHTTP1{addr: h1.Listener.Addr().String()}, h2: newHTTP2TLS(h2)}
	t.Cleanup(func() {
		g.h2.close()
		h2.Close()
		h1.Close()
		gw.Close()
	})
	return g
}

// persona is who sends a request: an anonymous visitor, a guest, or the
// signed-in user alice (role user) who would like to be the admin.
type persona struct {
	name string
	// cookie is the Cookie header it sends; "" for none.
	cookie string
	// token is its token, "" for none.
	token string
	// tokenType is the X-Auth-Token-Type the gateway sets for it; "" for
	// none.
	tokenType string
	// user is the user object the backend returns for token; nil for none.
	user map[string]any
}

// newPersonas issues the tokens of the three personas from the demo
// backend and reads the user object it answers for each.
func newPersonas(t *testing.T, be *testkit.Backend) []*persona {
	t.Helper()
	alice, err := be.Demo().Issue("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	guest := be.Demo().IssueGuest(time.Hour)
	return []*persona{
		{name: "anonymous"},
		{name: "guest", cookie: guestCookie + "=" + guest, token: guest, tokenType: "guest", user: me(t, be, guest)},
		{name: "alice", cookie: userCookie + "=" + alice, token: alice, tokenType: "user", user: me(t, be, alice)},
	}
}

// me returns the user object the backend's auth/me answers for token.
func me(t *testing.T, be *testkit.Backend, token string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, be.URL()+"auth/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := be.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil || res.StatusCode != http.StatusOK || out.Data == nil {
		t.Fatalf("auth/me: status %d, %v", res.StatusCode, err)
	}
	return out.Data
}

// page is a path the forgeries are sent to.
type page struct {
	name string
	path string
	// protected: anonymous visitors and guests are redirected to the login
	// page and never reach the app.
	protected bool
	// bare: forwarded without authentication (access.excludedPaths, or an
	// auth API path bypassed with authApi.enabled false), so the app
	// receives no identity whoever asks.
	bare bool
}

var pages = []page{
	{name: "protected", path: "/dashboard", protected: true},
	{name: "public", path: "/about"},
	{name: "excluded", path: "/assets/app.js", bare: true},
	{name: "bypassed", path: "/api/auth/me", bare: true},
}

// reaches reports whether p's request to pg reaches the app.
func (pg page) reaches(p *persona) bool { return !pg.protected || p.tokenType == "user" }

// want is what the app must believe about one request.
type want struct {
	path string
	// user is the verified user (nil: none) and tokenType its type.
	user      map[string]any
	tokenType string
	locale    string
	requestID string // the X-Request-ID the gateway returned to the client
	clientIP  string // as the gateway resolved it
	// cookie and authorization are the exact Cookie and Authorization
	// headers the gateway forwards ("" for none).
	cookie        string
	authorization string
}

// expect returns what the app must believe when p asks for pg and the
// gateway answered with requestID.
func expect(pg page, p *persona, requestID string) want {
	w := want{
		path:      pg.path,
		locale:    gatewayLocale,
		requestID: requestID,
		clientIP:  "127.0.0.1",
		cookie:    p.cookie,
	}
	if !pg.bare && p.token != "" {
		w.user, w.tokenType = p.user, p.tokenType
		w.authorization = fmt.Sprintf("Bearer %s", p.token)
	}
	return w
}
