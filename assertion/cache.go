package assertion

import (
	"sync"
	"time"
)

// reuseCache holds the tokens signed recently, by a 64-bit hash of the
// identity they were signed for. It is bounded twice: at most maxEntries
// entries and about maxBytes bytes of identities and tokens; the oldest
// entry goes first (FIFO: the oldest is also the closest to the end of its
// reuse window). Entries past their window stay until pushed out or
// replaced: a lookup ignores them.
//
// A hash match is not trusted alone: the caller compares the entry's
// identity with its own before using the token, so a collision costs a
// signature, never another user's token.
//
// It is safe for concurrent use.
type reuseCache struct {
	maxEntries int
	maxBytes   int

	mu      sync.RWMutex
	entries map[uint64]*cacheEntry // guarded by mu
	queue   []slot                 // guarded by mu; ring of insertions, oldest at head
	head    int                    // guarded by mu
	n       int                    // guarded by mu; slots in use in queue
	bytes   int                    // guarded by mu; size of the entries in the map
	seq     uint64                 // guarded by mu; numbers insertions
}

// cacheEntry is one signed token and the identity it was signed for. It
// is immutable once in the cache.
type cacheEntry struct {
	typ, locale string
	user        []byte
	token       string
	until       time.Time // end of the reuse window
	size        int
	seq         uint64
}

// slot is one insertion in the ring: an entry is removed with its slot
// only if it is still the entry of that insertion.
type slot struct {
	hash uint64
	seq  uint64
}

func newReuseCache(maxEntries, maxBytes int) *reuseCache {
	return &reuseCache{
		maxEntries: maxEntries,
		maxBytes:   maxBytes,
		entries:    make(map[uint64]*cacheEntry),
		queue:      make([]slot, maxEntries),
	}
}

// get returns the entry of hash whose window is still open at now.
func (c *reuseCache) get(hash uint64, now time.Time) *cacheEntry {
	c.mu.RLock()
	e := c.entries[hash]
	c.mu.RUnlock()
	if e == nil || !now.Before(e.until) {
		return nil
	}
	return e
}

// put stores e under hash, replacing what was there, and pushes out the
// oldest entries until both bounds hold. An entry larger than maxBytes
// on its own is not stored.
func (c *reuseCache) put(hash uint64, e *cacheEntry) {
	e.size = len(e.typ) + len(e.locale) + len(e.user) + len(e.token) + entryOverhead
	if e.size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	e.seq = c.seq
	if old := c.entries[hash]; old != nil {
		// Its slot stays in the ring and is skipped when it comes out.
		delete(c.entries, hash)
		c.bytes -= old.size
	}
	for c.n == len(c.queue) || (c.n > 0 && c.bytes+e.size > c.maxBytes) {
		c.popLocked()
	}
	c.entries[hash] = e
	c.bytes += e.size
	c.queue[(c.head+c.n)%len(c.queue)] = slot{hash: hash, seq: e.seq}
	c.n++
}

// popLocked removes the oldest slot, and its entry if the slot is still
// the entry's. The caller holds mu.
func (c *reuseCache) popLocked() {
	s := c.queue[c.head]
	c.head = (c.head + 1) % len(c.queue)
	c.n--
	if e := c.entries[s.hash]; e != nil && e.seq == s.seq {
		delete(c.entries, s.hash)
		c.bytes -= e.size
	}
}

// len returns the number of entries, for tests.
func (c *reuseCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// entryOverhead is the approximate memory of an entry besides its bytes:
// the struct, the map slot and the ring slot.
const entryOverhead = 160
