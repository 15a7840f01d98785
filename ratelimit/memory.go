package ratelimit

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// DefaultMaxKeys is the number of keys a [MemoryStore] keeps when
// MemoryOptions.MaxKeys is zero. An entry costs about 150 bytes.
const DefaultMaxKeys = 100_000

// MemoryOptions configures a [MemoryStore]. The zero value works.
type MemoryOptions struct {
	// MaxKeys bounds the number of keys held. When a new key arrives at the
	// bound, the least recently used key is forgotten (its bucket starts
	// full again the next time). If zero, DefaultMaxKeys is used.
	//
	// Trade-off: a client able to produce MaxKeys distinct keys (many source
	// addresses) can push other keys out and reset their buckets. Size it
	// above the number of clients active within one window.
	MaxKeys int

	// Now is the clock. If nil, time.Now is used.
	Now func() time.Time
}

// MemoryStore is an in-process [Store]. It is safe for concurrent use and
// bounded in size. Expired entries (full buckets, which carry no state) are
// removed as calls come in, so it runs no background goroutine.
type MemoryStore struct {
	max int
	now func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // guarded by mu
	lru  list.List                // of *memEntry, least recently used first; guarded by mu
}

type memEntry struct {
	key string
	tat time.Time // the bucket is full again at tat
}

// NewMemoryStore returns an empty memory store.
func NewMemoryStore(opts MemoryOptions) *MemoryStore {
	s := &MemoryStore{max: opts.MaxKeys, now: opts.Now, keys: make(map[string]*list.Element)}
	if s.max <= 0 {
		s.max = DefaultMaxKeys
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// sweepPerCall is how many expired entries at the cold end of the list one
// call may remove: enough to keep up with arrivals, bounded per call.
const sweepPerCall = 4

// Allow implements [Store].
func (s *MemoryStore) Allow(_ context.Context, key string, l Limit) (Result, error) {
	if err := l.Validate(); err != nil {
		return Result{}, err
	}
	now := s.now()

	s.mu.Lock()
	defer s.mu.Unlock()

	// The key's own entry is used even when expired (an expired TAT counts
	// as none), before the sweep: a key used more slowly than its limit
	// refills is updated in place, not dropped and allocated again.
	var tat time.Time
	el, ok := s.keys[key]
	if ok {
		tat = el.Value.(*memEntry).tat
	}
	newTAT, res := gcra(tat, now, l)
	switch {
	case !res.Allowed:
		// Nothing changes, but the key was used: keep it warm.
		if ok {
			s.lru.MoveToBack(el)
		}
	case ok:
		el.Value.(*memEntry).tat = newTAT
		s.lru.MoveToBack(el)
	default:
		if len(s.keys) >= s.max {
			s.remove(s.lru.Front())
		}
		s.keys[key] = s.lru.PushBack(&memEntry{key: key, tat: newTAT})
	}

	for i := 0; i < sweepPerCall; i++ {
		e := s.lru.Front()
		if e == nil || e.Value.(*memEntry).tat.After(now) {
			break
		}
		s.remove(e)
	}
	return res, nil
}

func (s *MemoryStore) remove(e *list.Element) {
	delete(s.keys, e.Value.(*memEntry).key)
	s.lru.Remove(e)
}

// Len returns the number of keys held.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

// Close releases the store's state. The store runs no goroutine; Close is
// idempotent and a closed store still works (it starts empty).
func (s *MemoryStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.keys)
	s.lru.Init()
	return nil
}
