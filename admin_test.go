package apilayer_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// freeAddr returns a loopback address no one listens on (for an
// admin.listen, which Serve opens itself).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serveServer runs s.Serve on a loopback listener until the test ends and
// returns its address.
func serveServer(t *testing.T, s *apilayer.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		s.Close()
	})
	return ln.Addr().String()
}

// waitAnswer polls url until it answers (a listener Serve opens), for at
// most 10 s.
func waitAnswer(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer: %v", url, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fetch GETs url and returns the status and body.
func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// With admin.listen the probes, the metrics, the JWKS and (admin.pprof) the
// profiles are on the admin listener, and the metrics leave the public one.
func TestAdminListener(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	for _, pprof := range []bool{false, true} {
		adminAddr := freeAddr(t)
		gw, err := apilayer.New(config.Config{
			Backend:  config.Backend{URL: b.URL()},
			Upstream: config.Upstream{URL: up.URL()},
			Metrics:  config.Metrics{Enabled: true},
			Identity: config.Identity{Sign: true},
			Admin:    config.Admin{Listen: adminAddr, Pprof: pprof},
		})
		if err != nil {
			t.Fatal(err)
		}
		public := "http://" + serveServer(t, apilayer.NewServer(gw))
		admin := "http://" + adminAddr
		waitAnswer(t, admin+"/livez")

		if code, body := fetch(t, admin+"/livez"); code != http.StatusOK || !strings.Contains(body, `"status":"live"`) {
			t.Errorf("/livez = %d %s", code, body)
		}
		if code, body := fetch(t, admin+"/readyz"); code != http.StatusOK || !strings.Contains(body, `"status":"ready"`) {
			t.Errorf("/readyz = %d %s", code, body)
		}
		if code, body := fetch(t, admin+"/metrics"); code != http.StatusOK || !strings.Contains(body, "apilayer_build_info") {
			t.Errorf("admin /metrics = %d, want the metrics", code)
		}
		if _, body := fetch(t, public+"/metrics"); strings.Contains(body, "apilayer_build_info") {
			t.Error("the public listener still serves the metrics")
		}
		if up.Last().Path != "/metrics" {
			t.Error("/metrics on the public listener did not go to the web app")
		}
		if code, body := fetch(t, admin+"/_apilayer/jwks.json"); code != http.StatusOK || !strings.Contains(body, `"keys"`) {
			t.Errorf("admin JWKS = %d %s", code, body)
		}
		if code, _ := fetch(t, public+"/_apilayer/jwks.json"); code != http.StatusOK {
			t.Errorf("public JWKS = %d, want 200: web apps fetch it there", code)
		}
		code, body := fetch(t, admin+"/debug/pprof/heap?debug=1")
		if pprof && (code != http.StatusOK || !strings.Contains(body, "heap profile")) {
			t.Errorf("pprof on: /debug/pprof/heap = %d", code)
		}
		if !pprof && code != http.StatusNotFound {
			t.Errorf("pprof off: /debug/pprof/heap = %d, want 404", code)
		}
		if code, _ := fetch(t, public+"/debug/pprof/heap?debug=1"); up.Last().Path != "/debug/pprof/heap" || code != http.StatusOK {
			t.Error("/debug/pprof/ on the public listener is not the web app's")
		}
		if code, _ := fetch(t, admin+"/"); code != http.StatusNotFound {
			t.Errorf("admin / = %d, want 404", code)
		}
	}
}

// readyz returns the answer of /readyz.
func readyz(t *testing.T, s *apilayer.Server) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("/readyz body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, m
}

// /readyz is 503 with the reason when the backend cannot be reached: no
// answer to the probe, or the validate endpoint's breaker open.
func TestReadyzBackend(t *testing.T) {
	up := testkit.NewUpstream(t)
	dead := "http://" + freeAddr(t) + "/api/"
	gw, err := apilayer.New(config.Config{
		Backend:  config.Backend{URL: dead, Breaker: config.Breaker{Failures: 1, OpenFor: 30 * time.Second}},
		Upstream: config.Upstream{URL: up.URL()},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := apilayer.NewServer(gw)
	defer s.Close()
	code, m := readyz(t, s)
	if code != http.StatusServiceUnavailable || m["status"] != "not ready" || !strings.Contains(m["reason"].(string), "backend: unreachable") {
		t.Errorf("/readyz with the backend down = %d %v, want 503 backend: unreachable", code, m)
	}
	// A request whose token cannot be validated opens the breaker (one
	// failure).
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: "userAuthToken", Value: "a-token"})
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	code, m = readyz(t, s)
	if code != http.StatusServiceUnavailable || !strings.Contains(m["reason"].(string), "circuit breaker of the validate endpoint is open") {
		t.Errorf("/readyz with the breaker open = %d %v", code, m)
	}
}

// With store.driver redis, /readyz follows Redis.
func TestReadyzRedis(t *testing.T) {
	r := testkit.StartRedis(t)
	b := testkit.NewBackend(t, demo.BackendOptions{})
	gw, err := apilayer.New(config.Config{
		Backend: config.Backend{URL: b.URL()},
		Store:   config.Store{Driver: "redis", Redis: config.Redis{URL: r.URL()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := apilayer.NewServer(gw)
	defer s.Close()
	if code, m := readyz(t, s); code != http.StatusOK || m["store"] != "ok" {
		t.Fatalf("/readyz with Redis up = %d %v", code, m)
	}
	r.Stop()
	code, m := readyz(t, s)
	if code != http.StatusServiceUnavailable || m["store"] != "unavailable" || !strings.Contains(m["reason"].(string), "store: redis") {
		t.Errorf("/readyz with Redis down = %d %v, want 503 with the store's reason", code, m)
	}
	if m["backend"] != "ok" {
		t.Errorf("backend %v, want ok: only Redis is down", m["backend"])
	}
}

// A reload reads the TLS certificate again: new handshakes present the
// renewed one. A reload naming a missing certificate fails and the served
// one stays.
func TestServeTLSReloadsTheCertificate(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	certA, keyA := selfSigned(t, dirA)
	certB, keyB := selfSigned(t, dirB)
	cfg := func(cert, key string) config.Config {
		return config.Config{
			TLS:      config.TLS{CertFile: cert, KeyFile: key},
			Backend:  config.Backend{URL: b.URL()},
			Upstream: config.Upstream{URL: up.URL()},
		}
	}
	gw, err := apilayer.New(cfg(certA, keyA))
	if err != nil {
		t.Fatal(err)
	}
	s := apilayer.NewServer(gw)
	addr := serveServer(t, s)
	served := func() []byte {
		t.Helper()
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) // the test compares the certificate itself
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Raw
	}
	der := func(file string) []byte {
		b, _ := os.ReadFile(file)
		p, _ := pem.Decode(b)
		return p.Bytes
	}
	if !bytes.Equal(served(), der(certA)) {
		t.Fatal("the first certificate is not served")
	}
	next := cfg(certB, keyB)
	if err := s.Reload(func() (*config.Config, error) { return &next, nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served(), der(certB)) {
		t.Error("after the reload, the renewed certificate is not served")
	}
	os.Remove(certA)
	gone := cfg(certA, keyA)
	if err := s.Reload(func() (*config.Config, error) { return &gone, nil }); err == nil || !strings.Contains(err.Error(), "tls.certFile") {
		t.Errorf("Reload with a missing certificate = %v, want an error naming tls.certFile", err)
	}
	if !bytes.Equal(served(), der(certB)) {
		t.Error("after a failed reload, the served certificate changed")
	}
}

// After a reload with a request in flight, the shutdown and Server.Close
// leave no goroutine of either Gateway, of the admin listener or of the
// drain.
func TestServerCloseLeavesNoGoroutine(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	before := goleak.IgnoreCurrent()
	arrived, release := make(chan struct{}), make(chan struct{})
	up.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
	}))
	c := config.Config{
		Backend:   config.Backend{URL: b.URL()},
		Upstream:  config.Upstream{URL: up.URL()},
		Metrics:   config.Metrics{Enabled: true},
		RateLimit: config.RateLimit{Enabled: true},
		Admin:     config.Admin{Listen: freeAddr(t), Pprof: true},
	}
	gw, err := apilayer.New(c)
	if err != nil {
		t.Fatal(err)
	}
	s := apilayer.NewServer(gw)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	waitAnswer(t, "http://"+c.Admin.Listen+"/livez")
	client := &http.Client{}
	inflight := make(chan struct{})
	go func() { // ends when release is closed
		defer close(inflight)
		if res, err := client.Get("http://" + ln.Addr().String() + "/slow"); err == nil {
			res.Body.Close()
		}
	}()
	<-arrived
	c.Access.ProtectedRoutes = []string{"/admin"}
	c.RateLimit.MaxRequests = 50
	if err := s.Reload(func() (*config.Config, error) { return &c, nil }); err != nil {
		t.Fatal(err)
	}
	close(release)
	<-inflight
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	client.CloseIdleConnections()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, before)
}
