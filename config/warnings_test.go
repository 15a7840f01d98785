package config

import (
	"strings"
	"testing"
)

// A web app that routes in any letter case serves /Dashboard as
// /dashboard: with case-sensitive route lists and nothing protected by
// default, that path would pass unprotected.
func TestWarningCaseInsensitive(t *testing.T) {
	const key = "access.caseInsensitive: "
	for _, tc := range []struct {
		name                string
		byDefault, caseFold bool
		want                bool
	}{
		{"both false", false, false, true},
		{"protected by default", true, false, false},
		{"case-insensitive", false, true, false},
		{"both", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			c.Access.ProtectedByDefault, c.Access.CaseInsensitive = tc.byDefault, tc.caseFold
			c.Defaults()
			var got []string
			for _, w := range c.Warnings() {
				if strings.HasPrefix(w, key) {
					got = append(got, w)
				}
			}
			if (len(got) == 1) != tc.want || len(got) > 1 {
				t.Fatalf("warnings %q, want one starting with %q: %v", got, key, tc.want)
			}
			if tc.want && (strings.Contains(got[0], "\n") || !strings.Contains(got[0], "/Dashboard")) {
				t.Errorf("warning %q: want one line that names /Dashboard", got[0])
			}
		})
	}
}

// identity.sign without identity.keyFile: a key generated at each start.
func TestWarningIdentityKey(t *testing.T) {
	const key = "identity.keyFile: "
	for _, tc := range []struct {
		name    string
		sign    bool
		keyFile string
		want    bool
	}{
		{"sign without a key file", true, "", true},
		{"sign with a key file", true, "testdata/files/identity.pem", false},
		{"not signing", false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			c.Identity.Sign, c.Identity.KeyFile = tc.sign, tc.keyFile
			c.Defaults()
			n := 0
			for _, w := range c.Warnings() {
				if strings.HasPrefix(w, key) {
					n++
				}
			}
			if (n == 1) != tc.want || n > 1 {
				t.Errorf("%d warnings starting with %q, want one: %v", n, key, tc.want)
			}
		})
	}
}

// authz.enabled without clientIP.trustedProxies: every sub-request would
// be refused.
func TestWarningAuthzWithoutTrustedProxies(t *testing.T) {
	const key = "authz.enabled: "
	for _, tc := range []struct {
		name    string
		enabled bool
		trusted []string
		want    bool
	}{
		{"on, nobody trusted", true, nil, true},
		{"on, a proxy trusted", true, []string{"10.0.0.0/8"}, false},
		{"off", false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			c.Authz.Enabled, c.ClientIP.TrustedProxies = tc.enabled, tc.trusted
			c.Defaults()
			var got []string
			for _, w := range c.Warnings() {
				if strings.HasPrefix(w, key) {
					got = append(got, w)
				}
			}
			if (len(got) == 1) != tc.want || len(got) > 1 {
				t.Fatalf("warnings %q, want one starting with %q: %v", got, key, tc.want)
			}
			if tc.want && !strings.Contains(got[0], "clientIP.trustedProxies") {
				t.Errorf("warning %q does not name clientIP.trustedProxies", got[0])
			}
		})
	}
}

// metrics.enabled without admin.listen serves the metrics to anyone who
// reaches the gateway.
func TestWarningPublicMetrics(t *testing.T) {
	const key = "metrics.enabled: "
	for _, tc := range []struct {
		name    string
		metrics bool
		admin   string
		want    bool
	}{
		{"metrics on the public listener", true, "", true},
		{"metrics on the admin listener", true, "127.0.0.1:9090", false},
		{"no metrics", false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			c.Metrics.Enabled, c.Admin.Listen = tc.metrics, tc.admin
			c.Defaults()
			var got []string
			for _, w := range c.Warnings() {
				if strings.HasPrefix(w, key) {
					got = append(got, w)
				}
			}
			if (len(got) == 1) != tc.want || len(got) > 1 {
				t.Fatalf("warnings %q, want one starting with %q: %v", got, key, tc.want)
			}
			if tc.want && !strings.Contains(got[0], "admin.listen") {
				t.Errorf("warning %q does not name admin.listen", got[0])
			}
		})
	}
}
