package redisstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/session"
)

// twoInstances returns the Locks of two Stores sharing one Redis and one
// key prefix, as two gateway instances do. Wait in b is woken only by the
// release announcement (its polling is an hour apart).
func twoInstances(t *testing.T) (a, b *redisstore.Locks, r *testkit.Redis) {
	r = testkit.StartRedis(t)
	opts := redisstore.Options{KeyPrefix: "shared:"}
	a = newStore(t, r, opts).Locks()
	opts.PollInterval = time.Hour
	b = newStore(t, r, opts).Locks()
	return a, b, r
}

func TestLockExclusiveAcrossInstances(t *testing.T) {
	a, b, _ := twoInstances(t)
	ctx := t.Context()
	k := session.Key("refresh-credential")

	tok1, ok, err := a.TryLock(ctx, k, time.Minute)
	if err != nil || !ok || tok1 <= 0 {
		t.Fatalf("a.TryLock = %d, %v, %v; want a positive token", tok1, ok, err)
	}
	if tok, ok, err := b.TryLock(ctx, k, time.Minute); err != nil || ok || tok != tok1 {
		t.Fatalf("b.TryLock while a holds it = %d, %v, %v; want refused, with the holder's token %d", tok, ok, err, tok1)
	}
	if tok, ok, err := b.Holder(ctx, k); err != nil || !ok || tok != tok1 {
		t.Fatalf("b.Holder = %d, %v, %v; want %d, true", tok, ok, err, tok1)
	}
	if held, err := b.Held(ctx, k); err != nil || !held {
		t.Fatalf("b.Held = %v, %v; want true", held, err)
	}
	// Another key is another lock.
	if _, ok, err := b.TryLock(ctx, session.Key("other"), time.Minute); err != nil || !ok {
		t.Fatalf("TryLock of another key = %v, %v", ok, err)
	}

	// Only the holder's token unlocks.
	for _, bad := range []int64{tok1 + 1, tok1 - 1, 0, -1} {
		if err := b.Unlock(ctx, k, bad); !errors.Is(err, redisstore.ErrNotHeld) {
			t.Fatalf("Unlock with token %d (holder %d): %v, want ErrNotHeld", bad, tok1, err)
		}
	}
	if held, _ := a.Held(ctx, k); !held {
		t.Fatal("a refused Unlock released the lock")
	}

	if err := a.Unlock(ctx, k, tok1); err != nil {
		t.Fatalf("holder Unlock: %v", err)
	}
	if tok, ok, err := b.Holder(ctx, k); err != nil || ok {
		t.Fatalf("b.Holder after release = %d, %v, %v; want free", tok, ok, err)
	}
	tok2, ok, err := b.TryLock(ctx, k, time.Minute)
	if err != nil || !ok {
		t.Fatalf("b.TryLock after release = %v, %v", ok, err)
	}
	if tok2 <= tok1 {
		t.Fatalf("fencing token %d after %d, want it to increase", tok2, tok1)
	}
	// The previous holder cannot release the new holder's lock.
	if err := a.Unlock(ctx, k, tok1); !errors.Is(err, redisstore.ErrNotHeld) {
		t.Fatalf("stale holder Unlock: %v, want ErrNotHeld", err)
	}
	if err := a.Unlock(ctx, k, tok1); !errors.Is(err, redisstore.ErrNotHeld) {
		t.Fatalf("second Unlock: %v, want ErrNotHeld", err)
	}
}

