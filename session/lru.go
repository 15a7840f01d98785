package session

import (
	"container/list"
	"sync"
	"time"
)

// lru is a size-bounded, least-recently-used map whose entries expire.
type lru[V any] struct {
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

func newLRU[V any](max int) *lru[V] {
	if max < 1 {
		max = 1
	}
	return &lru[V]{max: max, items: make(map[string]*list.Element)}
}

// get returns the live value of key and marks it recently used.
func (c *lru[V]) get(key string, now time.Time) (V, bool) {
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
func (c *lru[V]) set(key string, v V, until, now time.Time) {
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
func (c *lru[V]) getOrSet(key string, mk func() V, until, now time.Time) V {
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

func (c *lru[V]) del(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
}

// sweep removes every expired entry.
func (c *lru[V]) sweep(now time.Time) {
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

func (c *lru[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

func (c *lru[V]) removeElement(el *list.Element) {
	c.ll.Remove(el)
	delete(c.items, el.Value.(*lruItem[V]).key)
}
