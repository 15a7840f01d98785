package config

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestUnimplementedPathsExist(t *testing.T) {
	for _, p := range Unimplemented {
		if _, ok := lookup(reflect.ValueOf(&Config{}).Elem(), p); !ok {
			t.Errorf("Unimplemented lists %q, which is not a config path", p)
		}
	}
}

func TestUnimplemented(t *testing.T) {
	tests := []struct {
		path   string
		change func(c *Config)
	}{
		{"validate.revalidateInterval", func(c *Config) { c.Validation.RevalidateInterval = time.Minute }},
		{"validate.local", func(c *Config) { c.Validation.Local.Issuer = "https://idp" }},
		{"cookies.refresh", func(c *Config) { c.Cookies.Refresh = "rt" }},
		{"refresh.proactive", func(c *Config) { c.Refresh.Proactive = true }},
		{"refresh.proactiveWindow", func(c *Config) { c.Refresh.ProactiveWindow = time.Minute }},
		{"refresh.successorTTL", func(c *Config) { c.Refresh.SuccessorTTL = Ptr(time.Duration(0)) }},
		{"access.rules", func(c *Config) { c.Access.Rules = []Rule{{Path: "/a", Roles: []string{"x"}}} }},
		{"csrf.enabled", func(c *Config) { c.CSRF.Enabled = true }},
		{"rateLimit.enabled", func(c *Config) { c.RateLimit.Enabled = true }},
		{"audit.enabled", func(c *Config) { c.Audit.Enabled = true }},
		{"cors.allowedOrigins", func(c *Config) { c.CORS.AllowedOrigins = []string{"https://app.example.com"} }},
		{"metrics.enabled", func(c *Config) { c.Metrics.Enabled = true }},
		{"api.sanitize.enabled", func(c *Config) { c.API.Sanitize.Enabled = true }},
		{"api.methodSpoofing.enabled", func(c *Config) { c.API.MethodSpoofing.Enabled = true }},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			got := errorLines(t, c.Validate())
			if want := []string{tt.path + ": not implemented yet"}; !slices.Equal(got, want) {
				t.Errorf("errors = %q, want %q", got, want)
			}
		})
	}
}

func TestUnimplementedDefaultsPass(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
	}{
		{"the default, explicit", func(c *Config) {
			c.Validation.Mode = "backend"
			c.Refresh.SuccessorTTL = Ptr(30 * time.Second)
			c.Refresh.ProactiveWindow = 2 * time.Minute
			c.Store.Driver = "memory"
		}},
		{"empty lists", func(c *Config) {
			c.Access.Rules = []Rule{}
			c.CORS.AllowedOrigins = []string{}
		}},
		{"a disabled feature's settings", func(c *Config) { c.CSRF.Strategy = "double-submit" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestUnimplementedListIsReadAtValidate(t *testing.T) {
	saved := Unimplemented
	t.Cleanup(func() { Unimplemented = saved })
	c := validConfig()
	c.Metrics.Enabled = true
	Unimplemented = []string{"metrics.enabled"}
	if err := c.Validate(); err == nil {
		t.Fatal("metrics.enabled accepted while listed")
	}
	Unimplemented = nil
	if err := c.Validate(); err != nil {
		t.Fatalf("metrics.enabled rejected once delisted: %v", err)
	}
}
