package config

import (
	"os"
	"reflect"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func equalConfigs(a, b *Config) bool { return reflect.DeepEqual(canon(a), canon(b)) }

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {2 * time.Second, "2s"}, {time.Minute, "1m"}, {90 * time.Second, "1m30s"},
		{168 * time.Hour, "168h"}, {90 * time.Minute, "1h30m"}, {time.Hour + time.Second, "1h0m1s"},
		{100 * time.Millisecond, "100ms"}, {-time.Minute, "-1m"}, {10 * time.Minute, "10m"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := formatDuration(tt.d)
			if got != tt.want {
				t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
			}
			if back, err := time.ParseDuration(got); err != nil || back != tt.d {
				t.Errorf("ParseDuration(%q) = %v, %v", got, back, err)
			}
		})
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		str  string
	}{
		{"1024", 1024, "1KiB"}, {"512KiB", 512 * KiB, "512KiB"}, {"10MiB", 10 * MiB, "10MiB"},
		{"1MB", 1000000, "1000000"}, {"1GiB", GiB, "1GiB"}, {"1KB", 1000, "1000"}, {"2 mib", 2 * MiB, "2MiB"},
		{"7B", 7, "7"}, {"0", 0, "0"}, {"1536", 1536, "1536"}, {"1TiB", 1024 * GiB, "1024GiB"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if err != nil || got != tt.want || got.String() != tt.str {
				t.Errorf("ParseSize(%q) = %d (%s), %v; want %d (%s)", tt.in, got, got, err, tt.want, tt.str)
			}
		})
	}
	for _, bad := range []string{"", "MiB", "1.5MiB", "10XB", "-", "9999999999TiB", "+1"} {
		t.Run("bad "+bad, func(t *testing.T) {
			if _, err := ParseSize(bad); err == nil {
				t.Errorf("ParseSize(%q) accepted", bad)
			}
		})
	}
}

// TestSizeAndSecureYAML checks the yaml (un)marshalling of Size and Secure
// when they are used outside Parse.
func TestSizeAndSecureYAML(t *testing.T) {
	type doc struct {
		S  Size   `yaml:"s"`
		N  Size   `yaml:"num"`
		A  Secure `yaml:"a"`
		B  Secure `yaml:"b"`
		Bs Secure `yaml:"bs"`
	}
	var d doc
	if err := yaml.Unmarshal([]byte("s: 10MiB\nnum: 123\na: auto\nb: true\nbs: \"false\"\n"), &d); err != nil {
		t.Fatal(err)
	}
	if want := (doc{10 * MiB, 123, SecureAuto, SecureAlways, SecureNever}); d != want {
		t.Errorf("decoded %+v, want %+v", d, want)
	}
	out, err := yaml.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := "s: 10MiB\nnum: 123\na: auto\nb: true\nbs: false\n"; string(out) != want {
		t.Errorf("encoded %q, want %q", out, want)
	}
	if err := yaml.Unmarshal([]byte("s: huge\n"), &d); err == nil {
		t.Errorf("bad size accepted")
	}
	if err := yaml.Unmarshal([]byte("a: maybe\n"), &d); err == nil {
		t.Errorf("bad secure accepted")
	}
}

// TestYAMLRoundTrip checks that YAML prints a Config that Parse reads back
// to the same Config.
func TestYAMLRoundTrip(t *testing.T) {
	full, err := os.ReadFile("testdata/check/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := Parse("full.yaml", full, lookupEnv(map[string]string{
		"APILAYER_TEST_BACKEND_PASSWORD": "pw$1", "APILAYER_TEST_GUEST_PASSWORD": "pw$2", "APILAYER_TEST_CSRF_SECRET": "${pw3}",
	}))
	if err != nil {
		t.Fatal(err)
	}
	tricky := validConfig()
	tricky.CSRF.Secret = "a$b${HOME}$$"
	tricky.Cookies.Domain = "true"
	tricky.Cookies.Secure = SecureNever
	tricky.Access.ProtectedRoutes = []string{"/a: b", "/#x", "/[y]"}
	tricky.Guest.Credentials = map[string]any{"<<": "merge", "n": 1, "f": 2.0, "big": uint64(1 << 63), "list": []any{"x", true, nil}, "m": map[string]any{"k": "$v"}}
	tricky.Validation.CacheTTL = Ptr(time.Duration(0))
	tricky.API.MaxBodySize = 1500

	for name, c := range map[string]*Config{"full.yaml": fromFile, "tricky": tricky, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			c.Defaults()
			out, err := c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse("out.yaml", out, lookupEnv(nil))
			if err != nil {
				t.Fatalf("Parse of YAML output: %v\n%s", err, out)
			}
			back.Defaults()
			if !equalConfigs(c, back) {
				t.Errorf("round trip changed the config:\nbefore %+v\nafter  %+v\nYAML:\n%s", canon(c), canon(back), out)
			}
		})
	}
}
