package redisstore_test

import (
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/storetest"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/ratelimit"
	rlstoretest "github.com/apilayer/apilayer/ratelimit/storetest"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/session"
)

// The conformance suites of the stores, on one real redis-server: each
// subtest gets a fresh Store under its own key prefix.

func TestRateLimitConformance(t *testing.T) {
	r := testkit.StartRedis(t)
	rlstoretest.Run(t, func(t *testing.T, now func() time.Time) ratelimit.Store {
		return newStore(t, r, redisstore.Options{Now: now}).RateLimit()
	})
}

func TestSessionConformance(t *testing.T) {
	r := testkit.StartRedis(t)
	t.Run("Cache", func(t *testing.T) {
		storetest.Cache(t, func(t *testing.T, now func() time.Time) session.Cache {
			return newStore(t, r, redisstore.Options{Now: now}).Cache()
		})
	})
	t.Run("Failures", func(t *testing.T) {
		storetest.Failures(t, func(t *testing.T, now func() time.Time) session.Failures {
			return newStore(t, r, redisstore.Options{Now: now}).Failures()
		})
	})
	t.Run("Limiter", func(t *testing.T) {
		storetest.Limiter(t, func(t *testing.T, perMinute int, now func() time.Time) session.Limiter {
			return newStore(t, r, redisstore.Options{Now: now}).GuestLimiter(perMinute, nil)
		})
	})
	t.Run("Successors", func(t *testing.T) {
		storetest.Successors(t, func(t *testing.T, now func() time.Time) session.Successors {
			return newStore(t, r, redisstore.Options{Now: now}).Successors()
		})
	})
	t.Run("Revalidations", func(t *testing.T) {
		storetest.Revalidations(t, func(t *testing.T, now func() time.Time) session.Revalidations {
			return newStore(t, r, redisstore.Options{Now: now}).Revalidations()
		})
	})
}

// The fallback wrappers are stores too: with Redis up, they pass the same
// suites.
func TestFallbackConformance(t *testing.T) {
	r := testkit.StartRedis(t)
	t.Run("Cache", func(t *testing.T) {
		storetest.Cache(t, func(t *testing.T, now func() time.Time) session.Cache {
			s := newStore(t, r, redisstore.Options{Now: now})
			return redisstore.CacheWithFallback(s.Cache(), session.NewMemoryCache(100, now))
		})
	})
	t.Run("Failures", func(t *testing.T) {
		storetest.Failures(t, func(t *testing.T, now func() time.Time) session.Failures {
			s := newStore(t, r, redisstore.Options{Now: now})
			return redisstore.FailuresWithFallback(s.Failures(), session.NewMemoryFailures(100, now))
		})
	})
	t.Run("Successors", func(t *testing.T) {
		storetest.Successors(t, func(t *testing.T, now func() time.Time) session.Successors {
			s := newStore(t, r, redisstore.Options{Now: now})
			return redisstore.SuccessorsWithFallback(s.Successors(), session.NewMemorySuccessors(100, now))
		})
	})
	t.Run("Revalidations", func(t *testing.T) {
		storetest.Revalidations(t, func(t *testing.T, now func() time.Time) session.Revalidations {
			s := newStore(t, r, redisstore.Options{Now: now})
			return redisstore.RevalidationsWithFallback(s.Revalidations(), session.NewMemoryRevalidations(100, now))
		})
	})
}
