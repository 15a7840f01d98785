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
	// A change that moves each path away from its default. Every path still
	// listed in Unimplemented must have one; rows of features that have
	// landed stay here harmlessly.
	changes := map[string]func(c *Config){
		"validate.mode":               func(c *Config) { c.Validation.Mode = "local"; c.Validation.Local.Secret = "s" },
		"validate.revalidateInterval": func(c *Config) { c.Validation.RevalidateInterval = time.Minute },
		"validate.local":              func(c *Config) { c.Validation.Local.Issuer = "https://idp" },
		"cookies.refresh":             func(c *Config) { c.Cookies.Refresh = "rt" },
		"refresh.proactive":           func(c *Config) { c.Refresh.Proactive = true },
		"refresh.proactiveWindow":     func(c *Config) { c.Refresh.ProactiveWindow = time.Minute },
		"refresh.successorTTL":        func(c *Config) { c.Refresh.SuccessorTTL = Ptr(time.Duration(0)) },
		"access.rules":                func(c *Config) { c.Access.Rules = []Rule{{Path: "/a", Roles: []string{"x"}}} },
		"rateLimit.enabled":           func(c *Config) { c.RateLimit.Enabled = true },
		"audit.enabled":               func(c *Config) { c.Audit.Enabled = true },
		"i18n.enabled":                func(c *Config) { c.I18n.Enabled = true; c.I18n.Locales = []string{"en"}; c.I18n.DefaultLocale = "en" },
		"store.driver":                func(c *Config) { c.Store.Driver = "redis" },
		"metrics.enabled":             func(c *Config) { c.Metrics.Enabled = true },
		"identity.sign":               func(c *Config) { c.Identity.Sign = true },
	}
	for _, path := range Unimplemented {
		t.Run(path, func(t *testing.T) {
			change, ok := changes[path]
			if !ok {
				t.Fatalf("no test change for the unimplemented path %q: add one", path)
			}
			c := validConfig()
			change(c)
			got := errorLines(t, c.Validate())
			if !slices.Contains(got, path+": not implemented yet") {
				t.Errorf("errors = %q, want %q among them", got, path+": not implemented yet")
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
