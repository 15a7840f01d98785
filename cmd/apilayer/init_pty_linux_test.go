package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInitTerminal runs the real binary on a pseudo-terminal, through
// script(1) from util-linux: once answered to the end, and once stopped
// with Ctrl-C, which the terminal turns into SIGINT. A cancelled setup
// leaves no file behind.
func TestInitTerminal(t *testing.T) {
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Fatalf("script(1) from util-linux is needed for the terminal test: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "apilayer")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	tests := []struct {
		name     string
		dialog   []dialogue
		ctrlC    string // after the dialog, wait for this prompt and press Ctrl-C
		code     int
		wantFile bool
		wantOut  string
	}{
		{
			name: "answered",
			dialog: []dialogue{
				{"(y/N): ", ""},
				{"Select (1-8) [7]: ", "4"},
				{"): ", "https://api.example.com/v1/"},
				{"[http://127.0.0.1:3000]: ", ""},
				{"(y/N): ", "n"},
				{"(y/N): ", "y"},
				{"[APILAYER_GUEST_USERNAME]: ", ""},
				{"[APILAYER_GUEST_PASSWORD]: ", ""},
				{"/dashboard,/account): ", "/app"},
				{"[/login,/register]: ", ""},
			},
			code: 0, wantFile: true, wantOut: "Created ",
		},
		{
			name:   "ctrl-c",
			dialog: []dialogue{{"(y/N): ", "n"}, {"Select (1-8) [7]: ", "5"}, {"): ", ""}},
			ctrlC:  "Web app URL (where pages go) [http://127.0.0.1:3000]: ",
			code:   1, wantOut: "Setup cancelled; nothing was written.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "apilayer.yaml")
			// The context only guards against a hung process.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// script(1) runs the command with $SHELL -c. "exec" replaces that
			// shell with apilayer, so Ctrl-C reaches apilayer alone: a shell
			// left waiting (dash, /bin/sh on Debian) would itself die of the
			// SIGINT and script would report 130 whatever apilayer returned.
			cmd := exec.CommandContext(ctx, scriptBin, "-qec", "exec "+bin+" init --out "+path, "/dev/null")
			cmd.Env = append(os.Environ(), "API_BASE_URL=", "SHELL=/bin/sh")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			e := &expecter{t: t, out: bufio.NewReader(stdout), in: stdin, echoed: true}
			for _, d := range tt.dialog {
				e.expect(d.prompt)
				e.send(d.answer)
			}
			if tt.ctrlC != "" {
				e.expect(tt.ctrlC)
				if _, err := stdin.Write([]byte{0x03}); err != nil {
					t.Fatal(err)
				}
			}
			e.expect(tt.wantOut)
			e.rest()
			stdin.Close()
			err = cmd.Wait()
			code := 0
			if x, ok := err.(*exec.ExitError); ok {
				code = x.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d; terminal:\n%s", code, tt.code, e.transcript.String())
			}
			if tt.wantFile {
				assertOnlyFile(t, dir, "apilayer.yaml")
				t.Setenv("APILAYER_GUEST_USERNAME", "guest")
				t.Setenv("APILAYER_GUEST_PASSWORD", "guest-password")
				if r := runCmd("check", "--config", path); r.code != 0 {
					t.Errorf("apilayer check: exit %d\n%s", r.code, r.stderr)
				}
			} else {
				assertOnlyFile(t, dir)
			}
			if strings.Contains(e.transcript.String(), "panic") {
				t.Errorf("terminal shows a panic:\n%s", e.transcript.String())
			}
		})
	}
}
