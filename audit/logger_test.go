package audit_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/internal/testkit"
)

func TestStreamOutputs(t *testing.T) {
	type writers struct{ stdout, stderr *syncBuffer }
	for _, tc := range []struct {
		name   string
		output string
		got    func(w writers, file string) string
	}{
		{"default is stdout", "", func(w writers, _ string) string { return w.stdout.String() }},
		{"stdout", "stdout", func(w writers, _ string) string { return w.stdout.String() }},
		{"stderr", "stderr", func(w writers, _ string) string { return w.stderr.String() }},
		{"file", "file:", func(_ writers, file string) string {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := writers{&syncBuffer{}, &syncBuffer{}}
			file := filepath.Join(t.TempDir(), "audit.log")
			output := tc.output
			if output == "file:" {
				output += file
			}
			l, err := audit.New(audit.Options{Output: output, Stdout: w.stdout, Stderr: w.stderr, Now: fixedNow, Logger: discardLog()})
			if err != nil {
				t.Fatal(err)
			}
			l.Emit(audit.Event{Type: audit.TypeAuthFail, IP: "192.0.2.7", Path: "/a", Method: "GET", Metadata: map[string]any{"reason": "no-token"}})
			l.Emit(audit.Event{Type: audit.TypeAuthGuest, Path: "/b", Method: "GET", Success: true}) // not enabled by default
			l.Emit(audit.Event{Type: audit.TypeCSRFFail, Path: "/c", Method: "POST", RequestID: "r1"})
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			want := `{"type":"auth:fail","timestamp":"2026-11-26T20:01:02.345Z","ip":"192.0.2.7","path":"/a","method":"GET","success":false,"metadata":{"reason":"no-token"}}` + "\n" +
				`{"type":"csrf:fail","timestamp":"2026-11-26T20:01:02.345Z","ip":"","path":"/c","method":"POST","success":false,"requestId":"r1"}` + "\n"
			if got := tc.got(w, file); got != want {
				t.Errorf("output:\n%s\nwant:\n%s", got, want)
			}
			if l.Dropped() != 0 {
				t.Errorf("Dropped = %d, want 0", l.Dropped())
			}
		})
	}
}

