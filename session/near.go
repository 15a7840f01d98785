package session

import (
	"context"
	"hash/maphash"
	"sync/atomic"
	"time"

	"github.com/apilayer/apilayer/internal/lru"
)

// NearCache is a Cache in front of a shared one (the Redis cache of
// distributed mode, store.redis.nearCacheTTL): it keeps in memory what it
// reads from or writes to the shared cache for at most a TTL, never past
// an entry's Fresh, so that a cache hit costs no round trip.
//
// An entry is at most TTL older than the shared cache's. Changes made by
// other instances reach it sooner through Drop (an invalidation announced
// by the instance that made the change) and Purge (invalidations may have
// been missed); the owner of the NearCache calls them. It never serves an
// entry past Fresh: stale-if-error answers and fresh verdicts written by
// other instances are read from the shared cache.
//
// It is safe for concurrent use.
type NearCache struct {
	shared Cache
	l      *lru.Map[Entry] // each entry until min(stored+ttl, Fresh)
	ttl    time.Duration
	now    func() time.Time

	// gens are bumped by Drop (the key's) and Purge (all): a value read
	// from the shared cache is kept only if its key's generation did not
	// change meanwhile, so an invalidation that arrives while the read is
	// in flight is not undone by it.
	seed maphash.Seed
	gens [nearGens]atomic.Uint64
}

// nearGens is the number of generation counters, by key hash: an
// invalidation discards the reads in flight of 1/nearGens of the keys.
const nearGens = 64

// NewNearCache returns a NearCache over shared keeping at most size entries
// (if size is zero, DefaultCacheSize) for at most ttl (positive). If now
// is nil, time.Now is used.
func NewNearCache(shared Cache, ttl time.Duration, size int, now func() time.Time) *NearCache {
	if size == 0 {
		size = DefaultCacheSize
	}
	if now == nil {
		now = time.Now
	}
	return &NearCache{shared: shared, l: lru.New[Entry](size), ttl: ttl, now: now, seed: maphash.MakeSeed()}
}

func (c *NearCache) gen(key string) *atomic.Uint64 {
	return &c.gens[maphash.String(c.seed, key)%nearGens]
}

// Get implements Cache: an entry held in memory, else the shared cache's,
// which is then held. The shared cache's error is returned as is.
func (c *NearCache) Get(ctx context.Context, key string) (Entry, bool, error) {
	if e, ok := c.l.Get(key, c.now()); ok {
		return e, true, nil
	}
	g := c.gen(key)
	before := g.Load()
	e, ok, err := c.shared.Get(ctx, key)
	if err != nil || !ok {
		return e, ok, err
	}
	c.hold(key, e, g, before)
	return e, true, nil
}

// Set implements Cache: the entry is written to the shared cache, then
// held in memory. If the shared cache fails, nothing is held and its error
// is returned.
func (c *NearCache) Set(ctx context.Context, key string, e Entry) error {
	g := c.gen(key)
	before := g.Load()
	if err := c.shared.Set(ctx, key, e); err != nil {
		c.Drop(key)
		return err
	}
	c.hold(key, e, g, before)
	return nil
}

// Delete implements Cache: the entry is deleted from the shared cache,
// then from memory (also when the shared cache fails, whose error is
// returned).
func (c *NearCache) Delete(ctx context.Context, key string) error {
	err := c.shared.Delete(ctx, key)
	c.Drop(key)
	return err
}

// hold keeps e in memory until min(now+ttl, e.Fresh), unless key's
// generation g changed since it was before (the entry may predate an
// invalidation).
func (c *NearCache) hold(key string, e Entry, g *atomic.Uint64, before uint64) {
	now := c.now()
	until := now.Add(c.ttl)
	if e.Fresh.Before(until) {
		until = e.Fresh
	}
	c.l.Set(key, e, until, now) // an entry not fresh is removed instead
	if g.Load() != before {
		// An invalidation came in meanwhile (it may have dropped the key
		// before this set): the entry read may be the one it invalidated.
		c.l.Delete(key)
	}
}

// Drop removes key from memory (not from the shared cache): another
// instance changed or deleted its entry.
func (c *NearCache) Drop(key string) {
	c.gen(key).Add(1)
	c.l.Delete(key)
}

// Purge removes every entry from memory, as when invalidations may have
// been missed.
func (c *NearCache) Purge() {
	for i := range c.gens {
		c.gens[i].Add(1)
	}
	c.l.Purge()
}

// Holds reports whether key has an entry in memory now (without reading
// the shared cache).
func (c *NearCache) Holds(key string) bool {
	_, ok := c.l.Get(key, c.now())
	return ok
}

// Len returns the number of entries held in memory, expired ones included
// until they are looked up or evicted.
func (c *NearCache) Len() int { return c.l.Len() }
