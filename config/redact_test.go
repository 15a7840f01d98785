package config

import (
	"strings"
	"testing"
)

func TestRedacted(t *testing.T) {
	secrets := []string{
		"csrf-secret-1", "csrf-old-2", "hmac-secret-3", "webhook-secret-4", "guest-pass-5",
		"guest-user-6", "redis-pass-7", "backend-pass-8", "jwks-pass-9", "audit-pass-10", "upstream-token-11",
		"peer-secret-12-at-least-32-characters", "peer-pass-13",
	}
	c := validConfig()
	c.CSRF.Secret = "csrf-secret-1"
	c.CSRF.PreviousSecrets = []string{"csrf-old-2"}
	c.Validation.Local.Secret = "hmac-secret-3"
	c.Audit.WebhookSecret = "webhook-secret-4"
	c.Guest.Credentials = map[string]any{"password": "guest-pass-5", "user": map[string]any{"name": "guest-user-6"}}
	c.Store.Redis.URL = "redis://:redis-pass-7@redis:6379/0"
	c.Backend.URL = "https://svc:backend-pass-8@api.example.com/"
	c.Validation.Local.JWKSURL = "https://k:jwks-pass-9@idp.example.com/jwks"
	c.Audit.Output = "https://hook:audit-pass-10@audit.example.com/"
	c.Upstream.URL = "https://upstream-token-11@app.example.com/"
	c.Store.PeerSecret = "peer-secret-12-at-least-32-characters"
	c.Store.Peers = []string{"http://u:peer-pass-13@10.0.0.1:8080"}
	c.Defaults()
	original := c.clone()

	r := c.Redacted()
	out, err := r.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(out), s) {
			t.Errorf("redacted YAML contains %q:\n%s", s, out)
		}
	}
	for _, want := range []string{
		"secret: <redacted>", "previousSecrets: [<redacted>]", "webhookSecret: <redacted>",
		"password: <redacted>", "user: <redacted>",
		"url: redis://:<redacted>@redis:6379/0", "url: https://svc:<redacted>@api.example.com/",
		"jwksURL: https://k:<redacted>@idp.example.com/jwks", "output: https://hook:<redacted>@audit.example.com/",
		"url: https://<redacted>@app.example.com/", "peerSecret: <redacted>",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("redacted YAML lacks %q:\n%s", want, out)
		}
	}
	if r.Cookies.User != "userAuthToken" || r.Store.Redis.KeyPrefix != "apilayer:" {
		t.Errorf("Redacted changed non-secrets")
	}
	// A deep copy: the original keeps its secrets.
	if c.CSRF.Secret != "csrf-secret-1" || c.CSRF.PreviousSecrets[0] != "csrf-old-2" || c.Guest.Credentials["password"] != "guest-pass-5" {
		t.Errorf("Redacted changed the original")
	}
	if !equalConfigs(c, original) {
		t.Errorf("Redacted changed the original")
	}
}

// Slack- and Discord-style webhooks carry their secret in the path and
// query of audit.output.
func TestRedactedWebhookPath(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX", "https://hooks.slack.com/<redacted>"},
		{"https://audit.example.com/ingest?token=secret-t", "https://audit.example.com/<redacted>"},
		{"https://audit.example.com/", "https://audit.example.com/"},
		{"https://u:p@audit.example.com/k/secret-k", "https://u:<redacted>@audit.example.com/<redacted>"},
		{"stdout", "stdout"},
		{"file:/var/log/apilayer/audit.log", "file:/var/log/apilayer/audit.log"},
	} {
		c := validConfig()
		c.Audit.Output = tt.in
		if got := c.Redacted().Audit.Output; got != tt.want {
			t.Errorf("audit.output %q redacted as %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactedLeavesUnsetSecretsEmpty(t *testing.T) {
	c := validConfig()
	c.Defaults()
	r := c.Redacted()
	if r.CSRF.Secret != "" || r.Validation.Local.Secret != "" || r.Audit.WebhookSecret != "" {
		t.Errorf("unset secrets became %q %q %q", r.CSRF.Secret, r.Validation.Local.Secret, r.Audit.WebhookSecret)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://example.com/a", "http://example.com/a"},
		{"redis://:pw@host:6379/0", "redis://:<redacted>@host:6379/0"},
		{"redis://user:pw@host/", "redis://user:<redacted>@host/"},
		{"https://token@host/", "https://<redacted>@host/"},
		{"http://u:p w@[bad/", "http://<redacted>@[bad/"},
		{"not a url but@secret", "not a url but@secret"},
		{"%zz@x", "<redacted>"},
		{"redis://s1:26379/0?master_name=m&password=pw&addr=s2:26379", "redis://s1:26379/0?master_name=m&password=<redacted>&addr=s2:26379"},
		{"redis://:spw@s1:26379/0?sentinel_password=x&Password=pw", "redis://:<redacted>@s1:26379/0?sentinel_password=<redacted>&Password=<redacted>"},
		{"redis://s1/0?pass%77ord=pw", "redis://s1/0?pass%77ord=<redacted>"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := redactURL(tt.in); got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
