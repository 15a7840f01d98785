package session

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// A large lru is sharded, yet its bound is the whole map's: max distinct
// keys all fit (a cache sized for N sessions holds N), a flood keeps it
// within the bound plus at most the shards less one, recent entries
// survive, and every operation reaches the shard of its key.
func TestLRUSharded(t *testing.T) {
	now := time.Now()
	until := now.Add(time.Hour)
	const max = lruShards * minPerShard
	c := newLRU[int](max)
	if len(c.shards) != lruShards {
		t.Fatalf("%d shards, want %d", len(c.shards), lruShards)
	}
	for i := range max {
		c.set(fmt.Sprint("fit", i), i, until, now)
	}
	if n := c.len(); n != max {
		t.Fatalf("len = %d after %d distinct keys, want all of them kept", n, max)
	}
	for i := range max {
		if _, ok := c.get(fmt.Sprint("fit", i), now); !ok {
			t.Fatalf("fit%d was evicted from a map that had room for it", i)
		}
	}

	for i := range 3 * max {
		c.set(fmt.Sprint("k", i), i, until, now)
		if i%97 == 0 {
			c.get("k0", now) // kept recently used in its shard
		}
		if n := c.len(); n > max+lruShards-1 {
			t.Fatalf("len = %d during a flood, bound %d (+%d)", n, max, lruShards-1)
		}
	}
	counted := 0
	for _, s := range c.shards {
		counted += s.ll.Len()
	}
	if counted != c.len() {
		t.Fatalf("shards hold %d entries, the count says %d", counted, c.len())
	}
	if v, ok := c.get("k0", now); !ok || v != 0 {
		t.Error("the entry used all along was evicted")
	}
	last := fmt.Sprint("k", 3*max-1)
	if v, ok := c.get(last, now); !ok || v != 3*max-1 {
		t.Error("the newest entry is missing")
	}
	c.del(last)
	if _, ok := c.get(last, now); ok {
		t.Error("del left the entry")
	}
	if v := c.getOrSet("new", func() int { return 42 }, until, now); v != 42 {
		t.Errorf("getOrSet = %d, want 42", v)
	}
	c.sweep(until)
	if n := c.len(); n != 0 {
		t.Errorf("sweep past every entry's time left %d", n)
	}

	if small := newLRU[int](lruShards*minPerShard - 1); len(small.shards) != 1 {
		t.Errorf("a small lru has %d shards, want 1 (an exact LRU)", len(small.shards))
	}
}

func TestLRUConcurrent(t *testing.T) {
	now := time.Now()
	c := newLRU[int](lruShards * minPerShard)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := fmt.Sprint(g, "-", i%300)
				c.set(k, i, now.Add(time.Minute), now)
				c.get(k, now)
				if i%50 == 0 {
					c.del(k)
					c.sweep(now)
				}
			}
		})
	}
	wg.Wait()
	if n := c.len(); n > 8*300 {
		t.Fatalf("len = %d, want at most the %d distinct keys", n, 8*300)
	}
	counted := 0
	for _, s := range c.shards {
		counted += s.ll.Len()
	}
	if counted != c.len() {
		t.Fatalf("shards hold %d entries, the count says %d", counted, c.len())
	}
}

// BenchmarkLRUGetParallel is a cache hit from many goroutines at once,
// with one lock (a small map) and with shards.
func BenchmarkLRUGetParallel(b *testing.B) {
	for _, max := range []int{minPerShard, lruShards * minPerShard} {
		c := newLRU[int](max)
		now := time.Now()
		keys := make([]string, 64)
		for i := range keys {
			keys[i] = Key(fmt.Sprint(i))
			c.set(keys[i], i, now.Add(time.Hour), now)
		}
		b.Run(fmt.Sprintf("shards=%d", len(c.shards)), func(b *testing.B) {
			b.SetParallelism(16) // 16 goroutines per P, as a loaded gateway has
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					c.get(keys[i%len(keys)], now)
					i++
				}
			})
		})
	}
}
