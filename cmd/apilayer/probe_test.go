package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/initcmd"
	"github.com/apilayer/apilayer/internal/testkit"
)

// preset returns the backend.mapping of an init preset.
func preset(t *testing.T, key string) config.Mapping {
	t.Helper()
	p, ok := initcmd.PresetByKey(key)
	if !ok {
		t.Fatalf("no preset %s", key)
	}
	return p.Mapping
}

// probeConfig writes a config for the backend at url with the mapping m,
// guest tokens on.
func probeConfig(t *testing.T, name, url string, m config.Mapping, extra string) string {
	t.Helper()
	body := fmt.Sprintf(`listen: 127.0.0.1:0
backend:
  url: %s
  timeout: 5s
  mapping:
    success: %q
    user: %q
    tokenType: %q
    expiresAt: %q
    accessToken: %q
    refreshToken: %q
    errorCode: %q
guest:
  enabled: true
  credentials:
    username: guest
    password: "${APILAYER_PROBE_TEST_GUEST_PASSWORD}"
%s`, url, m.Success, m.User, m.TokenType, m.ExpiresAt, m.AccessToken, m.RefreshToken, m.ErrorCode, extra)
	path := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckProbe runs "apilayer check --probe" against the demo backend
// (next-api-layer's answer shape) with a preset that fits it and one that
// does not.
func TestCheckProbe(t *testing.T) {
	t.Setenv("APILAYER_CONFIG", "")
	t.Setenv("APILAYER_PROBE_LOGIN", "")
	t.Setenv("APILAYER_PROBE_TEST_GUEST_PASSWORD", demo.GuestPassword)
	backend := testkit.NewBackend(t, demo.BackendOptions{})
	right := probeConfig(t, "right", backend.URL(), preset(t, "other"), "")
	wrong := probeConfig(t, "laravel", backend.URL(), preset(t, "laravel"), "")
	noRefresh := preset(t, "other")
	noRefresh.RefreshToken = "/refresh_token"
	dual := probeConfig(t, "dual", backend.URL(), noRefresh, "cookies:\n  refresh: userRefreshToken\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String() + "/api/"
	ln.Close() // nothing listens there now
	unreachable := probeConfig(t, "unreachable", closedURL, preset(t, "other"), "")

	login := "alice:" + demo.AlicePassword
	tests := []struct {
		name string
		args []string
		env  string // APILAYER_PROBE_LOGIN
		code int
	}{
		{"right_preset", []string{"--config", right, "--probe", "--probe-login", login}, "", 0},
		{"right_preset_login_from_env", []string{"--config", right, "--probe"}, login, 0},
		{"right_preset_no_login", []string{"--config", right, "--probe"}, "", 0},
		{"dual_token_without_refresh_token", []string{"--config", dual, "--probe-login", login}, "", 1},
		{"laravel_preset", []string{"--config", wrong, "--probe", "--probe-login", login}, "", 1},
		{"wrong_password", []string{"--config", right, "--probe", "--probe-login", "alice:not-the-password"}, "", 1},
		{"json_login", []string{"--config", right, "--probe", "--probe-login", `{"email":"alice@example.com","password":"` + demo.AlicePassword + `"}`}, "", 0},
		{"unreachable", []string{"--config", unreachable, "--probe"}, "", 1},
	}
	reports := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("APILAYER_PROBE_LOGIN", tt.env)
			backend.ResetCalls()
			args := append([]string{"check"}, tt.args...)
			r := runCmd(args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			// The usual check first: the resolved config, then the report.
			yaml, report, ok := strings.Cut(r.stdout, "\nprobe: backend ")
			if !ok || !strings.Contains(yaml, "backend:\n") {
				t.Fatalf("stdout is not the resolved config and then the report:\n%s", r.stdout)
			}
			report = "probe: backend " + report

			// No secret is printed: not the passwords, not one token the
			// backend issued (the probe sent each back as a Bearer).
			secrets := []string{demo.AlicePassword, demo.GuestPassword, "not-the-password"}
			for _, rec := range backend.Requests() {
				if tok, ok := strings.CutPrefix(rec.Header.Get("Authorization"), "Bearer "); ok {
					secrets = append(secrets, tok)
				}
			}
			for _, s := range secrets {
				if strings.Contains(r.stdout+r.stderr, s) {
					t.Errorf("the output contains the secret %q", s)
				}
			}
			report = strings.ReplaceAll(report, backend.URL(), "http://BACKEND/api/")
			report = strings.ReplaceAll(report, closedURL, "http://CLOSED/api/")
			report = strings.ReplaceAll(report, ln.Addr().String(), "CLOSED")
			reports[tt.name] = report
			golden(t, "probe_"+tt.name, report)
		})
	}
	if reports["right_preset"] != reports["right_preset_login_from_env"] {
		t.Errorf("the login from $APILAYER_PROBE_LOGIN gave another report:\n%s\nthan --probe-login:\n%s",
			reports["right_preset_login_from_env"], reports["right_preset"])
	}
}
