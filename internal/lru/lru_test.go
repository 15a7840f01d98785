package lru

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"
)

// A large Map is sharded, yet its bound is the whole map's: max distinct
// keys all fit (a cache sized for N sessions holds N), a flood keeps it
// within the bound plus at most the shards less one, recent entries
// survive, and every operation reaches the shard of its key.
func TestSharded(t *testing.T) {
	now := time.Now()
	until := now.Add(time.Hour)
	const max = shards * minPerShard
	m := New[int](max)
	if len(m.shards) != shards {
		t.Fatalf("%d shards, want %d", len(m.shards), shards)
	}
	for i := range max {
		m.Set(fmt.Sprint("fit", i), i, until, now)
	}
	if n := m.Len(); n != max {
		t.Fatalf("Len = %d after %d distinct keys, want all of them kept", n, max)
	}
	for i := range max {
		if _, ok := m.Get(fmt.Sprint("fit", i), now); !ok {
			t.Fatalf("fit%d was evicted from a map that had room for it", i)
		}
	}

	for i := range 3 * max {
		m.Set(fmt.Sprint("k", i), i, until, now)
		if i%97 == 0 {
			m.Get("k0", now) // kept recently used in its shard
		}
		if n := m.Len(); n > max+shards-1 {
			t.Fatalf("Len = %d during a flood, bound %d (+%d)", n, max, shards-1)
		}
	}
	if counted := held(m); counted != m.Len() {
		t.Fatalf("shards hold %d entries, the count says %d", counted, m.Len())
	}
	if v, ok := m.Get("k0", now); !ok || v != 0 {
		t.Error("the entry used all along was evicted")
	}
	last := fmt.Sprint("k", 3*max-1)
	if v, ok := m.Get(last, now); !ok || v != 3*max-1 {
		t.Error("the newest entry is missing")
	}
	m.Delete(last)
	if _, ok := m.Get(last, now); ok {
		t.Error("Delete left the entry")
	}
	m.Update("new", now, func(int, bool) (int, time.Time) { return 42, until })
	if v, ok := m.Get("new", now); !ok || v != 42 {
		t.Errorf("Get after Update = %d, %v; want 42, true", v, ok)
	}
	m.Sweep(until)
	if n := m.Len(); n != 0 {
		t.Errorf("Sweep past every entry's time left %d", n)
	}

	if small := New[int](shards*minPerShard - 1); len(small.shards) != 1 {
		t.Errorf("a small Map has %d shards, want 1 (an exact LRU)", len(small.shards))
	}
	if exact := NewExact[int](max); len(exact.shards) != 1 {
		t.Errorf("NewExact has %d shards, want 1", len(exact.shards))
	}
}

// held counts the entries of every shard.
func held[V any](m *Map[V]) int {
	n := 0
	for _, s := range m.shards {
		s.mu.Lock()
		n += s.ll.Len()
		if len(s.items) != s.ll.Len() {
			panic("lru: items and list disagree")
		}
		s.mu.Unlock()
	}
	return n
}

// A small Map is an exact LRU: at its bound, an insert evicts the least
// recently used entry, and reading or updating an entry makes it the most
// recently used.
func TestEvictsLeastRecentlyUsed(t *testing.T) {
	now := time.Now()
	until := now.Add(time.Hour)
	m := New[string](3)
	for _, k := range []string{"a", "b", "c"} {
		m.Set(k, k, until, now)
	}
	m.Get("a", now)                                                                    // b is now the least recently used
	m.Set("d", "d", until, now)                                                        // evicts b
	m.Update("c", now, func(v string, _ bool) (string, time.Time) { return v, until }) // a is now the least recently used
	m.Set("e", "e", until, now)                                                        // evicts a
	for k, want := range map[string]bool{"a": false, "b": false, "c": true, "d": true, "e": true} {
		if _, ok := m.Get(k, now); ok != want {
			t.Errorf("%s held = %v, want %v", k, ok, want)
		}
	}
	if n := m.Len(); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
	if n := New[int](0); len(n.shards) != 1 || n.shards[0].max != 1 {
		t.Error("New(0) is not a Map of one entry")
	}
}

