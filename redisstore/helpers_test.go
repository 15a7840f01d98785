package redisstore_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/ratelimit"
	"github.com/apilayer/apilayer/redisstore"
)

// newStore returns a Store on r, closed at cleanup. Its key prefix is the
// test's name, so the stores of one server do not see each other's keys.
func newStore(t *testing.T, r *testkit.Redis, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	opts.URL = r.URL()
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = "test:" + t.Name() + ":"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second // generous under -race; outage tests set their own
	}
	s, err := redisstore.New(t.Context(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawClient is a plain client of r, for inspecting what the stores wrote.
func rawClient(t *testing.T, r *testkit.Redis) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	t.Cleanup(func() { c.Close() })
	return c
}

// dump returns every key of the server with its value (strings as is,
// hashes as field=value pairs).
func dump(t *testing.T, c *redis.Client) map[string]string {
	t.Helper()
	ctx := t.Context()
	out := make(map[string]string)
	iter := c.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatalf("TYPE: %v", err)
		}
		switch typ {
		case "string":
			out[k], err = c.Get(ctx, k).Result()
		case "hash":
			var h map[string]string
			h, err = c.HGetAll(ctx, k).Result()
			var b strings.Builder
			for f, v := range h {
				b.WriteString(f + "=" + v + ";")
			}
			out[k] = b.String()
		default:
			t.Fatalf("key %q of unexpected type %s", k, typ)
		}
		if err != nil {
			t.Fatalf("read %q: %v", k, err)
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	return out
}

// logRecorder is a slog.Handler keeping the messages logged.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Level.String()+" "+r.Message)
	return nil
}

func (l *logRecorder) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

// waitState waits for the next availability change reported by
// Options.OnStateChange.
func waitState(t *testing.T, ch <-chan bool, want bool) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("state changed to available=%v, want %v", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no change to available=%v within 10s", want)
	}
}

// rlLimit is a rate limit for the tests that only need one.
var rlLimit = ratelimit.Limit{Burst: 5, Period: time.Second}
