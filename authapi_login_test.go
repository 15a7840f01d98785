package apilayer_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
)

// A login the backend answered 2xx but whose token or user is not where
// backend.mapping points (a preset for another answer shape) is refused with
// 502, and one log line says which pointer was read and which keys the
// answer had, never a value.
func TestAuthAPILoginLogsTheMappingItMissed(t *testing.T) {
	tests := []struct {
		name    string
		mapping config.Mapping
		want    []string
	}{
		{
			name:    "token elsewhere (jwt-auth's pointer against a {success, data} answer)",
			mapping: config.Mapping{AccessToken: "/access_token", RefreshToken: "/refresh_token"},
			want: []string{`msg="backend answered login with a 2xx but no token at backend.mapping.accessToken"`,
				`pointer=/access_token`, `keys="/data /data/email /data/exp /data/id`, `/success"`},
		},
		{
			name:    "user elsewhere",
			mapping: config.Mapping{User: "/user"},
			want: []string{`msg="backend answered login with a 2xx but no user object at backend.mapping.user"`,
				`pointer=/user`, `keys="/data /data/email`},
		},
		{name: "the default mapping matches the demo backend: nothing logged", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &lockedBuffer{}
			e := newEnvWith(t, setup{
				edit: func(c *config.Config) { c.Backend.Mapping = tt.mapping },
				opts: []apilayer.Option{apilayer.WithLogger(slog.New(slog.NewTextHandler(log, nil)))},
			})
			res := e.post("/api/auth/login", aliceLogin, nil)
			out := logText(log)
			if tt.want == nil {
				wantStatus(t, res, http.StatusOK)
				if strings.Contains(out, "backend.mapping") {
					t.Errorf("a good login logged a mapping problem:\n%s", out)
				}
				return
			}
			wantStatus(t, res, http.StatusBadGateway)
			wantNoSetCookie(t, res)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("the log lacks %s:\n%s", w, out)
				}
			}
			// Names only: no token, no user field value.
			for _, secret := range []string{"eyJ", "rt_", "alice@example.com", "Alice"} {
				if strings.Contains(out, secret) {
					t.Errorf("the log carries %q:\n%s", secret, out)
				}
			}
		})
	}
}
