// Package storetest is the conformance suite of [ratelimit.Store]
// implementations. Every store (memory, Redis) runs the same [Run], so they
// all keep the same GCRA semantics to the microsecond.
package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/ratelimit"
)

// Clock is a manual clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start is an arbitrary instant with a fractional second, so stores that
// round to seconds are caught. Every instant and duration of the suite is a
// whole number of microseconds, so a store may keep time in microseconds
// (a Lua script must: float64 nanoseconds since 1970 are not exact).
var start = time.Date(2026, 11, 26, 20, 1, 2, 345_678_000, time.UTC)

// Run runs the conformance suite. newStore returns a fresh, empty store
// whose only clock is now: a store that reads its own clock (Redis TIME)
// cannot pass, since every expected value is exact at instants the suite
// chooses. newStore may register cleanups with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T, now func() time.Time) ratelimit.Store) {
	t.Helper()
	// Five requests per ten seconds: one refills every two seconds.
	five := ratelimit.Limit{Burst: 5, Period: 10 * time.Second}

	type env struct {
		t     *testing.T
		clock *Clock
		store ratelimit.Store
	}
	setup := func(t *testing.T) *env {
		c := NewClock(start)
		return &env{t: t, clock: c, store: newStore(t, c.Now)}
	}
	allow := func(e *env, key string, l ratelimit.Limit, want ratelimit.Result) {
		e.t.Helper()
		got, err := e.store.Allow(e.t.Context(), key, l)
		if err != nil {
			e.t.Fatalf("Allow(%q, %+v) at %v: %v", key, l, e.clock.Now().Sub(start), err)
		}
		if got != want {
			e.t.Fatalf("Allow(%q, %+v) at +%v:\n got %+v\nwant %+v", key, l, e.clock.Now().Sub(start), got, want)
		}
	}
	ok := func(remaining int, resetAfter time.Duration) ratelimit.Result {
		return ratelimit.Result{Allowed: true, Limit: five.Burst, Remaining: remaining, ResetAfter: resetAfter}
	}
	blocked := func(retryAfter, resetAfter time.Duration) ratelimit.Result {
		return ratelimit.Result{Limit: five.Burst, RetryAfter: retryAfter, ResetAfter: resetAfter}
	}
	exhaust := func(e *env, key string) {
		e.t.Helper()
		for i := range five.Burst {
			allow(e, key, five, ok(five.Burst-1-i, time.Duration(i+1)*2*time.Second))
		}
	}

	t.Run("burst of N allowed then blocked", func(t *testing.T) {
		e := setup(t)
		exhaust(e, "k")
		allow(e, "k", five, blocked(2*time.Second, 10*time.Second))
	})

	t.Run("blocked requests are not counted", func(t *testing.T) {
		e := setup(t)
		exhaust(e, "k")
		for range 3 {
			allow(e, "k", five, blocked(2*time.Second, 10*time.Second))
		}
		e.clock.Advance(2 * time.Second)
		allow(e, "k", five, ok(0, 10*time.Second))
		allow(e, "k", five, blocked(2*time.Second, 10*time.Second))
	})

	t.Run("refill after period over N allows one more", func(t *testing.T) {
		e := setup(t)
		exhaust(e, "k")
		e.clock.Advance(500 * time.Millisecond)
		allow(e, "k", five, blocked(1500*time.Millisecond, 9500*time.Millisecond))
		e.clock.Advance(1500*time.Millisecond - time.Microsecond)
		allow(e, "k", five, blocked(time.Microsecond, 8*time.Second+time.Microsecond))
		e.clock.Advance(time.Microsecond)
		allow(e, "k", five, ok(0, 10*time.Second))
		allow(e, "k", five, blocked(2*time.Second, 10*time.Second))
	})

	t.Run("refill is even", func(t *testing.T) {
		e := setup(t)
		exhaust(e, "k")
		e.clock.Advance(5 * time.Second) // two and a half requests refilled
		allow(e, "k", five, ok(1, 7*time.Second))
		allow(e, "k", five, ok(0, 9*time.Second))
		allow(e, "k", five, blocked(time.Second, 9*time.Second))
	})

	t.Run("full reset after period", func(t *testing.T) {
		e := setup(t)
		exhaust(e, "k")
		e.clock.Advance(10 * time.Second)
		exhaust(e, "k")
		e.clock.Advance(time.Hour)
		exhaust(e, "k")
		allow(e, "k", five, blocked(2*time.Second, 10*time.Second))
	})

	t.Run("paced at the refill rate never blocks", func(t *testing.T) {
		e := setup(t)
		for range 3 * five.Burst {
			allow(e, "k", five, ok(4, 2*time.Second))
			e.clock.Advance(2 * time.Second)
		}
	})

	t.Run("burst of one", func(t *testing.T) {
		e := setup(t)
		one := ratelimit.Limit{Burst: 1, Period: time.Second}
		allow(e, "k", one, ratelimit.Result{Allowed: true, Limit: 1, ResetAfter: time.Second})
		allow(e, "k", one, ratelimit.Result{Limit: 1, RetryAfter: time.Second, ResetAfter: time.Second})
		e.clock.Advance(time.Second)
		allow(e, "k", one, ratelimit.Result{Allowed: true, Limit: 1, ResetAfter: time.Second})
	})

	t.Run("independent keys", func(t *testing.T) {
		e := setup(t)
		exhaust(e, "ip:192.0.2.1")
		allow(e, "ip:192.0.2.1", five, blocked(2*time.Second, 10*time.Second))
		allow(e, "ip:192.0.2.2", five, ok(4, 2*time.Second))
		allow(e, "user:192.0.2.1", five, ok(4, 2*time.Second))
	})

	t.Run("invalid limits are errors", func(t *testing.T) {
		e := setup(t)
		for _, l := range []ratelimit.Limit{
			{Burst: 0, Period: time.Second},
			{Burst: -1, Period: time.Second},
			{Burst: 5, Period: 0},
			{Burst: 5, Period: -time.Second},
			{Burst: 10, Period: 5}, // under a nanosecond per request
		} {
			_, err := e.store.Allow(t.Context(), "k", l)
			if !errors.Is(err, ratelimit.ErrInvalidLimit) {
				t.Errorf("Allow(%+v) error = %v, want ErrInvalidLimit", l, err)
			}
		}
	})

	t.Run("concurrent calls count exactly", func(t *testing.T) {
		e := setup(t)
		const burst, goroutines, perGoroutine = 500, 25, 30 // 750 calls
		l := ratelimit.Limit{Burst: burst, Period: time.Hour}
		var (
			mu        sync.Mutex
			remaining = make(map[int]int)
			blocked   int
			errs      []error
			wg        sync.WaitGroup
		)
		for range goroutines {
			wg.Go(func() {
				for range perGoroutine {
					res, err := e.store.Allow(t.Context(), "shared", l)
					mu.Lock()
					switch {
					case err != nil:
						errs = append(errs, err)
					case res.Allowed:
						remaining[res.Remaining]++
					default:
						blocked++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if len(remaining) != burst || blocked != goroutines*perGoroutine-burst {
			t.Fatalf("%d distinct Remaining values and %d blocked, want %d and %d",
				len(remaining), blocked, burst, goroutines*perGoroutine-burst)
		}
		for r := range burst {
			if remaining[r] != 1 {
				t.Fatalf("Remaining %d reported %d times, want once (lost or doubled update)", r, remaining[r])
			}
		}
	})

	t.Run("concurrent keys are independent", func(t *testing.T) {
		e := setup(t)
		const keys, calls = 8, 40
		l := ratelimit.Limit{Burst: 25, Period: time.Hour}
		allowed := make([]int, keys)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for k := range keys {
			for range 4 {
				wg.Go(func() {
					for range calls / 4 {
						res, err := e.store.Allow(t.Context(), fmt.Sprintf("key-%d", k), l)
						if err != nil {
							t.Error(err)
							return
						}
						if res.Allowed {
							mu.Lock()
							allowed[k]++
							mu.Unlock()
						}
					}
				})
			}
		}
		wg.Wait()
		for k, n := range allowed {
			if n != l.Burst {
				t.Errorf("key-%d: %d allowed, want %d", k, n, l.Burst)
			}
		}
	})
}
