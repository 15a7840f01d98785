package redisstore

import (
	"context"
	"time"

	"github.com/apilayer/apilayer/session"
)

// The fallback wrappers give package session what distributed mode asks
// (docs/distributed.md#when-redis-is-unavailable):
// shared state while Redis answers, per-instance state while it does not,
// and no error either way. The shared store's errors are not returned (the
// Store logs its availability once per change; the session would log
// every failed call), and local, an in-process store, takes over for the
// calls the shared one could not answer. With the Store's breaker open,
// the shared calls fail at once, so an outage costs no latency.
//
// Writes go to both stores, so local holds what this instance wrote and
// serves it when Redis goes away. Reads go to the shared store first, not
// to local: a Delete on one instance (a logout, an invalid verdict) then
// takes effect on every instance at once, at the price of one Redis
// round trip per read. [Store.NearCache] in front of CacheWithFallback
// saves that round trip for its TTL and learns of those Deletes over
// pub/sub.

// CacheWithFallback returns a session.Cache over shared (a Store's Cache)
// and local (a session.MemoryCache). A hit in shared is copied to local, a
// miss in shared removes it from local.
func CacheWithFallback(shared, local session.Cache) session.Cache {
	return &fallbackCache{shared: shared, local: local}
}

type fallbackCache struct{ shared, local session.Cache }

func (c *fallbackCache) Get(ctx context.Context, key string) (session.Entry, bool, error) {
	e, ok, err := c.shared.Get(ctx, key)
	if err != nil {
		return c.local.Get(ctx, key)
	}
	if ok {
		_ = c.local.Set(ctx, key, e)
	} else {
		_ = c.local.Delete(ctx, key)
	}
	return e, ok, nil
}

func (c *fallbackCache) Set(ctx context.Context, key string, e session.Entry) error {
	_ = c.shared.Set(ctx, key, e)
	return c.local.Set(ctx, key, e)
}

func (c *fallbackCache) Delete(ctx context.Context, key string) error {
	_ = c.shared.Delete(ctx, key)
	return c.local.Delete(ctx, key)
}

// FailuresWithFallback returns a session.Failures over shared (a Store's
// Failures) and local (a session.MemoryFailures).
func FailuresWithFallback(shared, local session.Failures) session.Failures {
	return &fallbackFailures{shared: shared, local: local}
}

type fallbackFailures struct{ shared, local session.Failures }

func (f *fallbackFailures) Failed(ctx context.Context, key string) (session.Failure, bool, error) {
	r, ok, err := f.shared.Failed(ctx, key)
	if err != nil {
		return f.local.Failed(ctx, key)
	}
	return r, ok, nil
}

func (f *fallbackFailures) Fail(ctx context.Context, key string, r session.Failure, until time.Time) error {
	_ = f.shared.Fail(ctx, key, r, until)
	return f.local.Fail(ctx, key, r, until)
}

// SuccessorsWithFallback returns a session.Successors over shared (a
// Store's Successors) and local (a session.MemorySuccessors).
func SuccessorsWithFallback(shared, local session.Successors) session.Successors {
	return &fallbackSuccessors{shared: shared, local: local}
}

type fallbackSuccessors struct{ shared, local session.Successors }

func (s *fallbackSuccessors) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, ok, err := s.shared.Get(ctx, key)
	if err != nil {
		return s.local.Get(ctx, key)
	}
	return b, ok, nil
}

func (s *fallbackSuccessors) Set(ctx context.Context, key string, sealed []byte, ttl time.Duration) error {
	_ = s.shared.Set(ctx, key, sealed, ttl)
	return s.local.Set(ctx, key, sealed, ttl)
}

// RevalidationsWithFallback returns a session.Revalidations over shared
// (a Store's Revalidations) and local (a session.MemoryRevalidations).
func RevalidationsWithFallback(shared, local session.Revalidations) session.Revalidations {
	return &fallbackRevalidations{shared: shared, local: local}
}

type fallbackRevalidations struct{ shared, local session.Revalidations }

func (r *fallbackRevalidations) Confirmed(ctx context.Context, key string) (valid, ok bool, err error) {
	valid, ok, err = r.shared.Confirmed(ctx, key)
	if err != nil {
		return r.local.Confirmed(ctx, key)
	}
	return valid, ok, nil
}

func (r *fallbackRevalidations) Confirm(ctx context.Context, key string, valid bool, until time.Time) error {
	_ = r.shared.Confirm(ctx, key, valid, until)
	return r.local.Confirm(ctx, key, valid, until)
}
