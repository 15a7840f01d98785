package redisstore_test

import (
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/session"
)

// TestFallbackServesDuringOutage: with Redis down the wrappers answer from
// memory, without an error, and share state again once it is back.
func TestFallbackServesDuringOutage(t *testing.T) {
	r := testkit.StartRedis(t)
	clock := testkit.NewClock(time.Now())
	changes := make(chan bool, 10)
	opts := redisstore.Options{
		KeyPrefix:        "shared:",
		Timeout:          time.Second,
		FailureThreshold: 1,
		CoolDown:         10 * time.Millisecond,
		Now:              clock.Now,
	}
	instance := func(onChange func(bool)) (session.Cache, session.Failures, *redisstore.Store) {
		o := opts
		o.OnStateChange = onChange
		s := newStore(t, r, o)
		return redisstore.CacheWithFallback(s.Cache(), session.NewMemoryCache(100, clock.Now)),
			redisstore.FailuresWithFallback(s.Failures(), session.NewMemoryFailures(100, clock.Now)), s
	}
	cacheA, failA, storeA := instance(func(up bool) { changes <- up })
	cacheB, _, _ := instance(nil)
	ctx := t.Context()
	k1, k2, k3 := session.Key("one"), session.Key("two"), session.Key("three")
	entry := session.Entry{Valid: true, Fresh: clock.Now().Add(time.Minute)}

	// Shared: what A writes, B reads; what B deletes, A no longer serves.
	mustSet(t, cacheA, k1, entry)
	mustSet(t, cacheA, k2, entry)
	mustHit(t, cacheB, k1, true)
	if err := cacheB.Delete(ctx, k2); err != nil {
		t.Fatal(err)
	}
	mustHit(t, cacheA, k2, false)

	r.Stop()
	// A serves from its own memory: no error, its writes still count.
	mustHit(t, cacheA, k1, true)
	waitState(t, changes, false)
	mustSet(t, cacheA, k3, entry)
	mustHit(t, cacheA, k3, true)
	mustHit(t, cacheB, k3, false) // B never saw it: per-instance state
	if err := failA.Fail(ctx, k1, session.Failure{Reason: "network"}, clock.Now().Add(time.Minute)); err != nil {
		t.Fatalf("Fail during outage: %v", err)
	}
	if f, ok, err := failA.Failed(ctx, k1); err != nil || !ok || f.Reason != "network" {
		t.Fatalf("Failed during outage = %+v, %v, %v", f, ok, err)
	}
	if storeA.Healthy() {
		t.Fatal("healthy during outage")
	}

	r.Restart() // empty: the outage lost the shared state
	waitState(t, changes, true)
	mustSet(t, cacheA, k1, entry)
	mustHit(t, cacheB, k1, true)
}

func mustSet(t *testing.T, c session.Cache, k string, e session.Entry) {
	t.Helper()
	if err := c.Set(t.Context(), k, e); err != nil {
		t.Fatalf("Set: %v", err)
	}
}

func mustHit(t *testing.T, c session.Cache, k string, want bool) {
	t.Helper()
	_, ok, err := c.Get(t.Context(), k)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if ok != want {
		t.Fatalf("Get hit = %v, want %v", ok, want)
	}
}
