package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/session"
)

func TestBreakerOpensOnOutageAndRecoversByItself(t *testing.T) {
	r := testkit.StartRedis(t)
	logs := &logRecorder{}
	changes := make(chan bool, 10)
	s := newStore(t, r, redisstore.Options{
		Timeout:          time.Second,
		FailureThreshold: 2,
		CoolDown:         10 * time.Millisecond,
		Logger:           slog.New(logs),
		OnStateChange:    func(up bool) { changes <- up },
	})
	c := s.Cache()
	k := session.Key("some-token")
	e := session.Entry{Valid: true, Fresh: time.Now().Add(time.Minute)}
	ctx := t.Context()

	if err := c.Set(ctx, k, e); err != nil {
		t.Fatalf("Set with Redis up: %v", err)
	}
	if !s.Healthy() {
		t.Fatal("unhealthy with Redis up")
	}

	r.Stop()
	for i := range 2 { // the threshold
		if _, _, err := c.Get(ctx, k); !errors.Is(err, redisstore.ErrUnavailable) {
			t.Fatalf("Get %d with Redis down: error %v, want ErrUnavailable", i, err)
		}
	}
	waitState(t, changes, false)
	if s.Healthy() {
		t.Fatal("healthy with the breaker open")
	}
	// Open: every view fails at once, without trying Redis.
	for range 20 {
		_, _, err := c.Get(ctx, k)
		if !errors.Is(err, redisstore.ErrUnavailable) || !strings.Contains(err.Error(), "circuit open") {
			t.Fatalf("Get with the breaker open: %v, want a circuit-open ErrUnavailable", err)
		}
	}
	if _, err := s.RateLimit().Allow(ctx, "ip:192.0.2.1", rlLimit); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("rate limit with the breaker open: %v", err)
	}
	if _, _, err := s.Locks().TryLock(ctx, k, time.Second); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("TryLock with the breaker open: %v", err)
	}
	if got := logs.messages(); len(got) != 1 || !strings.HasPrefix(got[0], "WARN redisstore: redis unavailable") {
		t.Fatalf("logs after the outage = %q, want one warning", got)
	}

	// Redis comes back: the probe closes the breaker without any traffic.
	r.Restart()
	waitState(t, changes, true)
	if !s.Healthy() {
		t.Fatal("unhealthy after recovery")
	}
	if err := c.Set(ctx, k, e); err != nil {
		t.Fatalf("Set after recovery: %v", err)
	}
	if _, ok, err := c.Get(ctx, k); err != nil || !ok {
		t.Fatalf("Get after recovery: ok %v, err %v", ok, err)
	}
	want := []string{"WARN redisstore: redis unavailable, serving from per-instance state", "INFO redisstore: redis available again"}
	if got := logs.messages(); !slices.Equal(got, want) {
		t.Fatalf("logs = %q, want %q", got, want)
	}
	select {
	case up := <-changes:
		t.Fatalf("extra state change to available=%v", up)
	default:
	}
}

func TestFailuresBelowThresholdKeepBreakerClosed(t *testing.T) {
	r := testkit.StartRedis(t)
	logs := &logRecorder{}
	s := newStore(t, r, redisstore.Options{Timeout: time.Second, FailureThreshold: 3, Logger: slog.New(logs)})
	k := session.Key("t")
	r.Stop()
	for range 2 {
		if _, _, err := s.Cache().Get(t.Context(), k); !errors.Is(err, redisstore.ErrUnavailable) {
			t.Fatalf("Get with Redis down: %v", err)
		}
	}
	r.Restart()
	// A success resets the count: two more failures do not open it.
	if err := s.Cache().Delete(t.Context(), k); err != nil {
		t.Fatalf("Delete after restart: %v", err)
	}
	r.Stop()
	for range 2 {
		_, _, _ = s.Cache().Get(t.Context(), k)
	}
	if !s.Healthy() {
		t.Fatal("breaker opened below the threshold of consecutive failures")
	}
	if got := logs.messages(); len(got) != 0 {
		t.Fatalf("logs = %q, want none", got)
	}
}

func TestTimeoutBoundsEveryCall(t *testing.T) {
	r := testkit.StartRedis(t)
	s := newStore(t, r, redisstore.Options{Timeout: 50 * time.Millisecond, FailureThreshold: 100})
	k := session.Key("t")
	if err := s.Cache().Delete(t.Context(), k); err != nil { // warm the pool
		t.Fatalf("Delete: %v", err)
	}
	r.Pause() // Redis hangs: connections open, no answers
	defer r.Resume()

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"cache get", func(ctx context.Context) error { _, _, err := s.Cache().Get(ctx, k); return err }},
		{"cache set", func(ctx context.Context) error {
			return s.Cache().Set(ctx, k, session.Entry{Fresh: time.Now().Add(time.Minute)})
		}},
		{"rate limit", func(ctx context.Context) error { _, err := s.RateLimit().Allow(ctx, "k", rlLimit); return err }},
		{"lock", func(ctx context.Context) error { _, _, err := s.Locks().TryLock(ctx, k, time.Second); return err }},
		{"wait", func(ctx context.Context) error { return s.Locks().Wait(ctx, k) }},
		{"holder", func(ctx context.Context) error { _, _, err := s.Locks().Holder(ctx, k); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			// The test's context has no deadline: only Timeout can end the call.
			done := make(chan error, 1)
			go func() { done <- tc.call(context.Background()) }()
			select {
			case err := <-done:
				if !errors.Is(err, redisstore.ErrUnavailable) {
					t.Fatalf("error %v, want ErrUnavailable", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("call hung on a paused Redis")
			}
		})
	}
	// The guest limiter has no error: it decides by its fallback.
	if !s.GuestLimiter(1, nil).Allow(t.Context(), "192.0.2.1") {
		t.Fatal("guest limiter refused the first mint while Redis hangs")
	}
}

