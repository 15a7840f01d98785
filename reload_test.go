package apilayer_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// jsonLines returns the JSON log lines written to l so far.
func jsonLines(t *testing.T, l *lockedBuffer) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// logText returns what was written to l.
func logText(l *lockedBuffer) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// withMsg returns the log lines whose msg is msg.
func withMsg(lines []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// reloadEnv is a Server (NewServer) behind an httptest server, with its
// backend, web app and log.
type reloadEnv struct {
	t        *testing.T
	backend  *testkit.Backend
	upstream *testkit.Upstream
	srv      *apilayer.Server
	http     *httptest.Server
	client   *http.Client
	log      *lockedBuffer
}

func newReloadEnv(t *testing.T, edit func(*config.Config)) *reloadEnv {
	t.Helper()
	e := &reloadEnv{t: t, backend: testkit.NewBackend(t, demo.BackendOptions{}), upstream: testkit.NewUpstream(t), log: &lockedBuffer{}}
	gw, err := apilayer.New(e.config(edit), apilayer.WithLogger(slog.New(slog.NewJSONHandler(e.log, nil))))
	if err != nil {
		t.Fatal(err)
	}
	e.srv = apilayer.NewServer(gw)
	e.http = httptest.NewServer(e.srv.Handler())
	e.client = e.http.Client()
	e.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	t.Cleanup(func() {
		e.http.Close()
		if err := e.srv.Close(); err != nil {
			t.Errorf("Server.Close: %v", err)
		}
	})
	return e
}

// config is the base config (/dashboard protected) with edit applied.
func (e *reloadEnv) config(edit func(*config.Config)) config.Config {
	c := config.Config{
		Backend:  config.Backend{URL: e.backend.URL(), Timeout: 2 * time.Second},
		Upstream: config.Upstream{URL: e.upstream.URL()},
		Access:   config.Access{ProtectedRoutes: []string{"/dashboard"}, AuthRoutes: []string{"/login"}},
	}
	if edit != nil {
		edit(&c)
	}
	return c
}

// reload reloads with the base config and edit.
func (e *reloadEnv) reload(edit func(*config.Config)) error {
	c := e.config(edit)
	return e.srv.Reload(func() (*config.Config, error) { return &c, nil })
}

// get sends GET path with the user cookie token ("" for none).
func (e *reloadEnv) get(path, token string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.http.URL+path, nil)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "userAuthToken", Value: token})
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func (e *reloadEnv) token(user string) string {
	e.t.Helper()
	tok, err := e.backend.Demo().Issue(user, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// A reload puts the new config in force for new requests, keeps what did
// not change (the validation cache: no second validate call for a token
// validated before), and closes the replaced Gateway without closing what
// its successor kept.
func TestReloadSwapsTheConfig(t *testing.T) {
	e := newReloadEnv(t, nil)
	alice := e.token("alice")
	if res := e.get("/admin", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin before the reload = %d, want 200 (not protected)", res.StatusCode)
	}
	if res := e.get("/dashboard", alice); res.StatusCode != http.StatusOK {
		t.Fatalf("GET /dashboard as alice = %d, want 200", res.StatusCode)
	}
	old := e.srv.Gateway()
	if err := e.reload(func(c *config.Config) { c.Access.ProtectedRoutes = []string{"/dashboard", "/admin"} }); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if e.srv.Gateway() == old {
		t.Fatal("the Gateway was not replaced")
	}
	if res := e.get("/admin", ""); res.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("GET /admin after the reload = %d, want 307 to the login page", res.StatusCode)
	}
	if res := e.get("/dashboard", alice); res.StatusCode != http.StatusOK {
		t.Errorf("GET /dashboard as alice after the reload = %d, want 200", res.StatusCode)
	}
	if n := e.backend.Calls("auth/me"); n != 1 {
		t.Errorf("%d validate calls, want 1: the reload dropped the validation cache", n)
	}
	kept := apilayer.Kept(e.srv.Gateway())
	for _, name := range []string{"backend", "sessionStores", "sessions"} {
		if !slices.Contains(kept, name) {
			t.Errorf("kept %v, want %s among them", kept, name)
		}
	}
	apilayer.WaitDrained(e.srv)
	if !apilayer.Closed(old) {
		t.Error("the replaced Gateway was not closed once idle")
	}
	// The session manager both shared is still open: a new token is
	// validated, not answered 503.
	if res := e.get("/dashboard", e.token("admin")); res.StatusCode != http.StatusOK {
		t.Errorf("GET /dashboard as admin after the old Gateway closed = %d, want 200", res.StatusCode)
	}
	if lines := withMsg(jsonLines(t, e.log), "apilayer: config reloaded"); len(lines) != 1 {
		t.Errorf("%d 'config reloaded' lines, want 1", len(lines))
	}
}

// Each component is kept exactly while its settings are unchanged.
func TestReloadKeepsWhatDidNotChange(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*config.Config)
		kept    []string
		rebuilt []string
	}{
		{"route lists", func(c *config.Config) { c.Access.PublicRoutes = []string{"/about"} },
			[]string{"backend", "sessionStores", "sessions", "metrics", "csrf", "rateLimit"}, nil},
		{"validate.cacheTTL", func(c *config.Config) { ttl := time.Minute; c.Validation.CacheTTL = &ttl },
			[]string{"backend", "sessionStores", "metrics", "csrf", "rateLimit"}, []string{"sessions"}},
		{"backend.timeout", func(c *config.Config) { c.Backend.Timeout = 3 * time.Second },
			[]string{"sessionStores", "metrics", "csrf", "rateLimit"}, []string{"backend", "sessions"}},
		{"backend.url", func(c *config.Config) { c.Backend.URL += "v2/" },
			[]string{"metrics", "csrf", "rateLimit"}, []string{"backend", "sessionStores", "sessions"}},
		{"csrf.headerName", func(c *config.Config) { c.CSRF.HeaderName = "x-xsrf-token" },
			[]string{"backend", "sessionStores", "sessions", "rateLimit"}, []string{"csrf"}},
		{"rateLimit.maxRequests", func(c *config.Config) { c.RateLimit.MaxRequests = 50 },
			[]string{"backend", "sessionStores", "sessions", "csrf"}, []string{"rateLimit"}},
	}
	base := func(c *config.Config) {
		c.Metrics.Enabled = true
		c.CSRF = config.CSRF{Enabled: true, Secret: secCSRFSecret}
		c.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 100}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newReloadEnv(t, base)
			if err := e.reload(func(c *config.Config) { base(c); tt.edit(c) }); err != nil {
				t.Fatal(err)
			}
			kept := apilayer.Kept(e.srv.Gateway())
			for _, name := range tt.kept {
				if !slices.Contains(kept, name) {
					t.Errorf("%s was rebuilt, want it kept (kept: %v)", name, kept)
				}
			}
			for _, name := range tt.rebuilt {
				if slices.Contains(kept, name) {
					t.Errorf("%s was kept, want it rebuilt", name)
				}
			}
		})
	}
}

