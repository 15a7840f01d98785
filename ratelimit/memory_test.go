package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/apilayer/apilayer/ratelimit"
	"github.com/apilayer/apilayer/ratelimit/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) ratelimit.Store {
		s := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{Now: now})
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMemoryStoreBound(t *testing.T) {
	clock := storetest.NewClock(time.Unix(1_800_000_000, 0))
	s := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: 3, Now: clock.Now})
	defer s.Close()
	l := ratelimit.Limit{Burst: 2, Period: time.Minute}
	ctx := t.Context()
	use := func(key string) ratelimit.Result {
		t.Helper()
		res, err := s.Allow(ctx, key, l)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	for _, k := range []string{"a", "b", "c"} {
		use(k)
	}
	use("a") // a is now the most recently used; b the least
	if got := use("a"); got.Allowed {
		t.Fatalf("a after its burst: %+v, want blocked", got)
	}
	use("d") // evicts b
	if n := s.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
	if got := use("a"); got.Allowed {
		t.Errorf("a was evicted: %+v, want still blocked", got)
	}
	if got := use("b"); got.Remaining != 1 {
		t.Errorf("b Remaining = %d, want 1 (evicted, starts full)", got.Remaining)
	}

	for i := range 100 {
		use(fmt.Sprint("flood-", i))
	}
	if n := s.Len(); n != 3 {
		t.Errorf("Len after a flood = %d, want 3", n)
	}
}

func TestMemoryStoreForgetsFullBuckets(t *testing.T) {
	clock := storetest.NewClock(time.Unix(1_800_000_000, 0))
	s := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{Now: clock.Now})
	defer s.Close()
	l := ratelimit.Limit{Burst: 10, Period: time.Second}
	for i := range 6 {
		if _, err := s.Allow(t.Context(), fmt.Sprint("k", i), l); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Second) // every bucket is full again: no state left
	if _, err := s.Allow(t.Context(), "new", l); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Allow(t.Context(), "new", l); err != nil {
		t.Fatal(err)
	}
	// Each call sweeps a bounded number of expired entries.
	if n := s.Len(); n != 1 {
		t.Errorf("Len = %d, want 1 after two calls swept the six expired keys", n)
	}
}

// Sweep drops every full bucket, whatever the order of use; the buckets
// still refilling stay with their state.
func TestMemoryStoreSweep(t *testing.T) {
	clock := storetest.NewClock(time.Unix(1_800_000_000, 0))
	s := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{Now: clock.Now})
	defer s.Close()
	short := ratelimit.Limit{Burst: 1, Period: time.Second}
	long := ratelimit.Limit{Burst: 1, Period: time.Hour}
	allow := func(key string, l ratelimit.Limit) ratelimit.Result {
		t.Helper()
		res, err := s.Allow(t.Context(), key, l)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	allow("long", long) // least recently used, yet kept
	for i := range 10 {
		allow(fmt.Sprint("short", i), short)
	}
	clock.Advance(time.Second)
	s.Sweep()
	if n := s.Len(); n != 1 {
		t.Fatalf("Len = %d after Sweep, want 1 (only the bucket still refilling)", n)
	}
	if res := allow("long", long); res.Allowed {
		t.Errorf("long was forgotten by Sweep: %+v, want still blocked", res)
	}
}