func TestFileOutputAppendsWithPrivateMode(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.log")
	existing := filepath.Join(dir, "existing.log")
	if err := os.WriteFile(existing, []byte("earlier line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fresh, existing} {
		for range 2 { // two Loggers in turn: the second appends
			l, err := audit.New(audit.Options{Output: "file:" + path, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			l.Emit(audit.Event{Type: audit.TypeError, Path: "/x"})
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	fi, err := os.Stat(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode = %v, want 0600", mode)
	}
	for path, wantLines := range map[string]int{fresh: 2, existing: 3} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for s := bufio.NewScanner(f); s.Scan(); {
			lines = append(lines, s.Text())
		}
		f.Close()
		if len(lines) != wantLines {
			t.Errorf("%s: %d lines, want %d: %q", filepath.Base(path), len(lines), wantLines, lines)
		}
		for _, line := range lines[len(lines)-2:] {
			var e audit.Event
			if err := json.Unmarshal([]byte(line), &e); err != nil || e.Type != audit.TypeError {
				t.Errorf("line %q: %v", line, err)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "audit.log")
	for _, tc := range []struct {
		name string
		opts audit.Options
		want string
	}{
		{"file in a missing directory", audit.Options{Output: "file:" + missing}, "no such file or directory"},
		{"file without a path", audit.Options{Output: "file:"}, "needs a path"},
		{"unknown output", audit.Options{Output: "syslog"}, `got "syslog"`},
		{"webhook without a host", audit.Options{Output: "https://"}, "invalid webhook URL"},
		{"unknown event type", audit.Options{Events: []string{"auth:success", "auth:sucess"}}, `unknown event type "auth:sucess"`},
		{"negative queue", audit.Options{QueueSize: -1}, "queueSize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := audit.New(tc.opts)
			if err == nil {
				l.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "audit: ") {
				t.Errorf("error %q, want it to start with \"audit: \" and mention %q", err, tc.want)
			}
		})
	}
}

func TestEnabled(t *testing.T) {
	l, err := audit.New(audit.Options{Stdout: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, typ := range audit.Types() {
		want := typ != audit.TypeAuthGuest
		if got := l.Enabled(typ); got != want {
			t.Errorf("default Enabled(%q) = %v, want %v", typ, got, want)
		}
	}

	only, err := audit.New(audit.Options{Events: []string{audit.TypeAuthGuest}, Stdout: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer only.Close()
	if !only.Enabled(audit.TypeAuthGuest) || only.Enabled(audit.TypeAuthFail) || only.Enabled("nonsense") {
		t.Error("explicit event list not honoured")
	}
}

func TestNilLogger(t *testing.T) {
	var l *audit.Logger
	l.Emit(audit.Event{Type: audit.TypeError})
	if l.Enabled(audit.TypeError) || l.Dropped() != 0 || l.Close() != nil {
		t.Error("a nil Logger must be a no-op")
	}
}

func TestCloseIsIdempotentAndLaterEmitsAreCounted(t *testing.T) {
	out := &syncBuffer{}
	l, err := audit.New(audit.Options{Stdout: out, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(audit.Event{Type: audit.TypeError})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Emit(audit.Event{Type: audit.TypeError})
	l.Emit(audit.Event{Type: audit.TypeAuthGuest}) // disabled: not counted
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Errorf("%d lines written, want 1", n)
	}
	if l.Dropped() != 1 {
		t.Errorf("Dropped = %d, want 1", l.Dropped())
	}
}

func TestUnencodableMetadataIsDropped(t *testing.T) {
	out := &syncBuffer{}
	l, err := audit.New(audit.Options{Stdout: out, Now: fixedNow, Logger: discardLog()})
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(audit.Event{Type: audit.TypeError, Metadata: map[string]any{"f": func() {}}})
	l.Emit(audit.Event{Type: audit.TypeError, Path: "/ok"})
	l.Close()
	if l.Dropped() != 1 || strings.Count(out.String(), "\n") != 1 || !strings.Contains(out.String(), `"/ok"`) {
		t.Errorf("Dropped = %d, output %q", l.Dropped(), out.String())
	}
}

// failingWriter fails every write, as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestFailingStreamCountsDrops(t *testing.T) {
	l, err := audit.New(audit.Options{Stdout: failingWriter{}, Logger: discardLog()})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		l.Emit(audit.Event{Type: audit.TypeError})
	}
	l.Close()
	if l.Dropped() != 3 {
		t.Errorf("Dropped = %d, want 3", l.Dropped())
	}
}

// countingWriter counts the Write calls the Logger makes.
type countingWriter struct {
	syncBuffer
	mu     sync.Mutex
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes++
	w.mu.Unlock()
	return w.syncBuffer.Write(p)
}

// Events on a stream output share writes: after an event the writer
// lingers (StreamLinger) for more before writing. With an hour's linger,
// twenty events emitted a millisecond apart go out in one write, at Close,
// which ends the linger at once.
func TestStreamEventsShareWrites(t *testing.T) {
	w := &countingWriter{}
	l, err := audit.New(audit.Options{Stdout: w, Now: fixedNow, StreamLinger: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		l.Emit(audit.Event{Type: audit.TypeAuthFail, Path: fmt.Sprintf("/%d", i)})
		time.Sleep(time.Millisecond) // time for a writer that did not linger to write each one
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(lines) != 20 || !strings.Contains(lines[19], `"path":"/19"`) {
		t.Fatalf("%d lines, last %q; want 20, in order", len(lines), lines[len(lines)-1])
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.writes != 1 {
		t.Errorf("%d writes for 20 events, want 1", w.writes)
	}
}

// Without Options.Logger, delivery problems are discarded like every other
// component's log, not written to the process's default logger; the
// gateway passes its own.
func TestLoggerOption(t *testing.T) {
	for _, tt := range []struct {
		name  string
		given bool // Options.Logger set
	}{
		{name: "nil discards"},
		{name: "given receives", given: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defaults := testkit.DefaultLog(t)
			given := &syncBuffer{}
			o := audit.Options{Stdout: failingWriter{}}
			if tt.given {
				o.Logger = slog.New(slog.NewTextHandler(given, nil))
			}
			l, err := audit.New(o)
			if err != nil {
				t.Fatal(err)
			}
			l.Emit(audit.Event{Type: audit.TypeError})
			l.Close()
			if l.Dropped() != 1 {
				t.Fatalf("Dropped = %d, want 1", l.Dropped())
			}
			if got := defaults(); len(got) != 0 {
				t.Errorf("default logger got %q", got)
			}
			if logged := strings.Contains(given.String(), "audit: events dropped"); logged != tt.given {
				t.Errorf("given logger has the drop: %v, want %v", logged, tt.given)
			}
		})
	}
}
