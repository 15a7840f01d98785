package storetest_test

import (
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/storetest"
	"github.com/apilayer/apilayer/session"
)

// The memory stores of package session run the suites, as the Redis
// stores do in package redisstore.

func TestMemoryCache(t *testing.T) {
	storetest.Cache(t, func(_ *testing.T, now func() time.Time) session.Cache {
		return session.NewMemoryCache(100, now)
	})
}

func TestMemoryFailures(t *testing.T) {
	storetest.Failures(t, func(_ *testing.T, now func() time.Time) session.Failures {
		return session.NewMemoryFailures(100, now)
	})
}

func TestMemoryLimiter(t *testing.T) {
	storetest.Limiter(t, func(_ *testing.T, perMinute int, now func() time.Time) session.Limiter {
		return session.NewMemoryLimiter(perMinute, 100, now)
	})
}

func TestMemorySuccessors(t *testing.T) {
	storetest.Successors(t, func(_ *testing.T, now func() time.Time) session.Successors {
		return session.NewMemorySuccessors(100, now)
	})
}

func TestMemoryRevalidations(t *testing.T) {
	storetest.Revalidations(t, func(_ *testing.T, now func() time.Time) session.Revalidations {
		return session.NewMemoryRevalidations(100, now)
	})
}

// A near cache over a memory cache is a cache too.
func TestNearCache(t *testing.T) {
	storetest.Cache(t, func(_ *testing.T, now func() time.Time) session.Cache {
		return session.NewNearCache(session.NewMemoryCache(100, now), time.Second, 100, now)
	})
}
