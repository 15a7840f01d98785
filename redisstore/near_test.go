package redisstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/internal/storetest"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/session"
)

// The near cache over the Redis cache, alone and over the fallback, is a
// cache like the others.
func TestNearCacheConformance(t *testing.T) {
	r := testkit.StartRedis(t)
	t.Run("over Cache", func(t *testing.T) {
		storetest.Cache(t, func(t *testing.T, now func() time.Time) session.Cache {
			s := newStore(t, r, redisstore.Options{Now: now})
			return s.NearCache(s.Cache(), time.Second, 100)
		})
	})
	t.Run("over CacheWithFallback", func(t *testing.T) {
		storetest.Cache(t, func(t *testing.T, now func() time.Time) session.Cache {
			s := newStore(t, r, redisstore.Options{Now: now})
			return s.NearCache(redisstore.CacheWithFallback(s.Cache(), session.NewMemoryCache(100, now)), time.Second, 100)
		})
	})
}

// instance is one gateway's view of a shared Redis: its Store and the near
// cache over its fallback cache, as the gateway builds them.
type instance struct {
	s    *redisstore.Store
	near *session.NearCache
	fail session.Failures
}

func newInstances(t *testing.T, r *testkit.Redis, n int, opts redisstore.Options) []instance {
	t.Helper()
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = "test:" + t.Name() + ":"
	}
	out := make([]instance, n)
	for i := range out {
		s := newStore(t, r, opts)
		out[i] = instance{
			s:    s,
			near: s.NearCache(redisstore.CacheWithFallback(s.Cache(), session.NewMemoryCache(100, opts.Now)), time.Hour, 100),
			fail: redisstore.FailuresWithFallback(s.Failures(), session.NewMemoryFailures(100, opts.Now)),
		}
	}
	return out
}

// waitFor polls cond (bounded: a real redis-server is involved) and returns
// how long it took to hold.
func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s: not after 10s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
	return time.Since(start)
}

// fill makes every instance hold key (read from Redis into its near cache).
func fill(t *testing.T, insts []instance, key string) {
	t.Helper()
	for i, in := range insts {
		if _, ok, err := in.near.Get(t.Context(), key); err != nil || !ok || !in.near.Holds(key) {
			t.Fatalf("instance %d: Get %v, %v; held %v", i, ok, err, in.near.Holds(key))
		}
	}
}

// TestNearCacheInvalidation: what makes a held result wrong, done on one
// instance, drops it from the near caches of the others; a failure of the
// backend to answer does not. The near TTL is an hour: only the
// invalidation can drop an entry here.
func TestNearCacheInvalidation(t *testing.T) {
	r := testkit.StartRedis(t)
	insts := newInstances(t, r, 3, redisstore.Options{})
	ctx := t.Context()
	valid := session.Entry{Valid: true, Identity: &session.Identity{Type: "user"}, Fresh: time.Now().Add(time.Hour)}

	tests := []struct {
		name       string
		invalidate func(a instance, key string) error
	}{
		{"logout (Delete)", func(a instance, key string) error { return a.near.Delete(ctx, key) }},
		{"invalid verdict (Set)", func(a instance, key string) error {
			return a.near.Set(ctx, key, session.Entry{Fresh: time.Now().Add(time.Minute)})
		}},
		{"failed refresh", func(a instance, key string) error {
			return a.fail.Fail(ctx, key, session.Failure{Reason: backend.ReasonExpired}, time.Now().Add(time.Minute))
		}},
		{"reuse detection", func(a instance, key string) error {
			return a.fail.Fail(ctx, key, session.Failure{Reason: backend.ReasonReuse}, time.Now().Add(time.Minute))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := session.Key("token " + tt.name)
			if err := insts[0].near.Set(ctx, key, valid); err != nil {
				t.Fatal(err)
			}
			fill(t, insts, key)
			if err := tt.invalidate(insts[0], key); err != nil {
				t.Fatal(err)
			}
			for i, in := range insts[1:] {
				waitFor(t, fmt.Sprintf("instance %d drops the key", i+1), func() bool { return !in.near.Holds(key) })
			}
		})
	}

	t.Run("network failure and foreign messages change nothing", func(t *testing.T) {
		key, marker := session.Key("kept"), session.Key("marker")
		for _, k := range []string{key, marker} {
			if err := insts[0].near.Set(ctx, k, valid); err != nil {
				t.Fatal(err)
			}
			fill(t, insts, k)
		}
		if err := insts[0].fail.Fail(ctx, key, session.Failure{Reason: backend.ReasonNetwork}, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		raw := rawClient(t, r)
		channel := "test:" + strings.Split(t.Name(), "/")[0] + ":invalidate"
		for _, msg := range []string{"not a key", strings.ToUpper(key)} {
			if err := raw.Publish(ctx, channel, msg).Err(); err != nil {
				t.Fatal(err)
			}
		}
		// Messages of one channel arrive in order: once the marker's
		// invalidation has been applied, the ones before it were too.
		if err := insts[0].near.Delete(ctx, marker); err != nil {
			t.Fatal(err)
		}
		for i, in := range insts[1:] {
			waitFor(t, fmt.Sprintf("instance %d drops the marker", i+1), func() bool { return !in.near.Holds(marker) })
			if !in.near.Holds(key) {
				t.Fatalf("instance %d dropped a key whose refresh failed as network, or on a foreign message", i+1)
			}
		}
	})
}

// TestNearCacheInvalidationLatency measures, over 200 deletes on one
// instance, the time from the delete's return to the moment both other
// instances dropped the key.
func TestNearCacheInvalidationLatency(t *testing.T) {
	r := testkit.StartRedis(t)
	insts := newInstances(t, r, 3, redisstore.Options{})
	ctx := t.Context()
	valid := session.Entry{Valid: true, Identity: &session.Identity{Type: "user"}, Fresh: time.Now().Add(time.Hour)}
	const n = 200
	took := make([]time.Duration, n)
	for i := range n {
		key := session.Key(fmt.Sprintf("token-%d", i))
		if err := insts[0].near.Set(ctx, key, valid); err != nil {
			t.Fatal(err)
		}
		fill(t, insts, key)
		if err := insts[0].near.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		took[i] = waitFor(t, "every instance drops the key", func() bool {
			return !insts[1].near.Holds(key) && !insts[2].near.Holds(key)
		})
	}
	slices.Sort(took)
	t.Logf("delete returned -> dropped by 2 other instances, %d deletes: p50 %v, p99 %v, max %v",
		n, took[n/2], took[n*99/100], took[n-1])
	// Publish to drop is a loopback round trip: 100 ms is far above it.
	if p99 := took[n*99/100]; p99 > 100*time.Millisecond {
		t.Fatalf("p99 %v, want at most 100ms", p99)
	}
}

// TestNearCacheAfterRedisRestart: go-redis reconnects the subscription of
// a Store by itself after Redis restarts; its confirmation empties the
// near caches (invalidations may have been lost), and invalidations
// published afterwards arrive again.
func TestNearCacheAfterRedisRestart(t *testing.T) {
	r := testkit.StartRedis(t)
	insts := newInstances(t, r, 2, redisstore.Options{Timeout: time.Second})
	ctx := t.Context()
	valid := session.Entry{Valid: true, Identity: &session.Identity{Type: "user"}, Fresh: time.Now().Add(time.Hour)}
	held := session.Key("held across the restart")
	if err := insts[0].near.Set(ctx, held, valid); err != nil {
		t.Fatal(err)
	}
	fill(t, insts, held)

	r.Kill()
	r.Restart()
	// No call of this test touches Redis: only the subscription notices.
	for i, in := range insts {
		waitFor(t, fmt.Sprintf("instance %d empties its near cache", i), func() bool { return in.near.Len() == 0 })
	}
	raw := rawClient(t, r)
	channel := "test:" + t.Name() + ":invalidate"
	waitFor(t, "both subscribed again", func() bool {
		n, err := raw.PubSubNumSub(ctx, channel).Result()
		return err == nil && n[channel] == 2
	})

	key := session.Key("after the restart")
	if err := insts[0].near.Set(ctx, key, valid); err != nil {
		t.Fatal(err)
	}
	fill(t, insts, key)
	if err := insts[0].near.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "instance 1 drops the key", func() bool { return !insts[1].near.Holds(key) })
}

