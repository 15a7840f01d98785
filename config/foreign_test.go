package config

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// keyType returns the type of the key at the dotted YAML path, or false
// when Config has no such key.
func keyType(path string) (reflect.Type, bool) {
	t := reflect.TypeFor[Config]()
	for _, name := range strings.Split(path, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		fs := yamlFields(t)
		i, ok := fs.index[name]
		if !ok {
			return nil, false
		}
		t = t.Field(i).Type
	}
	return t, true
}

var (
	dottedPath = regexp.MustCompile(`\b[a-zA-Z]+(\.[a-zA-Z]+)+\b`)
	seedName   = regexp.MustCompile(`next-api-layer's \S+`)
)

// TestNextAPILayerHints: every hinted path is not an apilayer key (else the
// hint never shows), and every key a hint names exists.
func TestNextAPILayerHints(t *testing.T) {
	for path, hint := range nextAPILayerHints {
		if _, ok := keyType(path); ok {
			t.Errorf("%s is an apilayer key: its hint %q never shows", path, hint)
		}
		if parent, _, nested := strings.Cut(path, "."); nested {
			if _, ok := keyType(parent); !ok {
				t.Errorf("%s: its section %s is not an apilayer key, so the section is reported instead", path, parent)
			}
		}
		if hint == "" {
			t.Errorf("%s: empty hint", path)
		}
		named := seedName.ReplaceAllString(hint, "") // next-api-layer's own name is not an apilayer key
		for _, target := range dottedPath.FindAllString(named, -1) {
			if strings.HasSuffix(target, ".md") {
				continue
			}
			if _, ok := keyType(target); !ok {
				t.Errorf("%s: the hint %q names %s, which is not an apilayer key", path, hint, target)
			}
		}
	}
	for _, name := range []string{"backend.url", "access.protectedRoutes", "validate.local.secret", "nope", "backend.nope"} {
		_, ok := keyType(name)
		if want := !strings.Contains(name, "nope"); ok != want {
			t.Errorf("keyType(%s) = %v, want %v", name, ok, want)
		}
	}
}

func TestNextAPILayerHintsInErrors(t *testing.T) {
	yaml := "apiBaseUrl: http://b/\nprotectedRoutes: [/dashboard]\nprotectedRoute: [/x]\nbeforeAuth: x\n" +
		"validate:\n  secret: s\n  cacheTtl: 2s\nrateLimit:\n  windowMs: 60000\n"
	_, err := Parse("c.yaml", []byte(yaml), lookupEnv(nil))
	want := []string{
		"c.yaml:1: apiBaseUrl: unknown key (did you mean backend.url?)",
		"c.yaml:2: protectedRoutes: unknown key (did you mean access.protectedRoutes?)",
		"c.yaml:3: protectedRoute: unknown key",
		"c.yaml:4: beforeAuth: unknown key (next-api-layer's beforeAuth is code: YAML has none, see docs/migrating-from-next-api-layer.md)",
		"c.yaml:6: validate.secret: unknown key (did you mean validate.local.secret?)",
		"c.yaml:7: validate.cacheTtl: unknown key (did you mean cacheTTL?)",
		"c.yaml:9: rateLimit.windowMs: unknown key (did you mean rateLimit.window?)",
	}
	got := errorLines(t, err)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
