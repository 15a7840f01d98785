package session

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// countingCache is a shared cache that counts its calls and can run a hook
// in the middle of a Get (between reading and returning), or fail.
type countingCache struct {
	Cache
	gets, sets, dels atomic.Int64
	duringGet        func()
	err              error
}

func (c *countingCache) Get(ctx context.Context, key string) (Entry, bool, error) {
	c.gets.Add(1)
	if c.err != nil {
		return Entry{}, false, c.err
	}
	e, ok, err := c.Cache.Get(ctx, key)
	if c.duringGet != nil {
		c.duringGet()
	}
	return e, ok, err
}

func (c *countingCache) Set(ctx context.Context, key string, e Entry) error {
	c.sets.Add(1)
	if c.err != nil {
		return c.err
	}
	return c.Cache.Set(ctx, key, e)
}

func (c *countingCache) Delete(ctx context.Context, key string) error {
	c.dels.Add(1)
	if c.err != nil {
		return c.err
	}
	return c.Cache.Delete(ctx, key)
}

func newNear(t *testing.T, ttl time.Duration) (*clock, *countingCache, *NearCache) {
	t.Helper()
	c := newClock()
	shared := &countingCache{Cache: NewMemoryCache(100, c.Now)}
	return c, shared, NewNearCache(shared, ttl, 100, c.Now)
}

func TestNearCacheServesFromMemoryForItsTTL(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		fresh time.Duration // the entry's freshness, from now
		ttl   time.Duration
		// held is how long the near cache serves it without a shared read.
		held time.Duration
	}{
		{"ttl shorter than fresh", time.Minute, time.Second, time.Second},
		{"never past fresh", 300 * time.Millisecond, time.Second, 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, shared, near := newNear(t, tt.ttl)
			e := Entry{Valid: true, Identity: &Identity{Type: "user"}, Fresh: c.Now().Add(tt.fresh)}
			shared.Cache.Set(ctx, "k", e)

			for range 3 {
				if got, ok, err := near.Get(ctx, "k"); err != nil || !ok || !got.Fresh.Equal(e.Fresh) {
					t.Fatalf("Get = %v, %v, %v", got, ok, err)
				}
			}
			if n := shared.gets.Load(); n != 1 {
				t.Fatalf("shared reads for 3 Gets = %d, want 1", n)
			}
			c.Advance(tt.held - time.Nanosecond)
			near.Get(ctx, "k")
			if n := shared.gets.Load(); n != 1 {
				t.Fatalf("shared reads just before %v = %d, want 1", tt.held, n)
			}
			c.Advance(time.Nanosecond)
			near.Get(ctx, "k")
			if n := shared.gets.Load(); n != 2 {
				t.Fatalf("shared reads at %v = %d, want 2 (the near entry is over)", tt.held, n)
			}
		})
	}
}

func TestNearCacheReadsSharedChangesAfterTTL(t *testing.T) {
	ctx := context.Background()
	c, shared, near := newNear(t, time.Second)
	shared.Cache.Set(ctx, "k", Entry{Valid: true, Identity: &Identity{Type: "user"}, Fresh: c.Now().Add(time.Minute)})
	near.Get(ctx, "k")
	// Another instance deletes it and the invalidation never arrives.
	shared.Cache.Delete(ctx, "k")
	if _, ok, _ := near.Get(ctx, "k"); !ok {
		t.Fatal("near entry not served within its TTL")
	}
	c.Advance(time.Second)
	if _, ok, _ := near.Get(ctx, "k"); ok {
		t.Fatal("a missed invalidation outlived the near TTL")
	}
}

func TestNearCacheNotFreshIsNotHeld(t *testing.T) {
	ctx := context.Background()
	c, shared, near := newNear(t, time.Second)
	// Kept by the shared cache for stale-if-error only.
	e := Entry{Valid: true, Identity: &Identity{Type: "user"}, Fresh: c.Now(), Stale: c.Now().Add(time.Minute)}
	shared.Cache.Set(ctx, "k", e)
	for range 2 {
		if _, ok, _ := near.Get(ctx, "k"); !ok {
			t.Fatal("stale entry of the shared cache not returned")
		}
	}
	if n := shared.gets.Load(); n != 2 {
		t.Fatalf("shared reads = %d, want 2 (an entry past Fresh is never held)", n)
	}
	if near.Len() != 0 {
		t.Fatalf("near cache holds %d entries, want 0", near.Len())
	}
}