func TestLockConcurrentTryLockHasOneWinner(t *testing.T) {
	a, b, _ := twoInstances(t)
	k := session.Key("contended")
	var (
		mu   sync.Mutex
		wins []int64
		wg   sync.WaitGroup
	)
	for i := range 20 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			tok, ok, err := l.TryLock(t.Context(), k, time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				wins = append(wins, tok)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(wins) != 1 {
		t.Fatalf("%d winners (%v), want 1", len(wins), wins)
	}
}

func TestLockWait(t *testing.T) {
	ctx := t.Context()

	t.Run("free lock returns at once", func(t *testing.T) {
		_, b, _ := twoInstances(t)
		if err := b.Wait(ctx, session.Key("free")); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	})

	t.Run("release on another instance wakes the waiter", func(t *testing.T) {
		a, b, _ := twoInstances(t)
		k := session.Key("busy")
		tok, ok, err := a.TryLock(ctx, k, time.Hour)
		if err != nil || !ok {
			t.Fatalf("TryLock: %v %v", ok, err)
		}
		waited := make(chan error, 3)
		for range 3 {
			go func() { waited <- b.Wait(ctx, k) }()
		}
		if err := a.Unlock(ctx, k, tok); err != nil {
			t.Fatalf("Unlock: %v", err)
		}
		for range 3 {
			if err := <-waited; err != nil { // b polls hourly: only the announcement can wake it
				t.Fatalf("Wait: %v", err)
			}
		}
	})

	t.Run("expiry ends the wait", func(t *testing.T) {
		r := testkit.StartRedis(t)
		opts := redisstore.Options{KeyPrefix: "shared:", PollInterval: 5 * time.Millisecond}
		a := newStore(t, r, opts).Locks()
		b := newStore(t, r, opts).Locks()
		k := session.Key("dead-holder")
		tok1, ok, err := a.TryLock(ctx, k, 30*time.Millisecond) // a dies holding it
		if err != nil || !ok {
			t.Fatalf("TryLock: %v %v", ok, err)
		}
		if err := b.Wait(ctx, k); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		tok2, ok, err := b.TryLock(ctx, k, time.Minute)
		if err != nil || !ok || tok2 <= tok1 {
			t.Fatalf("TryLock after expiry = %d, %v, %v; want a token above %d", tok2, ok, err, tok1)
		}
		if err := a.Unlock(ctx, k, tok1); !errors.Is(err, redisstore.ErrNotHeld) {
			t.Fatalf("expired holder Unlock: %v, want ErrNotHeld", err)
		}
	})

	t.Run("context ends the wait", func(t *testing.T) {
		a, b, _ := twoInstances(t)
		k := session.Key("stuck")
		if _, ok, err := a.TryLock(ctx, k, time.Hour); err != nil || !ok {
			t.Fatalf("TryLock: %v %v", ok, err)
		}
		wctx, cancel := context.WithCancel(ctx)
		waited := make(chan error, 1)
		go func() { waited <- b.Wait(wctx, k) }()
		cancel()
		if err := <-waited; !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait: %v, want context.Canceled", err)
		}
	})
}

func TestFencingTokensIncreaseAfterCounterLoss(t *testing.T) {
	a, _, r := twoInstances(t)
	ctx := t.Context()
	k := session.Key("fenced")
	tok1, _, err := a.TryLock(ctx, k, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Unlock(ctx, k, tok1); err != nil {
		t.Fatal(err)
	}
	// The counter expired (or was evicted): tokens restart from Redis's
	// clock in microseconds, above any token it handed out before.
	raw := rawClient(t, r)
	if n, err := raw.Del(ctx, "shared:fence:{"+k+"}").Result(); err != nil || n != 1 {
		t.Fatalf("DEL fence counter = %d, %v", n, err)
	}
	tok2, ok, err := a.TryLock(ctx, k, time.Minute)
	if err != nil || !ok || tok2 <= tok1 {
		t.Fatalf("TryLock = %d, %v, %v; want a token above %d", tok2, ok, err, tok1)
	}
}

func TestLockRejectsBadInput(t *testing.T) {
	a, _, _ := twoInstances(t)
	ctx := t.Context()
	if _, _, err := a.TryLock(ctx, "raw-token-value", time.Minute); err == nil {
		t.Fatal("TryLock accepted a key that is not a digest")
	}
	if _, _, err := a.TryLock(ctx, session.Key("x"), 0); err == nil {
		t.Fatal("TryLock accepted a zero TTL")
	}
	if err := a.Unlock(ctx, "raw-token-value", 1); err == nil {
		t.Fatal("Unlock accepted a key that is not a digest")
	}
	if err := a.Wait(ctx, "raw-token-value"); err == nil {
		t.Fatal("Wait accepted a key that is not a digest")
	}
}
