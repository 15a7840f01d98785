package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/internal/version"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// envSecrets are read by testdata/valid.yaml from the environment.
var envSecrets = map[string]string{
	"APILAYER_CMDTEST_BACKEND_PASSWORD": "backend-password-env-value",
	"APILAYER_CMDTEST_GUEST_PASSWORD":   "guest-password-env-value",
}

// literalSecrets are written in testdata/valid.yaml itself.
var literalSecrets = []string{
	"upstream-user-token-value", "csrf-secret-literal-value", "old-csrf-secret-literal-value",
	"webhook-secret-literal-value", "redis-password-literal-value",
}

func setSecrets(t *testing.T) {
	t.Helper()
	for k, v := range envSecrets {
		t.Setenv(k, v)
	}
}

// assertNoSecrets fails when any secret of testdata/valid.yaml is in s.
func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, v := range envSecrets {
		if strings.Contains(s, v) {
			t.Errorf("output contains the secret %q:\n%s", v, s)
		}
	}
	for _, v := range literalSecrets {
		if strings.Contains(s, v) {
			t.Errorf("output contains the secret %q:\n%s", v, s)
		}
	}
}

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

func runCmd(args ...string) result {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// transcript is the golden form of a run.
func (r result) transcript(args []string) string {
	return fmt.Sprintf("# apilayer %s\n# exit %d\n# stdout:\n%s# stderr:\n%s",
		strings.Join(args, " "), r.code, r.stdout, r.stderr)
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/apilayer -update)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test ./cmd/apilayer -update and review the diff)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// errorLine is the shape of a config problem: FILE:LINE: path.to.key: message.
var errorLine = regexp.MustCompile(`^testdata/[a-z_]+\.yaml:[1-9][0-9]*: [A-Za-z][A-Za-z0-9_.\[\]]*: \S.*$`)

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestCheck(t *testing.T) {
	setSecrets(t)
	tests := []struct {
		name string
		code int
		// errorLines: stdout is empty and stderr holds only
		// FILE:LINE: path: message lines, at least one per want.
		errorLines bool
		// want are substrings of stdout (stderr when code is not 0), in
		// order.
		want []string
	}{
		{"valid", 0, false, []string{
			"listen: 127.0.0.1:8081\n",
			"url: http://gateway:<redacted>@127.0.0.1:8000/api/\n",
			"timeout: 5s\n",
			"url: http://<redacted>@127.0.0.1:3000\n",
			"password: <redacted>\n",
			"secret: <redacted>\n",
			"webhookSecret: <redacted>\n",
			"url: redis://:<redacted>@127.0.0.1:6379/0\n",
		}},
		{"unknown_key", 1, true, []string{
			"testdata/unknown_key.yaml:4: backend.timout: unknown key (did you mean timeout?)\n",
			"testdata/unknown_key.yaml:6: validate.cacheTtl: unknown key (did you mean cacheTTL?)\n",
		}},
		{"missing_backend_url", 1, true, []string{"testdata/missing_backend_url.yaml:1: backend.url: required\n"}},
		{"bad_duration", 1, true, []string{
			`testdata/bad_duration.yaml:3: backend.timeout: bad duration "10"`,
			`testdata/bad_duration.yaml:5: cookies.maxAge: bad duration "7 days"`,
		}},
		{"many_errors", 1, true, []string{
			"testdata/many_errors.yaml:4: listen: ",
			"testdata/many_errors.yaml:5: backend.url: required\n",
			`testdata/many_errors.yaml:6: backend.timeout: bad duration "5"`,
			"testdata/many_errors.yaml:8: cookies.sameSit: unknown key (did you mean sameSite?)\n",
			`testdata/many_errors.yaml:9: cookies.secure: `,
			`testdata/many_errors.yaml:11: guest.enabled: `,
			"testdata/many_errors.yaml:13: validate.cacheSize: ",
			"testdata/many_errors.yaml:15: log.level: ",
		}},
		{"validate_only", 1, true, []string{
			"testdata/validate_only.yaml:2: listen: ",
			"testdata/validate_only.yaml:4: backend.url: ",
			"testdata/validate_only.yaml:6: validate.cacheSize: ",
			"testdata/validate_only.yaml:8: log.level: ",
		}},
		{"missing_file", 1, false, []string{"testdata/missing_file.yaml does not exist", "apilayer init --out testdata/missing_file.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"check", "--config", "testdata/" + tt.name + ".yaml"}
			r := runCmd(args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			// The resolved config goes to stdout, errors to stderr.
			rest := r.stdout
			if tt.code != 0 {
				rest = r.stderr
			}
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("output lacks %q (after the previous expectations):\n%s%s", w, r.stdout, r.stderr)
					continue
				}
				rest = rest[i+len(w):]
			}
			if tt.errorLines {
				if r.stdout != "" {
					t.Errorf("an invalid config printed on stdout:\n%s", r.stdout)
				}
				got := lines(r.stderr)
				if len(got) < len(tt.want) {
					t.Errorf("%d error lines, want at least %d:\n%s", len(got), len(tt.want), r.stderr)
				}
				for _, l := range got {
					if !errorLine.MatchString(l) {
						t.Errorf("error line %q is not FILE:LINE: path: message", l)
					}
				}
			}
			assertNoSecrets(t, r.stdout+r.stderr)
			golden(t, "check_"+tt.name, r.transcript(args))
		})
	}
}

