package docgen

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/config"
)

const (
	configDir = "../../config"
	reference = "../../docs/configuration.md"
)

// TestReferenceIsCurrent regenerates the reference in memory and fails when
// the committed docs/configuration.md differs.
func TestReferenceIsCurrent(t *testing.T) {
	got, err := ConfigReference(configDir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(reference)
	if err != nil {
		t.Fatalf("%v (run go generate ./internal/docgen)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go generate ./internal/docgen and commit it", reference)
	}
}

// yamlPaths lists every YAML key of t, the way Keys names them.
func yamlPaths(t reflect.Type, prefix string) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		out = append(out, p)
		ft := f.Type
		switch {
		case ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath():
			out = append(out, yamlPaths(ft, p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, yamlPaths(ft.Elem(), p+"[]")...)
		}
	}
	return out
}

// TestEveryKeyDocumented: every key of config.Config (found by reflection,
// independently of the source parsing) is in the reference with a type and
// a description, and every note names a real key.
func TestEveryKeyDocumented(t *testing.T) {
	keys, err := Keys(configDir)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]Key{}
	for _, k := range keys {
		byPath[k.Path] = k
	}
	paths := yamlPaths(reflect.TypeFor[config.Config](), "")
	if len(paths) < 150 {
		t.Fatalf("found only %d keys by reflection", len(paths))
	}
	for _, p := range paths {
		k, ok := byPath[p]
		switch {
		case !ok:
			t.Errorf("%s: missing from the reference", p)
		case k.Section:
			if k.Doc == "" && description(k) == "" {
				t.Errorf("%s: a section without documentation", p)
			}
		case k.Type == "value":
			t.Errorf("%s: unknown type", p)
		case description(k) == "":
			t.Errorf("%s: no description (comment the field in config.go or add a note in notes.go)", p)
		}
	}
	if len(keys) != len(paths) {
		t.Errorf("the reference has %d keys, reflection finds %d", len(keys), len(paths))
	}
	for p := range notes {
		if _, ok := byPath[p]; !ok {
			t.Errorf("notes.go describes %s, which is not a key", p)
		}
	}
}

func TestDefaults(t *testing.T) {
	keys, err := Keys(configDir)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]Key{}
	for _, k := range keys {
		byPath[k.Path] = k
	}
	tests := []struct{ path, typ, def string }{
		{"listen", "string", `:8080`},
		{"validate.cacheTTL", "duration", "2s"},
		{"cookies.maxAge", "duration", "168h"},
		{"api.maxBodySize", "size", "10MiB"},
		{"refresh.singleFlight", "bool", "true"},
		{"refresh.reuseStatusCodes", "list of integers", "[409]"},
		{"csrf.ignoreMethods", "list of strings", "[GET, HEAD, OPTIONS]"},
		{"access.protectedRoutes", "list of strings", "[]"},
		{"guest.credentials", "mapping", "{}"},
		{"access.rules[].rolesField", "string", ""},
		{"store.redis.keyPrefix", "string", "'apilayer:'"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			k, ok := byPath[tt.path]
			if !ok {
				t.Fatalf("%s is not in the reference", tt.path)
			}
			if k.Type != tt.typ || k.Default != tt.def {
				t.Errorf("%s: type %q default %q, want %q %q", tt.path, k.Type, k.Default, tt.typ, tt.def)
			}
		})
	}
}

func TestStripDefault(t *testing.T) {
	for in, want := range map[string]string{
		"default [cf-connecting-ip, true-client-ip, x-real-ip, x-forwarded-for]": "",
		"default [GET, HEAD, OPTIONS]; methods never checked":                    "Methods never checked",
		"default [a, b] (then more)":                                             "Then more",
		"default {a: 1, b: 2}":                                                   "",
		"default 5s":                                                             "",
		"default 5s (capped by exp)":                                             "Capped by exp",
		"default json; or text":                                                  "Or text",
		"CIDRs or addresses":                                                     "CIDRs or addresses",
		"default [unclosed list":                                                 "List",
	} {
		if got := stripDefault(in); got != want {
			t.Errorf("stripDefault(%q) = %q, want %q", in, got, want)
		}
	}
}
