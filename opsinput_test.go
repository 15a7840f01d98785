package apilayer_test

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// Bad operational input never stops a serving gateway: a reload with a
// broken file, a reload naming a missing certificate, a profile that
// cannot be written (a reload to an OTLP collector that cannot be reached:
// package tracing's tests). Each
// logs one clear line, and the gateway goes on serving.
func TestBadOperationalInputKeepsServing(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	tests := []struct {
		name string
		tls  bool
		// bad does the bad thing to s, whose admin listener is at admin.
		bad func(t *testing.T, s *apilayer.Server, c config.Config, admin string)
		// line is the message of the one line it must log.
		line string
	}{
		{"reload: broken file", false, func(t *testing.T, s *apilayer.Server, _ config.Config, _ string) {
			path := filepath.Join(t.TempDir(), "apilayer.yaml")
			os.WriteFile(path, []byte("backend: [not, a, mapping]\nlisten: {\n"), 0o600)
			if err := s.Reload(func() (*config.Config, error) { return config.Resolve(path) }); err == nil {
				t.Error("the reload succeeded")
			}
		}, "apilayer: reload failed, the running config stays"},
		{"reload: missing certificate", true, func(t *testing.T, s *apilayer.Server, c config.Config, _ string) {
			c.TLS.CertFile = filepath.Join(dir, "renewed.pem") // not there
			if err := s.Reload(func() (*config.Config, error) { return &c, nil }); err == nil {
				t.Error("the reload succeeded")
			}
		}, "apilayer: reload failed, the running config stays"},
		{"pprof: a profile that cannot be written", false, func(t *testing.T, s *apilayer.Server, _ config.Config, admin string) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/debug/pprof/profile?seconds=30", nil)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
				t.Error("the profile was answered before its client left")
			}
		}, "pprof: profile not sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs lockedBuffer
			c := config.Config{
				Backend:  config.Backend{URL: b.URL()},
				Upstream: config.Upstream{URL: up.URL()},
				Admin:    config.Admin{Listen: freeAddr(t), Pprof: true},
			}
			if tt.tls {
				c.TLS = config.TLS{CertFile: cert, KeyFile: key}
			}
			gw, err := apilayer.New(c, apilayer.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			if err != nil {
				t.Fatal(err)
			}
			s := apilayer.NewServer(gw)
			base := serveServer(t, s)
			scheme := "http://"
			client := &http.Client{}
			if tt.tls {
				scheme = "https://"
				client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // a self-signed test certificate
			}
			defer client.CloseIdleConnections()
			waitAnswer(t, "http://"+c.Admin.Listen+"/livez")
			get := func(what string) {
				t.Helper()
				for i := range 5 {
					res, err := client.Get(scheme + base + "/page")
					if err != nil {
						t.Fatalf("%s, request %d: %v", what, i, err)
					}
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						t.Fatalf("%s, request %d: %d, want 200", what, i, res.StatusCode)
					}
				}
			}
			get("before")
			tt.bad(t, s, c, c.Admin.Listen)
			get("after")
			if code, _ := fetch(t, "http://"+c.Admin.Listen+"/livez"); code != http.StatusOK {
				t.Errorf("/livez after = %d", code)
			}
			var lines []map[string]any
			deadline := time.Now().Add(10 * time.Second) // the pprof handler logs as it returns
			for len(lines) == 0 && time.Now().Before(deadline) {
				lines = withMsg(jsonLines(t, &logs), tt.line)
				time.Sleep(10 * time.Millisecond)
			}
			if len(lines) != 1 {
				t.Errorf("%d lines %q, want 1; log:\n%s", len(lines), tt.line, logText(&logs))
			}
		})
	}
}
