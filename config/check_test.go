package config

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/check")

// Secret values the golden configs read from the environment. No output
// may contain them.
var testSecrets = map[string]string{
	"APILAYER_TEST_BACKEND_PASSWORD": "backend-password-value",
	"APILAYER_TEST_GUEST_PASSWORD":   "guest-password-value",
	"APILAYER_TEST_CSRF_SECRET":      "csrf-secret-value",
}

// literalSecrets are secrets written in the golden configs themselves.
var literalSecrets = []string{
	"old-csrf-secret-value", "audit-webhook-secret-value", "redis-password-value", "otlp-password-value",
	"local-hmac-secret-value", "hunter2-redis", "peer-secret-value-of-at-least-32-characters",
}

func TestCheckGolden(t *testing.T) {
	for k, v := range testSecrets {
		t.Setenv(k, v)
	}
	for _, k := range []string{"APILAYER_TEST_UNSET", "APILAYER_TEST_UNSET_TIMEOUT", "APILAYER_TEST_UNSET_URL", "APILAYER_TEST_UNSET_USER", "APILAYER_TEST_UNSET_SECRET"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}

	files, err := filepath.Glob("testdata/check/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "testdata/check/missing-file.yaml")
	wantCode := map[string]int{
		"minimal": 0, "full": 0, "env": 0, "warnings": 0, "env_unset": 1, "next_api_layer": 1,
		"empty": 1, "unknown_key": 1, "missing_backend_url": 1, "bad_duration": 1,
		"many_errors": 1, "syntax_error": 1, "missing-file": 1,
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			want, known := wantCode[name]
			if !known {
				t.Fatalf("add %s to wantCode", name)
			}
			var out bytes.Buffer
			code := Check(f, &out, &out)
			if code != want {
				t.Errorf("Check(%s) = %d, want %d; output:\n%s", f, code, want, out.String())
			}
			got := fmt.Sprintf("%s# exit %d\n", out.String(), code)
			for _, s := range append(literalSecrets, values(testSecrets)...) {
				if strings.Contains(got, s) {
					t.Errorf("output contains the secret %q:\n%s", s, got)
				}
			}
			golden := filepath.Join("testdata/check", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantOut, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./config -update)", err)
			}
			if got != string(wantOut) {
				t.Errorf("Check(%s) output differs from %s (run go test ./config -update and review the diff)\ngot:\n%s\nwant:\n%s", f, golden, got, wantOut)
			}
		})
	}
}

// TestCheckOutputReloads checks that what check prints for a valid config
// is itself a valid config that resolves to the same thing. (A redacted URL
// password does not parse back, so full.yaml is left to TestYAMLRoundTrip.)
func TestCheckOutputReloads(t *testing.T) {
	for k, v := range testSecrets {
		t.Setenv(k, v)
	}
	for _, name := range []string{"minimal", "env"} {
		t.Run(name, func(t *testing.T) {
			// Warnings go to stderr; the resolved config alone to stdout.
			var first, warn bytes.Buffer
			if code := Check("testdata/check/"+name+".yaml", &first, &warn); code != 0 {
				t.Fatalf("Check = %d:\n%s%s", code, warn.String(), first.String())
			}
			path := filepath.Join(t.TempDir(), "resolved.yaml")
			if err := os.WriteFile(path, first.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			var second bytes.Buffer
			warn.Reset()
			if code := Check(path, &second, &warn); code != 0 {
				t.Fatalf("Check of the resolved output = %d:\n%s%s", code, warn.String(), second.String())
			}
			if first.String() != second.String() {
				t.Errorf("resolving twice changed the output\nfirst:\n%s\nsecond:\n%s", first.String(), second.String())
			}
		})
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
