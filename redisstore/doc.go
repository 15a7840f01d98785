// Package redisstore holds the Redis implementations of the gateway's
// shared state for distributed mode (store.driver: redis,
// docs/distributed.md): a [Store] is one connection to Redis (github.com/redis/go-redis/v9;
// a single node, Sentinel or Cluster URL) with a circuit breaker, and its
// views implement the stores of the other packages:
//
//   - [Store.RateLimit]: ratelimit.Store, GCRA in one atomic Lua script
//     that takes the caller's clock, with the memory store's exact
//     arithmetic (it passes ratelimit/storetest.Run).
//   - [Store.Cache], [Store.Failures], [Store.Successors],
//     [Store.Revalidations]: session.Cache, session.Failures,
//     session.Successors and session.Revalidations.
//   - [Store.GuestLimiter]: session.Limiter, the guest-mint cap, a GCRA of
//     N per minute through the same script.
//   - [Store.Locks]: session.RefreshLock, cross-instance refresh
//     coordination: a lock with a fencing token (a refused TryLock tells
//     the holder's), Unlock by its holder only, Holder, and Wait for the
//     release.
//   - [Store.NearCache]: a session.NearCache in front of the Cache
//     (store.redis.nearCacheTTL), so a cache hit costs no round trip. A
//     logout, an invalid verdict or a failed refresh is published on the
//     Store's invalidation channel with the token's key, and every Store
//     drops that key from its near caches; they are emptied whenever an
//     invalidation may have been missed (a resubscription after a lost
//     connection, the breaker closing). See docs/distributed.md.
//
// # Redis never holds a raw token
//
// The token stores and the locks take keys that are session.Key of a token
// (its SHA-256, in hex) and refuse any other key; the values are
// validation verdicts, refresh-failure reasons and successor records that
// package session has already sealed (AES-GCM under a key derived from the
// old token). Rate-limit and guest-cap keys are client IPs and user ids.
//
// # Redis unavailable
//
// Every call is bounded by Options.Timeout. After FailureThreshold
// consecutive failures the breaker opens: calls fail at once with an error
// wrapping [ErrUnavailable], [Store.Healthy] is false (the health endpoint
// reports "store":"unavailable"), and one warning is logged. Every
// CoolDown, a PING probes Redis; the first that succeeds closes the
// breaker, logged once too. So the Store recovers by itself, without
// traffic.
//
// The views return the errors; who serves meanwhile is decided above:
// ratelimit.Limiter falls back to its own memory store, the guest limiter
// to the fallback given to [Store.GuestLimiter], and the session stores are
// wrapped with [CacheWithFallback], [FailuresWithFallback],
// [SuccessorsWithFallback] and [RevalidationsWithFallback] over the
// session package's memory stores, which never return an error. No request
// fails only because Redis is down.
package redisstore
