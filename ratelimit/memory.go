package ratelimit

import (
	"context"
	"time"

	"github.com/apilayer/apilayer/internal/lru"
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
	// m holds each key's TAT until it (the bucket is full again), in one
	// exact LRU: MaxKeys forgets the least recently used key.
	m   *lru.Map[time.Time]
	now func() time.Time
}

// NewMemoryStore returns an empty memory store.
func NewMemoryStore(opts MemoryOptions) *MemoryStore {
	max := opts.MaxKeys
	if max <= 0 {
		max = DefaultMaxKeys
	}
	s := &MemoryStore{m: lru.NewExact[time.Time](max), now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Allow implements [Store].
func (s *MemoryStore) Allow(_ context.Context, key string, l Limit) (Result, error) {
	if err := l.Validate(); err != nil {
		return Result{}, err
	}
	now := s.now()
	var res Result
	// A blocked call stores the TAT it found: nothing changes, but the key
	// was used and is kept warm. An expired TAT counts as none; the key's
	// entry is updated in place, not dropped and allocated again. Each call
	// also drops a few full buckets of the least recently used keys.
	s.m.Update(key, now, func(tat time.Time, _ bool) (time.Time, time.Time) {
		tat, res = gcra(tat, now, l)
		return tat, tat
	})
	return res, nil
}

// Sweep drops every full bucket. Allow already drops a few per call; Sweep
// is for an owner that also runs a janitor.
func (s *MemoryStore) Sweep() { s.m.Sweep(s.now()) }

// Len returns the number of keys held.
func (s *MemoryStore) Len() int { return s.m.Len() }

// Close releases the store's state. The store runs no goroutine; Close is
// idempotent and a closed store still works (it starts empty).
func (s *MemoryStore) Close() error {
	s.m.Purge()
	return nil
}