// A request in flight during a reload finishes on the Gateway it started
// on, which is closed only after it.
func TestReloadInFlightRequestFinishesOnTheOldGateway(t *testing.T) {
	e := newReloadEnv(t, nil)
	arrived, release := make(chan struct{}), make(chan struct{})
	e.upstream.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
		}
		w.Write([]byte("done"))
	}))
	slow := make(chan error, 1)
	go func() { // owned by this test: ends when release is closed
		res, err := e.client.Get(e.http.URL + "/slow")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || string(b) != "done" {
				err = errors.New(res.Status + " " + string(b))
			}
		}
		slow <- err
	}()
	<-arrived
	old := e.srv.Gateway()
	if err := e.reload(func(c *config.Config) { c.Access.ProtectedRoutes = []string{"/dashboard", "/admin"} }); err != nil {
		close(release)
		t.Fatal(err)
	}
	if res := e.get("/admin", ""); res.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("a new request got %d, want 307: the new config", res.StatusCode)
	}
	if apilayer.Closed(old) {
		t.Error("the old Gateway was closed with a request in flight")
	}
	close(release)
	if err := <-slow; err != nil {
		t.Errorf("the request in flight failed: %v", err)
	}
	apilayer.WaitDrained(e.srv)
	if !apilayer.Closed(old) {
		t.Error("the old Gateway was not closed after its last request")
	}
}

// An invalid file changes nothing: the running config stays, one log line
// lists every problem, the metric and /readyz say "error".
func TestReloadInvalidFileKeepsTheRunningConfig(t *testing.T) {
	e := newReloadEnv(t, func(c *config.Config) {
		c.Metrics.Enabled = true
		c.Admin.Listen = "127.0.0.1:0"
	})
	old := e.srv.Gateway()
	path := filepath.Join(t.TempDir(), "apilayer.yaml")
	broken := "backend:\n  url: ftp://nowhere\n  timeout: 10\naccess:\n  protectedRoutes: [/dashboard, /admin]\n"
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	err := e.srv.Reload(func() (*config.Config, error) { return config.Resolve(path) })
	if err == nil {
		t.Fatal("Reload of an invalid file succeeded")
	}
	if e.srv.Gateway() != old || apilayer.Closed(old) {
		t.Fatal("the running Gateway was replaced or closed")
	}
	if res := e.get("/admin", ""); res.StatusCode != http.StatusOK {
		t.Errorf("GET /admin = %d, want 200: the file's protected route is not in force", res.StatusCode)
	}
	failed := withMsg(jsonLines(t, e.log), "apilayer: reload failed, the running config stays")
	if len(failed) != 1 {
		t.Fatalf("%d 'reload failed' lines, want 1", len(failed))
	}
	errs, _ := failed[0]["errors"].([]any)
	if len(errs) != 2 || !strings.Contains(errs[0].(string), "backend.url") || !strings.Contains(errs[1].(string), "backend.timeout") {
		t.Errorf("the line lists %v, want both problems (backend.url, backend.timeout) with their lines", errs)
	}
	if failed[0]["level"] != "ERROR" {
		t.Errorf("level %v, want ERROR", failed[0]["level"])
	}

	admin := httptest.NewServer(e.srv.AdminHandler())
	defer admin.Close()
	body := getBody(t, admin.URL+"/metrics")
	if !strings.Contains(body, `apilayer_config_reloads_total{result="error"} 1`) {
		t.Errorf("metrics lack the failed reload:\n%s", grepLines(body, "apilayer_config_reloads"))
	}
	var ready struct {
		Reload struct{ Time, Result string } `json:"reload"`
	}
	if err := json.Unmarshal([]byte(getBody(t, admin.URL+"/readyz")), &ready); err != nil {
		t.Fatal(err)
	}
	if ready.Reload.Result != "error" || ready.Reload.Time == "" {
		t.Errorf("/readyz reload = %+v, want result error with a time", ready.Reload)
	}

	// A valid file after it is counted ok.
	if err := e.reload(func(c *config.Config) { c.Metrics.Enabled = true; c.Admin.Listen = "127.0.0.1:0" }); err != nil {
		t.Fatal(err)
	}
	if body := getBody(t, admin.URL+"/metrics"); !strings.Contains(body, `apilayer_config_reloads_total{result="ok"} 1`) {
		t.Errorf("metrics lack the reload:\n%s", grepLines(body, "apilayer_config_reloads"))
	}
}