func TestStartsWithRedisDown(t *testing.T) {
	r := testkit.StartRedis(t)
	r.Stop()
	logs := &logRecorder{}
	changes := make(chan bool, 10)
	s := newStore(t, r, redisstore.Options{
		Timeout:       time.Second,
		CoolDown:      10 * time.Millisecond,
		Logger:        slog.New(logs),
		OnStateChange: func(up bool) { changes <- up },
	})
	waitState(t, changes, false)
	if s.Healthy() {
		t.Fatal("healthy while Redis was never reached")
	}
	r.Restart()
	waitState(t, changes, true)

	// Locks work once Redis is up (the release announcement, subscribed
	// while Redis was down, or the polling wakes the waiter).
	l := s.Locks()
	k := session.Key("t")
	tok, ok, err := l.TryLock(t.Context(), k, time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLock: %v %v", ok, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- l.Wait(t.Context(), k) }()
	if err := l.Unlock(t.Context(), k, tok); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if got := logs.messages(); len(got) != 2 {
		t.Fatalf("logs = %q, want one warning and one recovery", got)
	}
}

// Without Options.Logger, the changes of availability are discarded like
// every other component's log, not written to the process's default
// logger; the gateway passes its own.
func TestLoggerOption(t *testing.T) {
	for _, tt := range []struct {
		name  string
		given bool // Options.Logger set
	}{
		{name: "nil discards"},
		{name: "given receives", given: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := testkit.StartRedis(t)
			r.Stop()
			defaults := testkit.DefaultLog(t)
			given := &logRecorder{}
			changes := make(chan bool, 10)
			o := redisstore.Options{
				URL:           r.URL(),
				Timeout:       time.Second,
				CoolDown:      10 * time.Millisecond,
				OnStateChange: func(up bool) { changes <- up },
			}
			if tt.given {
				o.Logger = slog.New(given)
			}
			s, err := redisstore.New(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			waitState(t, changes, false) // logged before it is reported
			if got := defaults(); len(got) != 0 {
				t.Errorf("default logger got %q", got)
			}
			if got := given.messages(); (len(got) == 1) != tt.given {
				t.Errorf("given logger got %q, want the warning: %v", got, tt.given)
			}
		})
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	r := testkit.StartRedis(t)
	s, err := redisstore.New(t.Context(), redisstore.Options{URL: r.URL(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := s.Cache().Get(t.Context(), session.Key("t")); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Get after Close: %v, want ErrUnavailable", err)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	tests := []struct {
		name, url string
	}{
		{"empty", ""},
		{"not redis", "http://127.0.0.1:6379"},
		{"unknown option", "redis://127.0.0.1:6379/0?no_such_option=1"},
		{"bad db", "redis://:s3cret-pass@127.0.0.1:6379/notanumber"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redisstore.New(t.Context(), redisstore.Options{URL: tc.url})
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "s3cret-pass") {
				t.Fatalf("error reveals the password: %v", err)
			}
		})
	}
}

// Sentinel and Cluster URLs are accepted; with nothing listening, the
// Store starts unavailable instead of failing.
func TestNewAcceptsSentinelAndClusterURLs(t *testing.T) {
	r := testkit.StartRedis(t)
	r.Stop() // a port with nothing listening
	host := r.Addr()
	tests := []struct{ name, url string }{
		{"single node", "redis://" + host + "/0"},
		{"single node with options", "redis://" + host + "/0?pool_size=4"},
		{"sentinel", "redis://" + host + "?master_name=mymaster&addr=" + host},
		{"cluster", "redis://" + host + "?addr=" + host},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redisstore.New(t.Context(), redisstore.Options{
				URL:    tc.url,
				Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer s.Close()
			if s.Healthy() {
				t.Fatal("healthy with nothing listening")
			}
			if _, _, err := s.Cache().Get(t.Context(), session.Key("t")); !errors.Is(err, redisstore.ErrUnavailable) {
				t.Fatalf("Get: %v, want ErrUnavailable", err)
			}
		})
	}
}

// Ping answers while Redis does, and fails once it is gone.
func TestPing(t *testing.T) {
	r := testkit.StartRedis(t)
	s := newStore(t, r, redisstore.Options{})
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping with Redis up: %v", err)
	}
	r.Stop()
	if err := s.Ping(context.Background()); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Ping with Redis down = %v, want ErrUnavailable", err)
	}
}
