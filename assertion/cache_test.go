package assertion

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func entry(token string, n int) *cacheEntry {
	return &cacheEntry{typ: "user", user: []byte(strings.Repeat("u", n)), token: token, until: t0.Add(time.Minute)}
}

// The entry bound: the oldest insertion goes first, whatever was read.
func TestReuseCacheEntryBound(t *testing.T) {
	c := newReuseCache(3, 1<<20)
	for i := range 5 {
		c.put(uint64(i), entry(fmt.Sprint(i), 10))
		c.get(0, t0) // reading does not keep an entry
	}
	if n := c.len(); n != 3 {
		t.Errorf("len %d, want 3", n)
	}
	for i, want := range []bool{false, false, true, true, true} {
		if got := c.get(uint64(i), t0) != nil; got != want {
			t.Errorf("entry %d cached %v, want %v", i, got, want)
		}
	}
}

// The byte bound: large identities push older entries out; one larger
// than the bound alone is not stored.
func TestReuseCacheByteBound(t *testing.T) {
	c := newReuseCache(100, 3*(len("user")+1000+entryOverhead))
	for i := range 4 {
		c.put(uint64(i), entry("", 1000))
	}
	if n := c.len(); n != 3 || c.get(0, t0) != nil || c.get(3, t0) == nil {
		t.Errorf("len %d, entry 0 cached %v, entry 3 cached %v: want 3, false, true", n, c.get(0, t0) != nil, c.get(3, t0) != nil)
	}
	c.put(9, entry("", 4000))
	if c.get(9, t0) != nil || c.len() != 3 {
		t.Errorf("an entry over the byte bound was stored (len %d)", c.len())
	}
}

// An entry is not returned once its window has closed.
func TestReuseCacheWindow(t *testing.T) {
	c := newReuseCache(10, 1<<20)
	c.put(1, entry("a", 1))
	if c.get(1, t0.Add(time.Minute-time.Nanosecond)) == nil {
		t.Error("entry missing inside its window")
	}
	if c.get(1, t0.Add(time.Minute)) != nil {
		t.Error("entry returned at the end of its window")
	}
}

// Replacing entries (the same hash signed again) keeps the accounting
// right: the bytes are those of the entries in the map, the map never
// holds more than the ring, and a stale ring slot never removes the
// newer entry of its hash.
func TestReuseCacheAccounting(t *testing.T) {
	c := newReuseCache(8, 8*(64+entryOverhead))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 10000 {
		h := uint64(r.IntN(12))
		c.put(h, entry(fmt.Sprint(i), r.IntN(64)))
		if e := c.get(h, t0); e == nil || e.token != fmt.Sprint(i) {
			t.Fatalf("step %d: the entry just put is not the one read", i)
		}
		sum := 0
		for _, e := range c.entries {
			sum += e.size
		}
		if sum != c.bytes || len(c.entries) > c.n || c.n > len(c.queue) || c.bytes > c.maxBytes {
			t.Fatalf("step %d: bytes %d (sum %d, max %d), entries %d, ring %d of %d",
				i, c.bytes, sum, c.maxBytes, len(c.entries), c.n, len(c.queue))
		}
	}
}
