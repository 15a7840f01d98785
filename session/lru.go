package session

import (
	"container/list"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// lru is a size-bounded, least-recently-used map whose entries expire. A
// large one is split into shards by key hash, each with its own lock:
// every request's cache lookup takes a lock, and a single lock for all of
// them was the one lock of ours contended under load (bench -profile,
// mutex profile). The bound stays the whole map's (a count shared by the
// shards), so a map sized for N sessions holds N; when it is full, an
// insert evicts the least recently used entry of its own shard, which for
// a map of thousands of entries approximates the global order well.
type lru[V any] struct {
	seed   maphash.Seed
	shards []*lruShard[V]
	total  atomic.Int64
}

const (
	lruShards   = 16
	minPerShard = 256 // smaller maps keep one shard: an exact LRU
)

func newLRU[V any](max int) *lru[V] {
	if max < 1 {
		max = 1
	}
	n := 1
	if max >= lruShards*minPerShard {
		n = lruShards
	}
	c := &lru[V]{seed: maphash.MakeSeed(), shards: make([]*lruShard[V], n)}
	for i := range c.shards {
		c.shards[i] = &lruShard[V]{max: int64(max), total: &c.total, items: make(map[string]*list.Element)}
	}
	return c
}

func (c *lru[V]) shard(key string) *lruShard[V] {
	if len(c.shards) == 1 {
		return c.shards[0]
	}
	// The last 16 bytes are enough: the keys are hex digests (or client
	// IPs), and hashing 64 hex digits would cost more than the lock saved.
	return c.shards[maphash.String(c.seed, key[max(0, len(key)-16):])%uint64(len(c.shards))]
}

// get returns the live value of key and marks it recently used.
func (c *lru[V]) get(key string, now time.Time) (V, bool) { return c.shard(key).get(key, now) }

// set stores v under key until the given time, evicting when the map is
// full. An entry already expired is removed.
func (c *lru[V]) set(key string, v V, until, now time.Time) { c.shard(key).set(key, v, until, now) }

// getOrSet returns the live value of key, or stores and returns mk(). Either
// way the entry now lives until the given time.
func (c *lru[V]) getOrSet(key string, mk func() V, until, now time.Time) V {
	return c.shard(key).getOrSet(key, mk, until, now)
}

func (c *lru[V]) del(key string) { c.shard(key).del(key) }

// sweep removes every expired entry.
func (c *lru[V]) sweep(now time.Time) {
	for _, s := range c.shards {
		s.sweep(now)
	}
}

// purge removes every entry.
func (c *lru[V]) purge() {
	for _, s := range c.shards {
		s.mu.Lock()
		for el := s.ll.Front(); el != nil; el = s.ll.Front() {
			s.removeElement(el)
		}
		s.mu.Unlock()
	}
}

// len is the number of entries, expired ones included until swept. It
// exceeds the bound only while an insert finds its own shard otherwise
// empty (nothing of it to evict): by at most the number of shards less one.
func (c *lru[V]) len() int { return int(c.total.Load()) }

// lruShard is one lock's worth of an lru: an exact LRU.
type lruShard[V any] struct {
	mu    sync.Mutex // guards ll and items
	max   int64      // the whole map's bound
	total *atomic.Int64
	ll    list.List
	items map[string]*list.Element
}

type lruItem[V any] struct {
	key   string
	val   V
	until time.Time
}

func (c *lruShard[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	it := el.Value.(*lruItem[V])
	if !now.Before(it.until) {
		c.removeElement(el)
		var zero V
		return zero, false
	}
	c.ll.MoveToFront(el)
	return it.val, true
}

func (c *lruShard[V]) set(key string, v V, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !now.Before(until) {
		if el, ok := c.items[key]; ok {
			c.removeElement(el)
		}
		return
	}
	if el, ok := c.items[key]; ok {
		it := el.Value.(*lruItem[V])
		it.val, it.until = v, until
		c.ll.MoveToFront(el)
		return
	}
	c.insert(key, v, until)
}

func (c *lruShard[V]) getOrSet(key string, mk func() V, until, now time.Time) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		it := el.Value.(*lruItem[V])
		if now.Before(it.until) {
			it.until = until
			c.ll.MoveToFront(el)
			return it.val
		}
		c.removeElement(el)
	}
	v := mk()
	c.insert(key, v, until)
	return v
}

// insert adds a new entry, then, while the whole map is over its bound,
// evicts this shard's least recently used entries, never the new one.
func (c *lruShard[V]) insert(key string, v V, until time.Time) {
	c.items[key] = c.ll.PushFront(&lruItem[V]{key: key, val: v, until: until})
	for n := c.total.Add(1); n > c.max && c.ll.Len() > 1; n = c.total.Load() {
		c.removeElement(c.ll.Back())
	}
}

func (c *lruShard[V]) del(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
}

func (c *lruShard[V]) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.ll.Back(); el != nil; {
		prev := el.Prev()
		if !now.Before(el.Value.(*lruItem[V]).until) {
			c.removeElement(el)
		}
		el = prev
	}
}

func (c *lruShard[V]) removeElement(el *list.Element) {
	c.ll.Remove(el)
	delete(c.items, el.Value.(*lruItem[V]).key)
	c.total.Add(-1)
}
