package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/initcmd"
	"github.com/apilayer/apilayer/internal/testkit"
)

// expecter drives a command the way expect(1) does: it waits for a prompt
// on the command's output, then types the answer, and keeps a transcript of
// both (the answers appear as a terminal would echo them).
type expecter struct {
	t          *testing.T
	out        *bufio.Reader
	in         io.WriteCloser
	transcript strings.Builder
	echoed     bool // a terminal echoes the answers into the output
}

// expect reads the output until it ends with s.
func (e *expecter) expect(s string) {
	e.t.Helper()
	var seen strings.Builder
	for !strings.HasSuffix(seen.String(), s) {
		b, err := e.out.ReadByte()
		if err != nil {
			e.t.Fatalf("waiting for %q: %v; the output so far:\n%s%s", s, err, e.transcript.String(), seen.String())
		}
		seen.WriteByte(b)
	}
	e.transcript.WriteString(seen.String())
}

// send types one answer and Enter.
func (e *expecter) send(answer string) {
	e.t.Helper()
	if !e.echoed {
		e.transcript.WriteString(answer + "\n")
	}
	if _, err := io.WriteString(e.in, answer+"\n"); err != nil {
		e.t.Fatalf("typing %q: %v", answer, err)
	}
}

// rest reads the output to its end.
func (e *expecter) rest() {
	e.t.Helper()
	b, err := io.ReadAll(e.out)
	if err != nil {
		e.t.Fatal(err)
	}
	e.transcript.Write(b)
}

// startInit runs "apilayer init args..." in-process with piped stdin and
// stdout. wait returns its exit code and stderr once it has ended.
func startInit(t *testing.T, args ...string) (e *expecter, wait func() (int, string)) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { // owned by this test: ends when runInit returns
		code := runInit(args, inR, outW, &stderr)
		outW.Close()
		done <- code
	}()
	e = &expecter{t: t, out: bufio.NewReader(outR), in: inW}
	t.Cleanup(func() { inW.Close() })
	return e, func() (int, string) {
		e.rest()
		code := <-done
		inW.Close()
		return code, stderr.String()
	}
}

// dialogue is one question and the answer typed to it.
type dialogue struct{ prompt, answer string }

