package forwardauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// fixture is what stands behind every proxy: the demo backend, the
// recording web app, and a gateway in forward-auth mode that trusts the
// loopback proxy.
type fixture struct {
	t       *testing.T
	backend *testkit.Backend
	app     *testkit.Upstream
	gw      *httptest.Server
}

// The cookies and the CSRF settings of the fixture's gateway.
const (
	userCookie  = "userAuthToken"
	guestCookie = "guestAuthToken"
	csrfCookie  = "__csrf"
	csrfSecret  = "forwardauth-test-csrf-secret-5e1d"
)

// gatewayConfig: guests on, /dashboard protected, /login an auth route,
// /admin/** for admins, CSRF (both parts), forward-auth with
// passAuthorization, the loopback proxy trusted.
func gatewayConfig(backendURL string) config.Config {
	return config.Config{
		Backend: config.Backend{URL: backendURL, Timeout: 2 * time.Second},
		Guest:   config.Guest{Enabled: true, Credentials: demo.GuestCredentials(), MaxPerMinute: 1000},
		Access: config.Access{
			ProtectedRoutes: []string{"/dashboard"},
			AuthRoutes:      []string{"/login"},
			Rules:           []config.Rule{{Path: "/admin/**", Roles: []string{"admin"}}},
		},
		CSRF:     config.CSRF{Enabled: true, Secret: csrfSecret},
		ClientIP: config.ClientIP{TrustedProxies: []string{"127.0.0.1", "::1"}, Headers: []string{"x-forwarded-for"}},
		Authz:    config.Authz{Enabled: true, PassAuthorization: true},
	}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, backend: testkit.NewBackend(t, demo.BackendOptions{}), app: testkit.NewUpstream(t)}
	gw, err := apilayer.New(gatewayConfig(f.backend.URL()))
	if err != nil {
		t.Fatalf("apilayer.New: %v", err)
	}
	f.gw = httptest.NewServer(gw.Handler())
	t.Cleanup(func() {
		f.gw.Close()
		gw.Close()
	})
	return f
}

// reset forgets the backend's call counts and what the web app received.
func (f *fixture) reset() {
	f.backend.ResetCalls()
	f.app.Reset()
}

// login issues a valid token for user straight from the demo backend.
func (f *fixture) login(user string) string {
	f.t.Helper()
	tok, err := f.backend.Demo().Issue(user, 15*time.Minute)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// expired issues an expired but still refreshable token for user.
func (f *fixture) expired(user string) string {
	f.t.Helper()
	tok, err := f.backend.Demo().Issue(user, -time.Minute)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// addrs are the addresses a proxy configuration template is rendered
// with (testdata/*): where the proxy listens, the gateway, the web app.
type addrs struct {
	Listen                 string // nginx: host:port
	Site                   string // Caddy: the site address
	ListenHost, ListenPort string // Envoy
	Gateway, App           string // host:port
	GatewayHost, GatewayPort,
	AppHost, AppPort string
}

// newAddrs returns the addresses of a proxy listening on listen
// (host:port) in front of f.
func newAddrs(f *fixture, listen string) addrs {
	a := addrs{Listen: listen, Site: "http://" + listen, Gateway: hostPort(f.gw.URL), App: hostPort(f.app.URL())}
	a.ListenHost, a.ListenPort, _ = net.SplitHostPort(listen)
	a.GatewayHost, a.GatewayPort, _ = net.SplitHostPort(a.Gateway)
	a.AppHost, a.AppPort, _ = net.SplitHostPort(a.App)
	return a
}

// docAddrs are the addresses of the snippets in docs/forward-auth.md.
var docAddrs = addrs{
	Listen: "80", Site: "example.com", ListenHost: "0.0.0.0", ListenPort: "80",
	Gateway: "127.0.0.1:8080", GatewayHost: "127.0.0.1", GatewayPort: "8080",
	App: "127.0.0.1:3000", AppHost: "127.0.0.1", AppPort: "3000",
}

func hostPort(u string) string { return strings.TrimPrefix(u, "http://") }

// render renders testdata/name with a.
func render(t testing.TB, name string, a any) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.New(name).Option("missingkey=error").Parse(string(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, a); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out.String()
}

// freeAddr returns a free loopback address, host:port.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// browser sends requests to a proxy as a browser would, without following
// redirects and without a cookie jar (each request says its cookies).
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	return &browser{t: t, base: base, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}}
}

// visit is one request of the browser. header keys are sent exactly as
// written (other spellings, underscores).
type visit struct {
	method  string
	path    string
	cookies map[string]string
	header  map[string][]string
	body    string
}

// page is a response, read whole.
type page struct {
	*http.Response
	body string
}

func (b *browser) do(v visit) page {
	b.t.Helper()
	if v.method == "" {
		v.method = http.MethodGet
	}
	r, err := http.NewRequestWithContext(context.Background(), v.method, b.base+v.path, strings.NewReader(v.body))
	if err != nil {
		b.t.Fatal(err)
	}
	for k, vs := range v.header {
		r.Header[k] = vs
	}
	for k, val := range v.cookies {
		r.AddCookie(&http.Cookie{Name: k, Value: val})
	}
	res, err := b.client.Do(r)
	if err != nil {
		b.t.Fatalf("%s %s: %v", v.method, v.path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("%s %s: reading the body: %v", v.method, v.path, err)
	}
	return page{Response: res, body: string(body)}
}

// cookie returns the value the response sets for name, and whether it
// sets it.
func (p page) cookie(name string) (string, bool) {
	for _, c := range p.Cookies() {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// userOf decodes an X-Auth-User value ("" when there is none or it does
// not decode).
func userOf(v string) string {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return ""
	}
	var u struct {
		Username string `json:"username"`
	}
	if json.Unmarshal(b, &u) != nil {
		return ""
	}
	return u.Username
}