// listen, admin.listen, server.* and log.* need a restart: a reload keeps
// their running values and names them in one warning.
func TestReloadRestartOnlySettings(t *testing.T) {
	e := newReloadEnv(t, func(c *config.Config) { c.Listen = "127.0.0.1:8080" })
	err := e.reload(func(c *config.Config) {
		c.Listen = "127.0.0.1:8081"
		c.Admin.Listen = "127.0.0.1:9090"
		c.Metrics.Enabled = true
		c.Log.Level = "debug"
		c.Access.ProtectedRoutes = []string{"/dashboard", "/admin"}
	})
	if err != nil {
		t.Fatal(err)
	}
	warn := withMsg(jsonLines(t, e.log), "apilayer: reload: these settings apply at the next restart; their running values stay")
	if len(warn) != 1 {
		t.Fatalf("%d restart warnings, want 1", len(warn))
	}
	if got := warn[0]["keys"]; !slices.Equal(toStrings(got), []string{"listen", "admin.listen", "log"}) {
		t.Errorf("keys %v, want [listen admin.listen log]", got)
	}
	// The rest is in force, and with no admin listener running, metrics
	// stay on the public listener.
	if res := e.get("/admin", ""); res.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("GET /admin = %d, want 307", res.StatusCode)
	}
	if body := getBody(t, e.http.URL+"/metrics"); !strings.Contains(body, "apilayer_build_info") {
		t.Errorf("/metrics on listen is not served: metrics moved to an admin listener that does not run")
	}
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, len(l))
	for i, x := range l {
		out[i], _ = x.(string)
	}
	return out
}

// getBody GETs url and returns the body of a 200.
func getBody(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A reload keeps the peer set (its pings and ownership) and the Redis
// connection while store.peers is unchanged; a change of store.peers
// rebuilds the peers and the session manager that relays to them, and
// keeps Redis and everything else built on it.
func TestReloadKeepsThePeers(t *testing.T) {
	rdb := testkit.StartRedis(t)
	self := httptest.NewUnstartedServer(nil)
	defer self.Close()
	me := "http://" + self.Listener.Addr().String()
	store := func(peers ...string) func(*config.Config) {
		return func(c *config.Config) {
			c.Store = config.Store{Driver: "redis", Redis: config.Redis{URL: rdb.URL(), Timeout: 2 * time.Second}}
			c.Store.Peers, c.Store.PeerSecret = peers, peerSecret
		}
	}
	e := newReloadEnv(t, store(me))
	if err := e.reload(func(c *config.Config) {
		store(me)(c)
		c.Access.PublicRoutes = []string{"/about"}
	}); err != nil {
		t.Fatal(err)
	}
	kept := apilayer.Kept(e.srv.Gateway())
	for _, name := range []string{"redis", "sessionStores", "peers", "sessions"} {
		if !slices.Contains(kept, name) {
			t.Errorf("route lists changed: %s was rebuilt, want it kept (kept: %v)", name, kept)
		}
	}
	if err := e.reload(store(me, "http://127.0.0.1:9")); err != nil {
		t.Fatal(err)
	}
	kept = apilayer.Kept(e.srv.Gateway())
	for _, name := range []string{"redis", "sessionStores", "backend"} {
		if !slices.Contains(kept, name) {
			t.Errorf("store.peers changed: %s was rebuilt, want it kept (kept: %v)", name, kept)
		}
	}
	for _, name := range []string{"peers", "sessions"} {
		if slices.Contains(kept, name) {
			t.Errorf("store.peers changed: %s was kept, want it rebuilt", name)
		}
	}
	if res := e.get("/dashboard", e.token("alice")); res.StatusCode != http.StatusOK {
		t.Errorf("GET /dashboard as alice after the reloads = %d, want 200", res.StatusCode)
	}
}
