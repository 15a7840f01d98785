package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, and that a config that parses
// and validates prints (YAML) to a config that parses back to the same
// Config.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/check/*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("backend: {url: http://b/}\nguest: {credentials: {a: &x [1, 2.5, true, ~], b: *x}}\n"))
	f.Add([]byte("backend: &b {url: http://b/}\nupstream: {<<: *b}\n"))
	f.Add([]byte("backend: {url: 'http://b/${X:-y}$$'}\n"))
	env := lookupEnv(map[string]string{"X": "1", "APILAYER_TEST_GUEST_PASSWORD": "p$w"})

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data, env)
		if err != nil {
			if _, ok := err.(*Errors); !ok {
				t.Fatalf("Parse error is %T, not *Errors: %v", err, err)
			}
			return
		}
		c.Defaults()
		if c.Validate() != nil {
			return
		}
		out, err := c.YAML()
		if err != nil {
			t.Fatalf("YAML of a valid config: %v", err)
		}
		back, err := Parse("out.yaml", out, env)
		if err != nil {
			t.Fatalf("Parse of YAML output: %v\n%s", err, out)
		}
		back.Defaults()
		if !equalConfigs(c, back) {
			t.Fatalf("round trip changed the config\nbefore %+v\nafter  %+v\nYAML:\n%s", canon(c), canon(back), out)
		}
	})
}