// TestCheckOutputIsValidConfig feeds what check prints for a valid config
// back to check: it is a valid config that resolves to itself.
func TestCheckOutputIsValidConfig(t *testing.T) {
	t.Setenv("APILAYER_CONFIG", "")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.yaml")
	if err := os.WriteFile(in, []byte("backend:\n  url: http://127.0.0.1:8000/api\nlisten: 127.0.0.1:9000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	first := runCmd("check", "--config", in)
	if first.code != 0 {
		t.Fatalf("check = %d:\n%s%s", first.code, first.stdout, first.stderr)
	}
	out := filepath.Join(dir, "resolved.yaml")
	if err := os.WriteFile(out, []byte(first.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	second := runCmd("check", "--config", out)
	if second.code != 0 || second.stdout != first.stdout {
		t.Errorf("check of the resolved config = %d:\n%s\nwant 0 and:\n%s", second.code, second.stdout, first.stdout)
	}
}

// TestConfigDefault checks where --config points when it is not given:
// $APILAYER_CONFIG, then ./apilayer.yaml.
func TestConfigDefault(t *testing.T) {
	dir := t.TempDir()
	write := func(name, listen string) string {
		p := filepath.Join(dir, name)
		body := "listen: " + listen + "\nbackend:\n  url: http://127.0.0.1:8000/api/\n"
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fromEnv := write("from-env.yaml", "127.0.0.1:7002")
	fromFlag := write("from-flag.yaml", "127.0.0.1:7003")
	inCwd := filepath.Join(dir, "cwd")
	if err := os.Mkdir(inCwd, 0o700); err != nil {
		t.Fatal(err)
	}
	write("cwd/apilayer.yaml", "127.0.0.1:7001")
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		cwd  string
		env  string
		args []string
		code int
		want string
	}{
		{"env beats ./apilayer.yaml", inCwd, fromEnv, nil, 0, "listen: 127.0.0.1:7002\n"},
		{"flag beats env", inCwd, fromEnv, []string{"--config", fromFlag}, 0, "listen: 127.0.0.1:7003\n"},
		{"./apilayer.yaml without env", inCwd, "", nil, 0, "listen: 127.0.0.1:7001\n"},
		{"env names a missing file", inCwd, filepath.Join(dir, "nope.yaml"), nil, 1, "nope.yaml"},
		{"nothing to read", empty, "", nil, 1, "apilayer.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(tt.cwd)
			t.Setenv("APILAYER_CONFIG", tt.env)
			r := runCmd(append([]string{"check"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			// The resolved config goes to stdout, errors to stderr.
			if out := r.stdout + r.stderr; !strings.Contains(out, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

// TestNoConfigFile: serve (and check) without a config file say how to
// make one, and start nothing.
func TestNoConfigFile(t *testing.T) {
	empty := t.TempDir()
	missing := filepath.Join(empty, "prod.yaml")
	tests := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"serve, nothing given", "", []string{"serve"}, "apilayer: no config file: ./apilayer.yaml does not exist, and neither --config nor $APILAYER_CONFIG names one.\n" +
			"  Write one with a few questions:  apilayer init\n" +
			"  Or use yours:                    apilayer serve --config FILE (or APILAYER_CONFIG=FILE)\n" +
			"  Or try the gateway without one:  apilayer demo\n"},
		{"check, nothing given", "", []string{"check"}, "apilayer check --config FILE"},
		{"--config names a missing file", "", []string{"serve", "--config", missing},
			"apilayer: the config file " + missing + " does not exist.\n  Write it:  apilayer init --out " + missing + "\n"},
		{"APILAYER_CONFIG names a missing file", missing, []string{"serve"}, "  Write it:  apilayer init --out " + missing + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(empty)
			t.Setenv("APILAYER_CONFIG", tt.env)
			r := runCmd(tt.args...)
			if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1 and stderr with:\n%s", r.code, r.stdout, r.stderr, tt.want)
			}
		})
	}
	var transcript string
	t.Run("run for the golden file", func(t *testing.T) {
		t.Chdir(empty)
		t.Setenv("APILAYER_CONFIG", "")
		transcript = runCmd("serve").transcript([]string{"serve"})
	})
	golden(t, "serve_no_config", transcript)
}

// TestServeInvalidConfig checks that serve refuses an invalid config with
// every problem check reports, one per line, and never starts serving.
func TestServeInvalidConfig(t *testing.T) {
	// serve and check share config.Resolve, so a file with both decoding and
	// validation errors gets all of them from serve too (docs/cli.md).
	setSecrets(t)
	for _, name := range []string{"unknown_key", "missing_backend_url", "bad_duration", "many_errors", "validate_only", "missing_file"} {
		t.Run(name, func(t *testing.T) {
			path := "testdata/" + name + ".yaml"
			r := runCmd("serve", "--config", path)
			if r.code != 1 {
				t.Errorf("serve exit %d, want 1; stderr:\n%s", r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("serve wrote to stdout:\n%s", r.stdout)
			}
			want := runCmd("check", "--config", path).stderr
			if r.stderr != want {
				t.Errorf("serve printed:\n%s\nwant every problem, as check prints them:\n%s", r.stderr, want)
			}
		})
	}

	t.Run("does not listen", func(t *testing.T) {
		// The config names a port the test holds: had serve tried to listen,
		// it would say "address already in use".
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		path := filepath.Join(t.TempDir(), "held.yaml")
		body := "listen: " + ln.Addr().String() + "\nbackend:\n  timeout: 5s\n"
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runCmd("serve", "--config", path)
		if r.code != 1 {
			t.Errorf("serve exit %d, want 1; stderr:\n%s", r.code, r.stderr)
		}
		if want := path + ":2: backend.url: required\n"; r.stderr != want {
			t.Errorf("serve printed:\n%s\nwant:\n%s", r.stderr, want)
		}
	})
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, 2, "", "Usage:\n"},
		{"unknown command", []string{"frobnicate"}, 2, "", "apilayer: unknown command \"frobnicate\"\n\n" + usage},
		{"help", []string{"help"}, 0, usage, ""},
		{"check unknown flag", []string{"check", "--nope"}, 2, "", "flag provided but not defined: -nope"},
		{"serve unknown flag", []string{"serve", "--nope"}, 2, "", "flag provided but not defined: -nope"},
		{"demo unknown flag", []string{"demo", "--nope"}, 2, "", "flag provided but not defined: -nope"},
		{"version", []string{"version"}, 0, "go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n", ""},
		{"--version", []string{"--version"}, 0, "go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, c := range []struct{ stream, got, want string }{{"stdout", r.stdout, tt.wantStdout}, {"stderr", r.stderr, tt.wantStderr}} {
				if c.want == "" && c.got != "" {
					t.Errorf("%s = %q, want it empty", c.stream, c.got)
				}
				if !strings.Contains(c.got, c.want) {
					t.Errorf("%s lacks %q:\n%s", c.stream, c.want, c.got)
				}
			}
		})
	}

	t.Run("unknown command golden", func(t *testing.T) {
		args := []string{"frobnicate"}
		golden(t, "unknown_command", runCmd(args...).transcript(args))
	})
	t.Run("version format", func(t *testing.T) {
		r := runCmd("version")
		if want := version.Get().String(); r.stdout != want {
			t.Errorf("version = %q, want %q", r.stdout, want)
		}
	})
}

// TestServeProcess runs the real binary in front of a test backend and web
// app, and stops it with SIGTERM while a slow request is in flight: the
// request completes and the process exits 0. Tracing is on (the stdout
// exporter): the binary builds the exporters tracing.* names, and its
// shutdown flushes the spans.
func TestServeProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "apilayer")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	backend := testkit.NewBackend(t, demo.BackendOptions{})
	upstream := testkit.NewUpstream(t)
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	upstream.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow" {
			fmt.Fprintln(w, "fast")
			return
		}
		arrived <- struct{}{}
		select {
		case <-release:
			fmt.Fprintln(w, "slow done")
		case <-r.Context().Done():
		}
	}))

	// Port 0: the gateway logs the address it got, so no port can clash.
	cfgPath := filepath.Join(t.TempDir(), "apilayer.yaml")
	cfg := fmt.Sprintf("listen: 127.0.0.1:0\nbackend:\n  url: %s\nupstream:\n  url: %s\nlog:\n  format: json\n"+
		"tracing:\n  enabled: true\n  exporter: stdout\n  sampleRatio: 1\n",
		backend.URL(), upstream.URL())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// The context only guards against a hung process: it kills it, which
	// ends its stderr and fails the test below.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "APILAYER_CONFIG=")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logLines := make(chan string)
	readDone := make(chan struct{})
	go func() { // owned by this test: ends at the process's EOF
		defer close(readDone)
		defer close(logLines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logLines <- sc.Text()
		}
	}()
	var seen []string
	exited := false
	defer func() {
		if !exited {
			cmd.Process.Kill()
			for range logLines {
			}
			<-readDone
			cmd.Wait()
		}
	}()
	// waitLog reads the log until a line with msg, and returns it.
	waitLog := func(msg string) map[string]any {
		t.Helper()
		for l := range logLines {
			seen = append(seen, l)
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
				return m
			}
		}
		t.Fatalf("the process ended its log without %q:\n%s", msg, strings.Join(seen, "\n"))
		return nil
	}

	listening := waitLog("apilayer listening")
	addr, _ := listening["addr"].(string)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatalf("listening line has no address: %v", listening)
	}
	base := "http://" + addr
	client := &http.Client{}
	defer client.CloseIdleConnections()

	res, err := client.Get(base + "/_apilayer/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"ok"`) {
		t.Fatalf("health = %d %s, want 200 ok", res.StatusCode, body)
	}

	type reply struct {
		status int
		body   string
		err    error
	}
	slow := make(chan reply, 1)
	go func() { // owned by this test: ends when the request does
		res, err := client.Get(base + "/slow")
		if err != nil {
			slow <- reply{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		slow <- reply{res.StatusCode, string(b), err}
	}()
	select {
	case <-arrived:
	case got := <-slow:
		t.Fatalf("slow request ended before reaching the web app: %d %q %v", got.status, got.body, got.err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLog("apilayer shutting down")
	close(release)
	got := <-slow
	if got.err != nil || got.status != http.StatusOK || got.body != "slow done\n" {
		t.Errorf("slow request = %d %q %v, want 200 \"slow done\\n\"", got.status, got.body, got.err)
	}

	for l := range logLines {
		seen = append(seen, l)
	}
	<-readDone
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Errorf("process exit: %v, want exit 0; log:\n%s", err, strings.Join(seen, "\n"))
	}
	if !strings.Contains(stdout.String(), `"Name":"GET page"`) || !strings.Contains(stdout.String(), `"Value":"/slow"`) {
		t.Errorf("no span of the slow request on stdout:\n%s", stdout.String())
	}
}
