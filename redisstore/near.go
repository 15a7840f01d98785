package redisstore

import (
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apilayer/apilayer/session"
)

// Near caches (store.redis.nearCacheTTL, docs/distributed.md): each
// instance keeps the validation results it read from Redis in memory for
// a short TTL, so a cache hit costs no Redis round trip. What would make a
// held result wrong is announced on the Store's invalidation channel
// (KeyPrefix+"invalidate"), in the same round trip as the write, with the
// token's key (its SHA-256, never the token) as the message:
//
//   - Cache.Delete (a logout: session.Manager.Forget),
//   - Cache.Set of an invalid verdict (a validation or revalidation that
//     found the token invalid),
//   - Failures.Fail of any reason but network (a failed refresh, a reuse
//     detection).
//
// Every Store subscribed to the channel drops that key from its near
// caches. A Store empties them whenever an invalidation may have been
// missed: when its subscription is confirmed again (go-redis reconnects
// and resubscribes by itself after a connection loss or a Redis restart)
// and when its circuit breaker closes. An invalidation missed otherwise
// (published while this instance's subscription was down, and the
// reconnection not yet noticed) lasts at most the near cache's TTL.

// NearCache returns a session.NearCache over shared (the Store's Cache,
// or CacheWithFallback over it) that keeps each entry for at most ttl
// (positive; never past the entry's Fresh), size entries at most (0:
// session.DefaultCacheSize). It is registered with the Store: the
// invalidations received drop its keys, and it is emptied on every
// resubscription and when the breaker closes. Close stops that.
//
// Wrapping CacheWithFallback keeps a hit free of any other work; while
// Redis is unavailable the near cache holds what the fallback serves, for
// ttl at most, and is emptied when Redis answers again.
func (s *Store) NearCache(shared session.Cache, ttl time.Duration, size int) *session.NearCache {
	n := session.NewNearCache(shared, ttl, size, s.now)
	s.nearMu.Lock()
	s.nears = append(s.nears, n)
	s.nearMu.Unlock()
	return n
}

// invalidations is the pub/sub channel of invalidated token keys.
func (s *Store) invalidations() string { return s.prefix + "invalidate" }

// dropNear drops key from every near cache. A message that is not a token
// key is ignored.
func (s *Store) dropNear(key string) {
	if checkTokenKey(key) != nil {
		return
	}
	s.nearMu.Lock()
	defer s.nearMu.Unlock()
	for _, n := range s.nears {
		n.Drop(key)
	}
}

// purgeNear empties every near cache: invalidations may have been missed.
func (s *Store) purgeNear() {
	s.nearMu.Lock()
	defer s.nearMu.Unlock()
	for _, n := range s.nears {
		n.Purge()
	}
}

// listen serves the Store's subscription until it is closed (by Close):
// lock releases wake their waiters, invalidations drop keys from the near
// caches, and each confirmation of the invalidation channel's subscription
// (the first, and every one after go-redis reconnected) empties them.
func (s *Store) listen(msgs <-chan any) {
	for m := range msgs {
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == s.invalidations() {
				s.purgeNear()
			}
		case *redis.Message:
			switch m.Channel {
			case s.invalidations():
				s.dropNear(m.Payload)
			case s.channel():
				s.wake(m.Payload)
			}
		}
	}
}
