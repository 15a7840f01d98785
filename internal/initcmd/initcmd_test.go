package initcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/config"
)

// parse decodes, defaults and validates a rendered file with env as the
// environment, as "apilayer check" does.
func parse(t *testing.T, data []byte, env map[string]string) *config.Config {
	t.Helper()
	c, err := config.Parse("apilayer.yaml", data, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, data)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("validate: %v\n%s", err, data)
	}
	return c
}

// TestRenderEveryPreset renders every framework with and without guest
// tokens and i18n, and checks what the config package reads back.
func TestRenderEveryPreset(t *testing.T) {
	for _, p := range Presets {
		for _, extras := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/extras=%v", p.Key, extras), func(t *testing.T) {
				a := DefaultAnswers()
				a.Framework = p.Key
				a.BackendURL = "https://api.example.com/v1/"
				if extras {
					a.Guest = true
					a.I18n, a.Locales, a.DefaultLocale = true, []string{"en", "pt-BR"}, "pt-BR"
					a.ProtectedRoutes = []string{"/dashboard"}
				}
				out, err := Render(a)
				if err != nil {
					t.Fatal(err)
				}
				c := parse(t, out, map[string]string{DefaultGuestUserEnv: "guest", DefaultGuestPassEnv: "pw"})
				if c.Backend.Mapping != p.Mapping {
					t.Errorf("mapping = %+v, want %+v", c.Backend.Mapping, p.Mapping)
				}
				wantEP := p.Endpoints
				if c.Backend.Endpoints != wantEP {
					t.Errorf("endpoints = %+v, want %+v", c.Backend.Endpoints, wantEP)
				}
				spoof := c.API.MethodSpoofing
				if spoof.Enabled != (p.Spoofing != "") || (p.Spoofing != "" && spoof.Strategy != p.Spoofing) {
					t.Errorf("methodSpoofing = %+v, want strategy %q", spoof, p.Spoofing)
				}
				if c.Guest.Enabled != extras {
					t.Errorf("guest.enabled = %v, want %v", c.Guest.Enabled, extras)
				}
				if extras {
					want := map[string]any{"username": "guest", "password": "pw"}
					if !reflect.DeepEqual(c.Guest.Credentials, want) {
						t.Errorf("guest.credentials = %v, want %v", c.Guest.Credentials, want)
					}
					if !reflect.DeepEqual(c.I18n.Locales, a.Locales) || c.I18n.DefaultLocale != "pt-BR" {
						t.Errorf("i18n = %+v, want locales %v and default pt-BR", c.I18n, a.Locales)
					}
					if strings.Contains(string(out), "pw") {
						t.Error("the guest password is written into the file")
					}
				}
			})
		}
	}
}

// TestRenderLiteralValues: every answer is written so that the config
// loader reads back exactly what was typed: no YAML injection, no
// environment expansion (next-api-layer's CLI pasted answers unescaped).
func TestRenderLiteralValues(t *testing.T) {
	env := map[string]string{"HOME": "EXPANDED", "b": "EXPANDED"}
	tests := []struct {
		name  string
		edit  func(*Answers)
		check func(*config.Config) (got, want any)
	}{
		{"dollar in a route", func(a *Answers) { a.ProtectedRoutes = []string{"/a${b}", "/$HOME"} },
			func(c *config.Config) (any, any) { return c.Access.ProtectedRoutes, []string{"/a${b}", "/$HOME"} }},
		{"quotes", func(a *Answers) { a.AuthRoutes = []string{`/it's"x"`, `/"`} },
			func(c *config.Config) (any, any) { return c.Access.AuthRoutes, []string{`/it's"x"`, `/"`} }},
		{"flow characters", func(a *Answers) { a.ProtectedRoutes = []string{"/a],[b:{c}&*x"} },
			func(c *config.Config) (any, any) { return c.Access.ProtectedRoutes, []string{"/a],[b:{c}&*x"} }},
		{"backslash and unicode", func(a *Answers) { a.ProtectedRoutes = []string{`/ça\n`} },
			func(c *config.Config) (any, any) { return c.Access.ProtectedRoutes, []string{`/ça\n`} }},
		{"dollar in the backend URL", func(a *Answers) { a.BackendURL = "http://127.0.0.1:8000/${HOME}/api/" },
			func(c *config.Config) (any, any) { return c.Backend.URL, "http://127.0.0.1:8000/${HOME}/api/" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := DefaultAnswers()
			tt.edit(&a)
			out, err := Render(a)
			if err != nil {
				t.Fatal(err)
			}
			got, want := tt.check(parse(t, out, env))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read back %q, want %q\n%s", got, want, out)
			}
		})
	}
}

