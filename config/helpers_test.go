package config

import (
	"errors"
	"reflect"
	"testing"
)

// lookupEnv is an environment for Parse in tests.
func lookupEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// errorLines returns the lines of a *Errors (nil for a nil error).
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %T is not *Errors: %v", err, err)
	}
	lines := make([]string, len(errs.List))
	for i, e := range errs.List {
		lines[i] = e.Error()
	}
	return lines
}

// mustParse parses a config the test expects to be valid YAML.
func mustParse(t *testing.T, data string) *Config {
	t.Helper()
	c, err := Parse("c.yaml", []byte(data), lookupEnv(nil))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// canon returns a copy of c fit for comparison: no source, and empty lists
// and mappings as nil (YAML cannot tell them apart where no default exists).
func canon(c *Config) *Config {
	cp := c.clone()
	cp.src = nil
	canonValue(reflect.ValueOf(cp).Elem())
	return cp
}

func canonValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			canonValue(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				canonValue(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := range v.Len() {
			canonValue(v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
	}
}

// validConfig is the smallest valid Config built in code.
func validConfig() *Config {
	return &Config{Backend: Backend{URL: "http://127.0.0.1:8000/api/"}}
}