// TestNearCacheDuringOutage: while Redis does not answer, a near cache
// serves what it holds for its TTL without calling Redis, then the
// fallback serves; when the breaker closes again the near cache is
// emptied (its entries may have been invalidated meanwhile).
func TestNearCacheDuringOutage(t *testing.T) {
	r := testkit.StartRedis(t)
	clock := testkit.NewClock(time.Now())
	changes := make(chan bool, 10)
	s := newStore(t, r, redisstore.Options{
		Timeout:          100 * time.Millisecond,
		FailureThreshold: 1,
		CoolDown:         10 * time.Millisecond,
		Now:              clock.Now,
		OnStateChange:    func(up bool) { changes <- up },
	})
	near := s.NearCache(redisstore.CacheWithFallback(s.Cache(), session.NewMemoryCache(100, clock.Now)), time.Second, 100)
	ctx := t.Context()
	k := session.Key("t")
	if err := near.Set(ctx, k, session.Entry{Valid: true, Fresh: clock.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}

	r.Pause() // Redis hangs: the subscription's connection stays open
	for range 10 {
		if _, ok, err := near.Get(ctx, k); err != nil || !ok {
			t.Fatalf("Get within the near TTL: %v, %v", ok, err)
		}
	}
	select {
	case up := <-changes:
		t.Fatalf("availability changed to %v: a near hit called Redis", up)
	default:
	}
	clock.Advance(time.Second)
	if _, ok, err := near.Get(ctx, k); err != nil || !ok {
		t.Fatalf("Get past the near TTL, Redis hanging: %v, %v (the fallback serves)", ok, err)
	}
	waitState(t, changes, false)
	if !near.Holds(k) {
		t.Fatal("the fallback's answer is not held")
	}

	r.Resume()
	waitState(t, changes, true)
	if near.Holds(k) {
		t.Fatal("near cache not emptied when the breaker closed")
	}
}

// TestCloseLeavesNoGoroutine: Close stops the Store's goroutines, its
// subscriber included.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	r := testkit.StartRedis(t)
	before := runtime.NumGoroutine()
	s, err := redisstore.New(t.Context(), redisstore.Options{URL: r.URL(), Logger: slog.New(slog.DiscardHandler), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	near := s.NearCache(s.Cache(), time.Minute, 10)
	ctx := context.Background()
	k := session.Key("t")
	if err := near.Set(ctx, k, session.Entry{Valid: true, Fresh: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := near.Delete(ctx, k); err != nil { // an invalidation through the subscriber
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// go-redis's own health-check goroutine of the subscription ends on
	// Close without being awaited: bounded wait.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before New, %d after Close\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
