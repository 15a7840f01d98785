package backend

import (
	"reflect"
	"testing"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/jsonpointer"
)

// A Client built with empty Endpoints and Mapping (a library user's zero
// Options) calls the same endpoints and reads the same pointers as the
// gateway's defaults of backend.endpoints and backend.mapping. config's
// TestDefaultsMatchComponents holds the exported defaults.
func TestDefaultsMatchConfig(t *testing.T) {
	var cfg config.Config
	cfg.Defaults()
	c, err := New(Options{URL: "http://backend.test/api/"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.ep != cfg.Backend.Endpoints {
		t.Errorf("endpoints %+v, backend.endpoints defaults %+v", c.ep, cfg.Backend.Endpoints)
	}
	m := cfg.Backend.Mapping
	for _, tt := range []struct {
		key    string
		client jsonpointer.Pointer
		config string
	}{
		{"backend.mapping.success", c.m.success, m.Success},
		{"backend.mapping.user", c.m.user, m.User},
		{"backend.mapping.tokenType", c.m.tokenType, m.TokenType},
		{"backend.mapping.expiresAt", c.m.expiresAt, m.ExpiresAt},
		{"backend.mapping.accessToken", c.m.accessToken, m.AccessToken},
		{"backend.mapping.refreshToken", c.m.refreshToken, m.RefreshToken},
		{"backend.mapping.errorCode", c.m.errorCode, m.ErrorCode},
	} {
		want, err := jsonpointer.Parse(tt.config)
		if err != nil {
			t.Fatalf("%s: %v", tt.key, err)
		}
		if !reflect.DeepEqual(tt.client, want) {
			t.Errorf("%s: client reads %q, config default %q", tt.key, tt.client, tt.config)
		}
	}
}
