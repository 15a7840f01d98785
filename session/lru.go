package session

import (
	"container/list"
	"hash/maphash"
	"sync"
	"time"
)

// lru is a size-bounded, least-recently-used map whose entries expire. A
// large one is split into shards by key hash, each with its own lock and
// an equal part of the bound: every request's cache lookup takes a lock,
// and a single lock for all of them was the one lock of ours contended
// under load (bench -profile, mutex profile). Recency is then kept per
// shard, which for a map of thousands of entries evicts as well.
type lru[V any] struct {
	seed   maphash.Seed
	shards []*lruShard[V]
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
		per := max / n
		if i < max%n {
			per++ // the bounds add up to max exactly
		}
		c.shards[i] = newLRUShard[V](per)
	}
	return c
}

func (c *lru[V]) shard(key string) *lruShard[V] {
	if len(c.shards) == 1 {
		return c.shards[0]
	}
	return c.shards[maphash.String(c.seed, key)%uint64(len(c.shards))]
}

// get returns the live value of key and marks it recently used.
func (c *lru[V]) get(key string, now time.Time) (V, bool) { return c.shard(key).get(key, now) }

// set stores v under key until the given time, evicting the least recently
// used entry of its shard when the shard is full. An entry already expired
// is removed.
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

func (c *lru[V]) len() int {
	n := 0
	for _, s := range c.shards {
		n += s.len()
	}
	return n
}

// lruShard is one lock's worth of an lru: an exact LRU.
type lruShard[V any] struct {
	mu    sync.Mutex // guards ll and items
	max   int
	ll    list.List
	items map[string]*list.Element
}

type lruItem[V any] struct {
	key   string
	val   V
	until time.Time
}

func newLRUShard[V any](max int) *lruShard[V] {
	return &lruShard[V]{max: max, items: make(map[string]*list.Element)}
}

// get returns the live value of key and marks it recently used.
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

// set stores v under key until the given time, evicting the least recently
// used entry when the map is full. An entry already expired is removed.
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
	c.items[key] = c.ll.PushFront(&lruItem[V]{key: key, val: v, until: until})
	for c.ll.Len() > c.max {
		c.removeElement(c.ll.Back())
	}
}

// getOrSet returns the live value of key, or stores and returns mk(). Either
// way the entry now lives until the given time.
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
	c.items[key] = c.ll.PushFront(&lruItem[V]{key: key, val: v, until: until})
	for c.ll.Len() > c.max {
		c.removeElement(c.ll.Back())
	}
	return v
}

func (c *lruShard[V]) del(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
}

// sweep removes every expired entry.
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

func (c *lruShard[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

func (c *lruShard[V]) removeElement(el *list.Element) {
	c.ll.Remove(el)
	delete(c.items, el.Value.(*lruItem[V]).key)
}