func TestNearCacheWrites(t *testing.T) {
	ctx := context.Background()
	c, shared, near := newNear(t, time.Second)
	e := Entry{Valid: true, Identity: &Identity{Type: "user"}, Fresh: c.Now().Add(time.Minute)}

	if err := near.Set(ctx, "k", e); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := shared.Cache.Get(ctx, "k"); !ok {
		t.Fatal("Set did not write the shared cache")
	}
	if _, ok, _ := near.Get(ctx, "k"); !ok || shared.gets.Load() != 0 {
		t.Fatalf("Get after Set: ok %v, shared reads %d; want a hit from memory", ok, shared.gets.Load())
	}

	if err := near.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := shared.Cache.Get(ctx, "k"); ok {
		t.Fatal("Delete did not delete from the shared cache")
	}
	if near.Holds("k") {
		t.Fatal("Delete left the entry in memory")
	}

	// The shared cache fails: nothing is held, the error is returned.
	near.Set(ctx, "k", e)
	shared.err = errors.New("down")
	if err := near.Set(ctx, "k", Entry{Fresh: c.Now().Add(time.Minute)}); !errors.Is(err, shared.err) {
		t.Fatalf("Set with the shared cache down: %v", err)
	}
	if near.Holds("k") {
		t.Fatal("a failed Set left the previous entry in memory")
	}
	if _, _, err := near.Get(ctx, "k"); !errors.Is(err, shared.err) {
		t.Fatalf("Get with the shared cache down: %v", err)
	}
	shared.err = nil
	near.Set(ctx, "k", e)
	shared.err = errors.New("down")
	if err := near.Delete(ctx, "k"); !errors.Is(err, shared.err) {
		t.Fatalf("Delete with the shared cache down: %v", err)
	}
	if near.Holds("k") {
		t.Fatal("a failed Delete left the entry in memory")
	}
}

func TestNearCacheDropAndPurge(t *testing.T) {
	ctx := context.Background()
	c, shared, near := newNear(t, time.Minute)
	e := Entry{Valid: true, Identity: &Identity{Type: "user"}, Fresh: c.Now().Add(time.Hour)}
	for _, k := range []string{"a", "b", "c"} {
		near.Set(ctx, k, e)
	}
	near.Drop("a")
	if near.Holds("a") || !near.Holds("b") {
		t.Fatalf("after Drop(a): holds a %v, b %v; want false, true", near.Holds("a"), near.Holds("b"))
	}
	if _, ok, _ := shared.Cache.Get(ctx, "a"); !ok {
		t.Fatal("Drop deleted from the shared cache")
	}
	near.Purge()
	if near.Len() != 0 {
		t.Fatalf("after Purge: %d entries, want 0", near.Len())
	}
	// Both are read again from the shared cache.
	before := shared.gets.Load()
	near.Get(ctx, "a")
	near.Get(ctx, "b")
	if n := shared.gets.Load() - before; n != 2 {
		t.Fatalf("shared reads after Drop and Purge = %d, want 2", n)
	}
}

// An invalidation that arrives while a read of the shared cache is in
// flight wins: the value read (which may predate it) is not held.
func TestNearCacheInvalidationDuringRead(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		invalidate func(*NearCache)
	}{
		{"drop", func(n *NearCache) { n.Drop("k") }},
		{"purge", func(n *NearCache) { n.Purge() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, shared, near := newNear(t, time.Minute)
			shared.Cache.Set(ctx, "k", Entry{Valid: true, Identity: &Identity{Type: "user"}, Fresh: c.Now().Add(time.Hour)})
			shared.duringGet = func() { tt.invalidate(near) }
			if _, ok, _ := near.Get(ctx, "k"); !ok {
				t.Fatal("the read's own answer was lost")
			}
			if near.Holds("k") {
				t.Fatal("a value read before the invalidation is held after it")
			}
			shared.duringGet = nil
			near.Get(ctx, "k")
			if !near.Holds("k") {
				t.Fatal("a read after the invalidation is not held")
			}
		})
	}
}

func TestNearCacheBounded(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	near := NewNearCache(NewMemoryCache(100, c.Now), time.Minute, 3, c.Now)
	e := Entry{Valid: true, Fresh: c.Now().Add(time.Hour)}
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		near.Set(ctx, k, e)
	}
	if near.Len() != 3 {
		t.Fatalf("near cache of size 3 holds %d entries", near.Len())
	}
	if near.Holds("a") || !near.Holds("e") {
		t.Fatal("not the least recently used entries evicted")
	}
}
