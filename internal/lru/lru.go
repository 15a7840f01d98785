package lru

import (
	"container/list"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Map is a size-bounded, least-recently-used map from strings to V whose
// entries expire. It is safe for concurrent use.
//
// A large one is split into shards by key hash, each with its own lock:
// every request's cache lookup takes a lock, and a single lock for all of
// them was the one lock of ours contended under load (bench -profile,
// mutex profile). The bound stays the whole map's (a count shared by the
// shards), so a map sized for N entries holds N; when it is full, an
// insert evicts the least recently used entry of its own shard, which for
// a map of thousands of entries approximates the global order well. A map
// of fewer than 16×256 entries, or made by NewExact, has one shard: an
// exact LRU.
type Map[V any] struct {
	seed   maphash.Seed
	shards []*shard[V]
	total  atomic.Int64
}

const (
	shards      = 16
	minPerShard = 256 // smaller maps keep one shard: an exact LRU
)

// New returns an empty Map of at most max entries (at least 1), sharded
// when max is large.
func New[V any](max int) *Map[V] {
	n := 1
	if max >= shards*minPerShard {
		n = shards
	}
	return newMap[V](max, n)
}

// NewExact returns an empty Map of at most max entries (at least 1) in one
// shard whatever max: an exact LRU under one lock.
func NewExact[V any](max int) *Map[V] { return newMap[V](max, 1) }

func newMap[V any](max, n int) *Map[V] {
	if max < 1 {
		max = 1
	}
	m := &Map[V]{seed: maphash.MakeSeed(), shards: make([]*shard[V], n)}
	for i := range m.shards {
		m.shards[i] = &shard[V]{max: int64(max), total: &m.total, items: make(map[string]*list.Element)}
	}
	return m
}

func (m *Map[V]) shard(key string) *shard[V] {
	if len(m.shards) == 1 {
		return m.shards[0]
	}
	// The last 16 bytes are enough: the keys are hex digests (or client
	// IPs), and hashing 64 hex digits would cost more than the lock saved.
	return m.shards[maphash.String(m.seed, key[max(0, len(key)-16):])%uint64(len(m.shards))]
}

// Get returns the value of key if it lives at now, and marks it recently
// used. An expired entry is removed.
func (m *Map[V]) Get(key string, now time.Time) (V, bool) { return m.shard(key).get(key, now) }

// Set stores v under key until the given time, evicting when the map is
// full. An entry already expired at now is removed instead.
func (m *Map[V]) Set(key string, v V, until, now time.Time) { m.shard(key).set(key, v, until, now) }

// Update replaces the value of key by what f returns, atomically: f is
// called under the lock of key's shard with the current value (live
// false, and v the zero V, when key is absent or expired at now) and
// returns the new value and the time until which it lives. The entry is
// then the most recently used; one already expired at now is removed.
// Update then removes up to a few expired entries at the least recently
// used end of the shard, so that a map only updated needs no Sweep to let
// go of stale state. f must not use the Map.
func (m *Map[V]) Update(key string, now time.Time, f func(v V, live bool) (V, time.Time)) {
	m.shard(key).update(key, now, f)
}

// Delete removes key.
func (m *Map[V]) Delete(key string) { m.shard(key).del(key) }

// Sweep removes every entry expired at now.
func (m *Map[V]) Sweep(now time.Time) {
	for _, s := range m.shards {
		s.sweep(now)
	}
}

// Purge removes every entry.
func (m *Map[V]) Purge() {
	for _, s := range m.shards {
		s.purge()
	}
}

// Len is the number of entries, expired ones included until removed. It
// exceeds the bound only while an insert finds its own shard otherwise
// empty (nothing of it to evict): by at most the number of shards less one.
func (m *Map[V]) Len() int { return int(m.total.Load()) }

// shard is one lock's worth of a Map: an exact LRU, most recently used at
// the front.
type shard[V any] struct {
	mu    sync.Mutex // guards ll and items
	max   int64      // the whole map's bound
	total *atomic.Int64
	ll    list.List // of *item[V]
	items map[string]*list.Element
}

type item[V any] struct {
	key   string
	val   V
	until time.Time
}

// trimPerUpdate is how many expired entries at the cold end of its shard
// one Update may remove: enough to keep up with arrivals, bounded per call.
const trimPerUpdate = 4

func (s *shard[V]) get(key string, now time.Time) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	it := el.Value.(*item[V])
	if !now.Before(it.until) {
		s.remove(el)
		var zero V
		return zero, false
	}
	s.ll.MoveToFront(el)
	return it.val, true
}

func (s *shard[V]) set(key string, v V, until, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(key, v, until, now)
}

func (s *shard[V]) update(key string, now time.Time, f func(V, bool) (V, time.Time)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var old V
	var live bool
	if el, ok := s.items[key]; ok {
		if it := el.Value.(*item[V]); now.Before(it.until) {
			old, live = it.val, true
		}
	}
	v, until := f(old, live)
	s.store(key, v, until, now)
	for range trimPerUpdate {
		el := s.ll.Back()
		if el == nil || now.Before(el.Value.(*item[V]).until) {
			break
		}
		s.remove(el)
	}
}

// store is set under s.mu. An entry of key, expired or not, is reused in
// place.
func (s *shard[V]) store(key string, v V, until, now time.Time) {
	el, ok := s.items[key]
	switch {
	case !now.Before(until):
		if ok {
			s.remove(el)
		}
	case ok:
		it := el.Value.(*item[V])
		it.val, it.until = v, until
		s.ll.MoveToFront(el)
	default:
		s.insert(key, v, until)
	}
}

// insert adds a new entry, then, while the whole map is over its bound,
// evicts this shard's least recently used entries, never the new one.
func (s *shard[V]) insert(key string, v V, until time.Time) {
	s.items[key] = s.ll.PushFront(&item[V]{key: key, val: v, until: until})
	for n := s.total.Add(1); n > s.max && s.ll.Len() > 1; n = s.total.Load() {
		s.remove(s.ll.Back())
	}
}

func (s *shard[V]) del(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.remove(el)
	}
}

func (s *shard[V]) sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for el := s.ll.Back(); el != nil; {
		prev := el.Prev()
		if !now.Before(el.Value.(*item[V]).until) {
			s.remove(el)
		}
		el = prev
	}
}

func (s *shard[V]) purge() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for el := s.ll.Front(); el != nil; el = s.ll.Front() {
		s.remove(el)
	}
}

func (s *shard[V]) remove(el *list.Element) {
	s.ll.Remove(el)
	delete(s.items, el.Value.(*item[V]).key)
	s.total.Add(-1)
}