func TestExpiry(t *testing.T) {
	now := time.Now()
	m := New[int](10)
	m.Set("a", 1, now.Add(time.Second), now)
	if _, ok := m.Get("a", now.Add(time.Second-1)); !ok {
		t.Fatal("an entry was gone before its time")
	}
	if _, ok := m.Get("a", now.Add(time.Second)); ok {
		t.Fatal("an entry was served at its time")
	}
	if n := m.Len(); n != 0 {
		t.Errorf("Len = %d after an expired Get, want the entry removed", n)
	}

	m.Set("b", 1, now.Add(time.Second), now)
	m.Set("b", 2, now, now) // already expired: removes
	if n := m.Len(); n != 0 {
		t.Errorf("Len = %d after an expired Set, want 0", n)
	}

	m.Set("c", 1, now.Add(time.Second), now)
	m.Set("d", 1, now.Add(time.Hour), now)
	m.Sweep(now.Add(time.Second))
	if _, ok := m.Get("d", now); !ok || m.Len() != 1 {
		t.Errorf("Sweep: Len = %d, d held = %v; want only d left", m.Len(), ok)
	}
	m.Purge()
	if n := m.Len(); n != 0 || held(m) != 0 {
		t.Errorf("Len = %d after Purge", n)
	}
}

func TestUpdate(t *testing.T) {
	now := time.Now()
	m := New[int](10)
	type call struct {
		v    int
		live bool
	}
	var got []call
	inc := func(at time.Time, ttl time.Duration) {
		m.Update("k", at, func(v int, live bool) (int, time.Time) {
			got = append(got, call{v, live})
			return v + 1, at.Add(ttl)
		})
	}
	inc(now, time.Second)                  // absent
	inc(now, time.Second)                  // live
	inc(now.Add(time.Second), time.Second) // expired: counts as absent, reused in place
	inc(now.Add(time.Second), 0)           // stored already expired: removed
	inc(now.Add(time.Second), time.Second) // absent again
	want := []call{{0, false}, {1, true}, {0, false}, {1, true}, {0, false}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("f saw %v, want %v", got, want)
	}
	if v, ok := m.Get("k", now.Add(time.Second)); !ok || v != 1 {
		t.Errorf("Get = %d, %v; want 1, true", v, ok)
	}

	// Each Update removes a few expired entries at the cold end of its
	// shard, so a map that is only updated lets go of stale state.
	m = New[int](100)
	for i := range 2 * trimPerUpdate {
		m.Set(fmt.Sprint("old", i), i, now.Add(time.Second), now)
	}
	later := now.Add(time.Second)
	m.Update("new", later, func(int, bool) (int, time.Time) { return 1, later.Add(time.Second) })
	if n := m.Len(); n != 1+trimPerUpdate {
		t.Fatalf("Len = %d after one Update, want %d (%d expired removed)", n, 1+trimPerUpdate, trimPerUpdate)
	}
	m.Update("new", later, func(int, bool) (int, time.Time) { return 1, later.Add(time.Second) })
	if n := m.Len(); n != 1 {
		t.Fatalf("Len = %d after two Updates, want 1", n)
	}
}

func TestConcurrent(t *testing.T) {
	now := time.Now()
	m := New[int](shards * minPerShard)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := fmt.Sprint(g, "-", i%300)
				m.Set(k, i, now.Add(time.Minute), now)
				m.Get(k, now)
				m.Update(k, now, func(v int, _ bool) (int, time.Time) { return v + 1, now.Add(time.Minute) })
				if i%50 == 0 {
					m.Delete(k)
					m.Sweep(now)
				}
			}
		})
	}
	wg.Wait()
	if n := m.Len(); n > 8*300 {
		t.Fatalf("Len = %d, want at most the %d distinct keys", n, 8*300)
	}
	if counted := held(m); counted != m.Len() {
		t.Fatalf("shards hold %d entries, the count says %d", counted, m.Len())
	}
}

// BenchmarkGetParallel is a cache hit from many goroutines at once, with
// one lock (a small map) and with shards.
func BenchmarkGetParallel(b *testing.B) {
	for _, max := range []int{minPerShard, shards * minPerShard} {
		m := New[int](max)
		now := time.Now()
		keys := make([]string, 64)
		for i := range keys {
			sum := sha256.Sum256([]byte(fmt.Sprint(i)))
			keys[i] = hex.EncodeToString(sum[:]) // keys are hex digests, as session.Key
			m.Set(keys[i], i, now.Add(time.Hour), now)
		}
		b.Run(fmt.Sprintf("shards=%d", len(m.shards)), func(b *testing.B) {
			b.SetParallelism(16) // 16 goroutines per P, as a loaded gateway has
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					m.Get(keys[i%len(keys)], now)
					i++
				}
			})
		})
	}
}