// TestInitTranscript answers "apilayer init" like a user at a terminal, keeps
// the transcript and the YAML it wrote as golden files (testdata/init_*),
// and runs "apilayer check" on the YAML.
func TestInitTranscript(t *testing.T) {
	t.Setenv("API_BASE_URL", "")
	tests := []struct {
		name   string
		dialog []dialogue
		// env are the variables the file reads without a default: check
		// names them while they are unset.
		env []string
		// wantResolved are lines the resolved config of "apilayer check" must hold.
		wantResolved []string
	}{
		{
			name: "laravel_i18n_guest",
			dialog: []dialogue{
				{"(y/N): ", "n"}, // not migrating
				{"Select (1-8) [7]: ", "1"},
				{"): ", ""}, // backend URL: from $API_BASE_URL
				{"[http://127.0.0.1:3000]: ", "http://127.0.0.1:3000"},
				{"(y/N): ", "y"}, // i18n
				{"[en]: ", "en, tr"},
				{"Default locale [en]: ", "tr"},
				{"(y/N): ", "yes"}, // guest
				{"[APILAYER_GUEST_USERNAME]: ", ""},
				{"[APILAYER_GUEST_PASSWORD]: ", "SHOP_GUEST_PASSWORD"},
				{"/dashboard,/account): ", "/dashboard, /account"},
				{"[/login,/register]: ", ""},
			},
			env: []string{"APILAYER_GUEST_USERNAME", "SHOP_GUEST_PASSWORD"},
			wantResolved: []string{
				"url: http://127.0.0.1:8000/api/",
				"accessToken: /access_token",
				"protectedRoutes: [/dashboard, /account]",
				"authRoutes: [/login, /register]",
				"methodSpoofing:\n    enabled: true\n    strategy: body",
				"locales: [en, tr]",
				"defaultLocale: tr",
				"password: <redacted>",
			},
		},
		{
			name: "django_wrong_answers_asked_again",
			dialog: []dialogue{
				{"(y/N): ", ""}, // not migrating
				{"Select (1-8) [7]: ", "9"},
				{"Select (1-8) [7]: ", "django"},
				{"Select (1-8) [7]: ", "3"},
				{"): ", "ftp://backend.internal/api/"},
				{"): ", "https://backend.internal/api/"},
				{"[http://127.0.0.1:3000]: ", ""},
				{"(y/N): ", "maybe"},
				{"(y/N): ", "n"}, // i18n
				{"(y/N): ", ""},  // guest
				{"/dashboard,/account): ", "dashboard"},
				{"/dashboard,/account): ", "/dashboard"},
				{"[/login,/register]: ", "/signin"},
			},
			wantResolved: []string{
				"url: https://backend.internal/api/",
				"validate: auth/me/",
				"accessToken: /access",
				"refreshToken: /refresh",
				"authRoutes: [/signin]",
				"i18n:\n  enabled: false",
				"guest:\n  enabled: false",
			},
		},
		{
			name: "rails_header_spoofing",
			dialog: []dialogue{
				{"(y/N): ", "no"}, // not migrating
				{"Select (1-8) [7]: ", "2"},
				{"): ", "http://127.0.0.1:3001/"},
				{"[http://127.0.0.1:3000]: ", ""},
				{"(y/N): ", ""},
				{"(y/N): ", ""},
				{"/dashboard,/account): ", ""},
				{"[/login,/register]: ", ""},
			},
			wantResolved: []string{
				"methodSpoofing:\n    enabled: true\n    strategy: header",
				"user: /user",
				"protectedRoutes: []",
			},
		},
		{
			// Migrating: the next-api-layer preset is the default.
			name: "migrating_next_api_layer",
			dialog: []dialogue{
				{"(y/N): ", "y"}, // migrating
				{"Select (1-8) [8]: ", ""},
				{"(y/N): ", "y"}, // method spoofing
				{"): ", ""},
				{"[http://127.0.0.1:3000]: ", ""},
				{"(y/N): ", "n"}, // i18n
				{"(y/N): ", "y"}, // guest
				{"[APILAYER_GUEST_USERNAME]: ", ""},
				{"[APILAYER_GUEST_PASSWORD]: ", ""},
				{"/dashboard,/account): ", "/dashboard"},
				{"[/login,/register]: ", "/login"},
			},
			env: []string{"APILAYER_GUEST_USERNAME", "APILAYER_GUEST_PASSWORD"},
			wantResolved: []string{
				"validate: auth/me",
				"guest: auth/guest",
				"login: auth/login",
				"user: /data",
				"accessToken: /data/accessToken",
				"refreshToken: /data/refreshToken",
				"methodSpoofing:\n    enabled: true\n    strategy: body",
			},
		},
		{
			// Migrating, but "1) Laravel" out of habit: the shape of the
			// Laravel preset is not next-api-layer's, and init says so.
			name: "migrating_laravel_habit",
			dialog: []dialogue{
				{"(y/N): ", "yes"}, // migrating
				{"Select (1-8) [8]: ", "1"},
				{"Use the Laravel (PHP) answers anyway? (y/N): ", ""},
				{"): ", "http://127.0.0.1:8000/api/"},
				{"[http://127.0.0.1:3000]: ", ""},
				{"(y/N): ", ""}, // i18n
				{"(y/N): ", ""}, // guest
				{"/dashboard,/account): ", "/dashboard"},
				{"[/login,/register]: ", ""},
			},
			wantResolved: []string{
				"accessToken: /data/accessToken",
				"methodSpoofing:\n    enabled: true\n    strategy: body",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "apilayer.yaml")
			e, wait := startInit(t, "--out", path)
			for _, d := range tt.dialog {
				e.expect(d.prompt)
				e.send(d.answer)
			}
			code, stderr := wait()
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s\ntranscript:\n%s", code, stderr, e.transcript.String())
			}
			transcript := strings.ReplaceAll(e.transcript.String(), path, "apilayer.yaml")
			golden(t, "init_"+tt.name+"_transcript", transcript)
			written, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "init_"+tt.name+".yaml", string(written))

			for _, k := range tt.env {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			if len(tt.env) > 0 {
				r := runCmd("check", "--config", path)
				for _, k := range tt.env {
					if want := "environment variable " + k + " is not set"; r.code != 1 || !strings.Contains(r.stderr, want) {
						t.Errorf("check with %s unset: exit %d, want 1 and %q:\n%s", k, r.code, want, r.stderr)
					}
				}
				for _, k := range tt.env {
					t.Setenv(k, "value-of-"+k)
				}
			}
			r := runCmd("check", "--config", path)
			if r.code != 0 {
				t.Fatalf("apilayer check: exit %d\n%s", r.code, r.stderr)
			}
			for _, want := range tt.wantResolved {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("the resolved config lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}

func TestInitYes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apilayer.yaml")
	r := runInitCmd(t, "", "--yes", "--out", path)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "Created "+path) {
		t.Errorf("stdout lacks the Created line:\n%s", r.stdout)
	}
	c, err := config.Resolve(path)
	if err != nil {
		t.Fatalf("the --yes config does not resolve: %v", err)
	}
	if c.Guest.Enabled || c.I18n.Enabled || len(c.Access.ProtectedRoutes) != 0 {
		t.Errorf("--yes enabled something beyond the defaults: guest %v, i18n %v, protected %v",
			c.Guest.Enabled, c.I18n.Enabled, c.Access.ProtectedRoutes)
	}
	if got := strings.Join(c.Access.AuthRoutes, ","); got != "/login,/register" {
		t.Errorf("authRoutes = %s, want /login,/register", got)
	}
}

// runInitCmd runs init with stdin as its whole input.
func runInitCmd(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runInit(args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func TestInitNeverClobbers(t *testing.T) {
	const original = "listen: \":9999\"\n"
	tests := []struct {
		name        string
		args        []string
		stdin       string
		code        int
		wantStderr  string
		overwritten bool
	}{
		{"yes without force", []string{"--yes"}, "", 1, "already exists; use --force to overwrite it", false},
		{"declined at the prompt", nil, "n\n", 1, "Setup cancelled; nothing was written.", false},
		{"empty answer is no", nil, "\n", 1, "Setup cancelled; nothing was written.", false},
		{"input ends at the prompt", nil, "", 1, "Setup cancelled; nothing was written.", false},
		{"confirmed at the prompt", nil, "y\nn\n7\n\n\n\n\n\n\n", 0, "", true},
		{"force", []string{"--yes", "--force"}, "", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "apilayer.yaml")
			if err := os.WriteFile(path, []byte(original), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runInitCmd(t, tt.stdin, append(tt.args, "--out", path)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.wantStderr)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if overwritten := string(got) != original; overwritten != tt.overwritten {
				t.Errorf("overwritten = %v, want %v", overwritten, tt.overwritten)
			}
			assertOnlyFile(t, dir, "apilayer.yaml")
		})
	}
}

// TestInitCancelledMidway ends the input after a few answers, as a closed
// terminal or a Ctrl-D does: nothing is written, not even a temporary file.
func TestInitCancelledMidway(t *testing.T) {
	for _, answered := range []int{0, 1, 4, 7} {
		answers := []string{"n", "1", "", "", "y", "en", "en", "y", "", "", "/dashboard"}
		t.Run(strings.Join(answers[:answered], ","), func(t *testing.T) {
			dir := t.TempDir()
			stdin := strings.Join(answers[:answered], "\n")
			if answered > 0 {
				stdin += "\n"
			}
			r := runInitCmd(t, stdin, "--out", filepath.Join(dir, "apilayer.yaml"))
			if r.code != 1 || !strings.Contains(r.stderr, "Setup cancelled; nothing was written.") {
				t.Errorf("exit %d, stderr %q; want 1 and the cancel message", r.code, r.stderr)
			}
			assertOnlyFile(t, dir)
		})
	}
}

func TestInitFlags(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"unknown flag", []string{"--nope"}, "flag provided but not defined: -nope"},
		{"stray argument", []string{"now"}, `unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runInitCmd(t, "", tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.wantStderr)
			}
		})
	}
}

// assertOnlyFile fails unless dir holds exactly the files names.
func assertOnlyFile(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

// TestInitMigratingFitsANextAPILayerBackend: the file init writes for a
// migration from next-api-layer, with every default answer, fits a backend
// built for next-api-layer (the demo backend answers its shape): the probe
// mints a guest, logs in and validates with it, and finds no problem.
func TestInitMigratingFitsANextAPILayerBackend(t *testing.T) {
	backend := testkit.NewBackend(t, demo.BackendOptions{})
	t.Setenv("APILAYER_CONFIG", "")
	t.Setenv("APILAYER_PROBE_LOGIN", "alice:"+demo.AlicePassword)
	t.Setenv("API_BASE_URL", backend.URL())
	t.Setenv(initcmd.DefaultGuestUserEnv, demo.GuestUsername)
	t.Setenv(initcmd.DefaultGuestPassEnv, demo.GuestPassword)
	path := filepath.Join(t.TempDir(), "apilayer.yaml")
	// migrating, the default preset, no spoofing, the default URLs, no
	// i18n, guests with the default variables, /dashboard, /login.
	r := runInitCmd(t, "y\n\nn\n\n\nn\ny\n\n\n/dashboard\n/login\n", "--out", path)
	if r.code != 0 {
		t.Fatalf("init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The guide's step 2 goes on after init (cookie names, role rules, the
	// App Router keys): the summary must not send the user past it.
	for _, want := range []string{"docs/migrating-from-next-api-layer.md", "apilayer check --probe", "step 2"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the summary lacks %q:\n%s", want, r.stdout)
		}
	}
	c := runCmd("check", "--config", path, "--probe")
	if c.code != 0 || !strings.Contains(c.stdout, "probe: no problem") {
		t.Fatalf("check --probe: exit %d\n%s\n%s", c.code, c.stdout, c.stderr)
	}
	for _, want := range []string{"login as \"alice\"", "guest token: POST auth/guest"} {
		if !strings.Contains(c.stdout, want) {
			t.Errorf("the probe report lacks %q:\n%s", want, c.stdout)
		}
	}
}
