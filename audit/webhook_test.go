package audit_test

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apilayer/apilayer/audit"
)

type delivery struct {
	body   []byte
	header http.Header
}

// receiver is a webhook receiver: it hands every request to the test and
// answers with the next status of statuses (the last one repeats).
func receiver(t *testing.T, statuses ...int) (*httptest.Server, <-chan delivery, *atomic.Int32) {
	t.Helper()
	ch := make(chan delivery, 100)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		body, _ := io.ReadAll(r.Body)
		ch <- delivery{body, r.Header.Clone()}
		status := http.StatusOK
		if len(statuses) > 0 {
			status = statuses[min(i, len(statuses)-1)]
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, ch, &n
}

func TestWebhookBatchesAndSignature(t *testing.T) {
	for _, tc := range []struct {
		name, secret string
	}{
		{"signed", "s3cret"},
		{"unsigned", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, deliveries, _ := receiver(t)
			l, err := audit.New(audit.Options{
				Output: srv.URL + "/hooks/audit?token=abc", WebhookSecret: tc.secret,
				BatchSize: 3, FlushInterval: time.Hour, // only a full batch or Close sends
				Now: fixedNow, Logger: discardLog(),
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"/1", "/2", "/3", "/4"} {
				l.Emit(audit.Event{Type: audit.TypeAccessDenied, Path: p, Method: "GET", UserID: "42"})
			}
			first := within(t, deliveries, "the first batch")
			if err := l.Close(); err != nil { // flushes the fourth event
				t.Fatal(err)
			}
			second := within(t, deliveries, "the batch flushed by Close")

			for _, d := range []struct {
				delivery
				paths []string
			}{{first, []string{"/1", "/2", "/3"}}, {second, []string{"/4"}}} {
				var events []audit.Event
				if err := json.Unmarshal(d.body, &events); err != nil {
					t.Fatalf("body %s is not a JSON array of events: %v", d.body, err)
				}
				if len(events) != len(d.paths) {
					t.Fatalf("batch of %d events, want %d", len(events), len(d.paths))
				}
				for i, e := range events {
					if e.Path != d.paths[i] || e.Type != audit.TypeAccessDenied || e.UserID != "42" || !e.Timestamp.Equal(ts.Truncate(time.Millisecond)) {
						t.Errorf("event %d = %+v", i, e)
					}
				}
				if ct := d.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
				sig := d.header.Get(audit.SignatureHeader)
				if tc.secret == "" {
					if sig != "" {
						t.Errorf("unsigned webhook sent %s: %q", audit.SignatureHeader, sig)
					}
					continue
				}
				if want := audit.Sign([]byte(tc.secret), d.body); !hmac.Equal([]byte(sig), []byte(want)) {
					t.Errorf("%s = %q, want %q", audit.SignatureHeader, sig, want)
				}
			}
			if l.Dropped() != 0 {
				t.Errorf("Dropped = %d", l.Dropped())
			}
		})
	}
}

func TestWebhookRetries(t *testing.T) {
	for _, tc := range []struct {
		name         string
		statuses     []int
		wantAttempts int
		wantDropped  uint64
	}{
		{"5xx retried then dropped", []int{500}, 3, 1},
		{"503 then delivered", []int{503, 204}, 2, 0},
		{"429 then delivered", []int{429, 200}, 2, 0},
		{"4xx not retried", []int{400}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, deliveries, attempts := receiver(t, tc.statuses...)
			l, err := audit.New(audit.Options{
				Output: srv.URL, WebhookSecret: "k", BatchSize: 1,
				MaxRetries: 2, RetryBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
				Logger: discardLog(),
			})
			if err != nil {
				t.Fatal(err)
			}
			l.Emit(audit.Event{Type: audit.TypeAuthReuse, Path: "/x"})
			var first delivery
			for i := range tc.wantAttempts {
				d := within(t, deliveries, "an attempt")
				if i == 0 {
					first = d
				} else if string(d.body) != string(first.body) || d.header.Get(audit.SignatureHeader) != first.header.Get(audit.SignatureHeader) {
					t.Errorf("attempt %d differs from the first", i+1)
				}
			}
			// The last attempt has reached the receiver: its answer decides.
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if n := attempts.Load(); int(n) != tc.wantAttempts {
				t.Errorf("%d attempts, want %d", n, tc.wantAttempts)
			}
			if got := l.Dropped(); got != tc.wantDropped {
				t.Errorf("Dropped = %d, want %d", got, tc.wantDropped)
			}
		})
	}
}

func TestWebhookThatNeverAnswers(t *testing.T) {
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so the server notices when the client hangs up
		arrived <- struct{}{}
		select { // never answers
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hook.Close()
	defer close(release) // runs first: no handler outlives the test

	const queue = 2
	l, err := audit.New(audit.Options{
		Output: hook.URL, QueueSize: queue, BatchSize: 1,
		AttemptTimeout: time.Hour, CloseTimeout: 50 * time.Millisecond,
		Logger: discardLog(),
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(audit.Event{Type: audit.TypeAuthFail, Path: "/first"})
	within(t, arrived, "the first POST") // the goroutine is now stuck on it

	// A gateway handler that audits every request.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.Emit(audit.Event{Type: audit.TypeAuthFail, Path: r.URL.Path, Method: r.Method})
		w.WriteHeader(http.StatusNoContent)
	}))
	defer app.Close()
	const requests = 10
	for range requests {
		res, err := app.Client().Get(app.URL + "/page")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	if got, want := l.Dropped(), uint64(requests-queue); got != want {
		t.Errorf("Dropped while stuck = %d, want %d (the queue holds %d)", got, want, queue)
	}

	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	if err := within(t, closed, "Close"); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Dropped(), uint64(requests+1); got != want {
		t.Errorf("Dropped after Close = %d, want %d (every event was lost)", got, want)
	}
}

func TestDropLogHasNoSecrets(t *testing.T) {
	logs := &syncBuffer{}
	l, err := audit.New(audit.Options{
		// Nothing listens on port 1: the connection is refused.
		Output:        "http://user:hunter2@127.0.0.1:1/hook?token=url-secret",
		WebhookSecret: "signing-secret",
		MaxRetries:    -1,
		Logger:        slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Emit(audit.Event{Type: audit.TypeAuthFail})
	l.Close()
	if l.Dropped() != 1 {
		t.Errorf("Dropped = %d, want 1", l.Dropped())
	}
	out := logs.String()
	if !strings.Contains(out, "audit: events dropped") || !strings.Contains(out, "127.0.0.1:1/hook") {
		t.Errorf("log does not report the drop: %q", out)
	}
	for _, secret := range []string{"hunter2", "url-secret", "signing-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q: %s", secret, out)
		}
	}
}
