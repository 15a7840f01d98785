package session

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/apilayer/apilayer/backend"
)

func TestKey(t *testing.T) {
	// SHA-256 of "abc", lowercase hex.
	if got := Key("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("Key = %s", got)
	}
}

func TestMemoryCache(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		fresh, stale time.Duration // from now; 0 = unset
		at           time.Duration
		ok           bool
	}{
		{"fresh", time.Second, 0, 500 * time.Millisecond, true},
		{"expired", time.Second, 0, time.Second, false},
		{"kept for stale", time.Second, time.Minute, 30 * time.Second, true},
		{"stale over", time.Second, time.Minute, time.Minute, false},
		{"already dead is not stored", -time.Second, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			mc := NewMemoryCache(3, c.Now)
			e := Entry{Valid: true, Fresh: c.Now().Add(tt.fresh)}
			if tt.stale != 0 {
				e.Stale = c.Now().Add(tt.stale)
			}
			mc.Set(ctx, "k", e)
			c.Advance(tt.at)
			if _, ok, _ := mc.Get(ctx, "k"); ok != tt.ok {
				t.Fatalf("Get ok = %v, want %v", ok, tt.ok)
			}
		})
	}
}

func TestMemoryCacheLRU(t *testing.T) {
	c := newClock()
	mc := NewMemoryCache(2, c.Now)
	ctx := context.Background()
	e := Entry{Valid: true, Fresh: c.Now().Add(time.Minute)}
	mc.Set(ctx, "a", e)
	mc.Set(ctx, "b", e)
	mc.Get(ctx, "a") // a is now the most recently used
	mc.Set(ctx, "c", e)
	if _, ok, _ := mc.Get(ctx, "b"); ok {
		t.Fatal("the least recently used entry was kept")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok, _ := mc.Get(ctx, k); !ok {
			t.Fatalf("%s was evicted", k)
		}
	}
	mc.Delete(ctx, "a")
	if _, ok, _ := mc.Get(ctx, "a"); ok || mc.Len() != 1 {
		t.Fatalf("Delete left %d entries", mc.Len())
	}
	c.Advance(time.Minute)
	mc.Sweep()
	if mc.Len() != 0 {
		t.Fatalf("Sweep left %d entries", mc.Len())
	}
}

func TestMemoryFailures(t *testing.T) {
	c := newClock()
	f := NewMemoryFailures(10, c.Now)
	ctx := context.Background()
	f.Fail(ctx, "k", Failure{Reason: backend.ReasonExpired}, c.Now().Add(time.Second))
	if r, ok, _ := f.Failed(ctx, "k"); !ok || r.Reason != backend.ReasonExpired {
		t.Fatalf("Failed = %+v, %v", r, ok)
	}
	c.Advance(time.Second)
	if _, ok, _ := f.Failed(ctx, "k"); ok {
		t.Fatal("a failure outlived its time")
	}
}

func TestMemoryLimiterBounded(t *testing.T) {
	c := newClock()
	l := NewMemoryLimiter(1, 3, c.Now)
	ctx := context.Background()
	for i := range 10 {
		if !l.Allow(ctx, fmt.Sprint("client", i)) {
			t.Fatalf("client%d refused its first action", i)
		}
		if n := l.s.Len(); n > 3 {
			t.Fatalf("limiter holds %d keys, bound 3", n)
		}
	}
	if l.Allow(ctx, "client9") {
		t.Fatal("client9 allowed twice within a minute")
	}
	if !NewMemoryLimiter(0, 3, c.Now).Allow(ctx, "x") {
		t.Fatal("a zero cap refused")
	}
	huge := NewMemoryLimiter(int(time.Minute)+1, 3, c.Now) // over one per nanosecond
	for range 3 {
		if !huge.Allow(ctx, "x") {
			t.Fatal("a cap of more than one per nanosecond refused")
		}
	}

	// Sweep drops the buckets that are full again (one action refills in a
	// minute), and only those.
	c.Advance(time.Minute - time.Second)
	l.Allow(ctx, "late")
	c.Advance(time.Second)
	l.Sweep()
	if n := l.s.Len(); n != 1 {
		t.Fatalf("limiter holds %d keys after Sweep, want 1 (late's bucket is not full)", n)
	}
}

// The janitor sweeps the in-memory stores a Manager is given, as it does
// those it makes: a gateway hands its stores to the Manager of the gateway
// replacing it on a reload.
func TestJanitorSweepsGivenStores(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		cache := NewMemoryCache(10, nil) // the bubble's clock
		cache.Set(ctx, "k", Entry{Fresh: time.Now().Add(time.Second)})
		m, err := New(Options{Backend: idleBackend{}, Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		time.Sleep(sweepEvery + time.Second)
		synctest.Wait()
		if n := cache.Len(); n != 0 {
			t.Fatalf("the given cache holds %d expired entries after a sweep, want 0", n)
		}
	})
}

// idleBackend is a Backend that is never called.
type idleBackend struct{}

func (idleBackend) Validate(context.Context, string) (Identity, error) {
	return Identity{}, errors.New("not called")
}
func (idleBackend) Refresh(context.Context, string) (Tokens, error) {
	return Tokens{}, errors.New("not called")
}
func (idleBackend) Guest(context.Context) (string, error) { return "", errors.New("not called") }
