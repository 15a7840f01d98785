package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// TestHealthcheck runs "apilayer healthcheck" against a real gateway
// serving on loopback, its URL given or derived from the gateway's config.
func TestHealthcheck(t *testing.T) {
	t.Setenv("APILAYER_CONFIG", "")
	backend := testkit.NewBackend(t, demo.BackendOptions{})
	upstream := testkit.NewUpstream(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "gateway.yaml")
	body := fmt.Sprintf("listen: :%s\nhealth:\n  path: /custom/health\nbackend:\n  url: %s\nupstream:\n  url: %s\n",
		port, backend.URL(), upstream.URL())
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Resolve(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := apilayer.New(*cfg, apilayer.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ctx, ln) }() // owned by this test: ends at cancel
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		gw.Close()
	})

	cwd := filepath.Join(dir, "cwd")
	if err := os.Mkdir(cwd, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cwd, "apilayer.yaml"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("listen: :1\nbackend:\n  timout: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
	}))
	defer down.Close()

	const healthy = "200 {\"status\":\"ok\",\"backend\":\"ok\",\"store\":\"memory\",\"backendEndpoints\":{\"guest\":\"closed\",\"login\":\"closed\",\"logout\":\"closed\",\"refresh\":\"closed\",\"register\":\"closed\",\"validate\":\"closed\"}}\n"
	tests := []struct {
		name   string
		cwd    string
		env    string
		args   []string
		code   int
		stdout string
		stderr string // substring of the one stderr line
	}{
		{"url", "", "", []string{"--url", "http://" + ln.Addr().String() + "/custom/health"}, 0, healthy, ""},
		{"config gives listen and health.path", "", "", []string{"--config", cfgPath}, 0, healthy, ""},
		{"APILAYER_CONFIG", "", cfgPath, nil, 0, healthy, ""},
		{"./apilayer.yaml", cwd, "", nil, 0, healthy, ""},
		{"url beats config", "", "", []string{"--config", bad, "--url", "http://" + ln.Addr().String() + "/custom/health"}, 0, healthy, ""},
		{"503", "", "", []string{"--url", down.URL + "/h"}, 1, "", "apilayer healthcheck: GET " + down.URL + "/h: 503 Service Unavailable: not ready"},
		{"invalid config", "", "", []string{"--config", bad}, 1, "", "bad.yaml:2: backend.url: required; " + bad + ":3: backend.timout: unknown key (did you mean timeout?)\n"},
		{"missing config", "", "", []string{"--config", filepath.Join(dir, "nope.yaml")}, 1, "", "nope.yaml: no such file"},
		{"extra argument", "", "", []string{"now"}, 2, "", `unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cwd != "" {
				t.Chdir(tt.cwd)
			}
			t.Setenv("APILAYER_CONFIG", tt.env)
			r := runCmd(append([]string{"healthcheck"}, tt.args...)...)
			if r.code != tt.code || r.stdout != tt.stdout {
				t.Errorf("exit %d, stdout %q; want %d, %q (stderr %q)", r.code, r.stdout, tt.code, tt.stdout, r.stderr)
			}
			if tt.stderr == "" {
				if r.stderr != "" {
					t.Errorf("stderr = %q, want it empty", r.stderr)
				}
				return
			}
			if !strings.Contains(r.stderr, tt.stderr) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line containing %q", r.stderr, tt.stderr)
			}
		})
	}
}