func TestRenderBackendFromEnv(t *testing.T) {
	out, err := Render(DefaultAnswers())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unset", nil, DefaultBackendURL},
		{"set", map[string]string{DefaultBackendEnv: "https://api.example.com/"}, "https://api.example.com/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := parse(t, out, tt.env).Backend.URL; got != tt.want {
				t.Errorf("backend.url = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAnswersCheck(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Answers)
		want string // "" = valid
	}{
		{"defaults", func(*Answers) {}, ""},
		{"unknown framework", func(a *Answers) { a.Framework = "cobol" }, `unknown framework "cobol"`},
		{"next-api-layer with body spoofing", func(a *Answers) { a.Framework, a.MethodSpoofing = NextAPILayer, "body" }, ""},
		{"unknown spoofing", func(a *Answers) { a.MethodSpoofing = "query" }, `method spoofing must be body or header (got "query")`},
		{"backend not http", func(a *Answers) { a.BackendURL = "ftp://x/" }, "not an http or https URL"},
		{"backend with query", func(a *Answers) { a.BackendURL = "http://x/?a=1" }, "must not have a query"},
		{"i18n without locales", func(a *Answers) { a.I18n = true }, "i18n needs at least one locale"},
		{"default locale not listed", func(a *Answers) { a.I18n, a.Locales, a.DefaultLocale = true, []string{"en"}, "tr" }, "must be one of the locales"},
		{"bad locale", func(a *Answers) { a.I18n, a.Locales, a.DefaultLocale = true, []string{"e n"}, "e n" }, "not a language tag"},
		{"guest env name", func(a *Answers) { a.Guest, a.GuestPassEnv = true, "GUEST-PASS" }, "not an environment variable name"},
		{"route without slash", func(a *Answers) { a.ProtectedRoutes = []string{"dashboard"} }, "not a path starting with /"},
		{"route with query", func(a *Answers) { a.AuthRoutes = []string{"/login?x"} }, "not a path starting with /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := DefaultAnswers()
			tt.edit(&a)
			err := a.Check()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Check() = %v, want an error containing %q", err, tt.want)
			}
			if _, rerr := Render(a); (rerr == nil) != (tt.want == "") {
				t.Errorf("Render error = %v, want one iff Check fails", rerr)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"spaces and empty items", " /a, ,/b ,", []string{"/a", "/b"}},
		{"duplicates", "/a,/a,/b", []string{"/a", "/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitList(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitList(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestRunCancelled: a context done while a question waits for its answer
// (Ctrl-C) ends Run with ErrCanceled, and no file is written.
func TestRunCancelled(t *testing.T) {
	dir := t.TempDir()
	inR, inW := io.Pipe()
	defer inW.Close()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { // owned by this test: ends when Run returns
		done <- Run(ctx, Options{In: inR, Out: outW, Path: filepath.Join(dir, "apilayer.yaml")})
		outW.Close()
	}()
	// Wait for the first question, then cancel as Ctrl-C would.
	buf := make([]byte, 1)
	var seen strings.Builder
	for !strings.HasSuffix(seen.String(), "Migrating from next-api-layer (the backend keeps the answers it gives today)? (y/N): ") {
		if _, err := outR.Read(buf); err != nil {
			t.Fatalf("reading the questions: %v", err)
		}
		seen.Write(buf)
	}
	cancel()
	go io.Copy(io.Discard, outR) // owned by this test: ends when outW closes
	if err := <-done; !errors.Is(err, ErrCanceled) {
		t.Fatalf("Run = %v, want ErrCanceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the folder holds %d entries after a cancelled run", len(entries))
	}
}

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name      string
		existing  bool
		overwrite bool
		cancelled bool
		wantErr   error
		want      string
	}{
		{"new file", false, false, false, nil, "new"},
		{"existing, no overwrite", true, false, false, ErrExists, "old"},
		{"existing, overwrite", true, true, false, nil, "new"},
		{"cancelled before the rename", false, false, true, ErrCanceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "apilayer.yaml")
			if tt.existing {
				if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tt.cancelled {
				cancel()
			}
			defer cancel()
			err := writeFile(ctx, path, []byte("new"), tt.overwrite)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("writeFile = %v, want %v", err, tt.wantErr)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("file holds %q, want %q", got, tt.want)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "apilayer.yaml" {
					t.Errorf("left behind: %s", e.Name())
				}
			}
		})
	}
}
