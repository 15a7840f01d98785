package redisstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/apilayer/apilayer/ratelimit"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/session"
)

// Wiring distributed mode: the session stores share Redis and fall back to
// memory while it is down; the rate limiter has its own fallback. (Not run:
// it needs a Redis at the URL.)
func ExampleNew() {
	ctx := context.Background()
	logger := slog.Default()
	redisstore.SetDriverLogger(logger)

	s, err := redisstore.New(ctx, redisstore.Options{
		URL:       "redis://127.0.0.1:6379/0",
		KeyPrefix: "apilayer:",
		Timeout:   100 * time.Millisecond,
		Logger:    logger,
	})
	if err != nil {
		panic(err) // only for an invalid URL: an unreachable Redis is not an error
	}
	defer s.Close()

	const size = session.DefaultCacheSize
	m, err := session.New(session.Options{
		// Backend: the backend client, ...
		Cache:             redisstore.CacheWithFallback(s.Cache(), session.NewMemoryCache(size, nil)),
		Failures:          redisstore.FailuresWithFallback(s.Failures(), session.NewMemoryFailures(size, nil)),
		Successors:        redisstore.SuccessorsWithFallback(s.Successors(), session.NewMemorySuccessors(size, nil)),
		Revalidations:     redisstore.RevalidationsWithFallback(s.Revalidations(), session.NewMemoryRevalidations(size, nil)),
		GuestMaxPerMinute: 10,
		GuestLimiter:      s.GuestLimiter(10, nil),
		RefreshLock:       s.Locks(),
		RefreshLockTTL:    3 * 5 * time.Second, // three backend timeouts
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	rl, err := ratelimit.New(ratelimit.Options{Window: time.Minute, MaxRequests: 100, Store: s.RateLimit()})
	if err != nil {
		panic(err)
	}
	defer rl.Close()

	// The health endpoint: "store":"redis", or "unavailable" while the
	// breaker is open.
	store := "redis"
	if !s.Healthy() {
		store = "unavailable"
	}
	fmt.Println(store)
}

// Coordinating the refresh of one credential across instances: the
// instance that takes the lock refreshes; the others wait for its release
// and read the winner's result. package session does this when the Locks
// are its Options.RefreshLock; this is the protocol by hand. (Not run: it
// needs a Redis.)
func ExampleLocks() {
	ctx := context.Background()
	s, err := redisstore.New(ctx, redisstore.Options{URL: "redis://127.0.0.1:6379/0"})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	locks := s.Locks()

	key := session.Key("the old refresh token")
	token, ok, err := locks.TryLock(ctx, key, 10*time.Second)
	switch {
	case err != nil:
		// Redis unavailable: refresh in this instance alone.
	case ok:
		// Refresh with the backend, store the successor record, then:
		_ = locks.Unlock(ctx, key, token)
	default:
		// token is the holder's fencing token: the winner stores its
		// result under a key derived from it.
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := locks.Wait(wctx, key); err == nil {
			// Read the result the holder of token stored.
		}
	}
}
