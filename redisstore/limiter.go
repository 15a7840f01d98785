package redisstore

import (
	"context"
	"time"

	"github.com/apilayer/apilayer/ratelimit"
	"github.com/apilayer/apilayer/session"
)

// Limiter is the shared [session.Limiter] of a [Store]: the guest-mint cap
// of perMinute mints per client and minute, as a GCRA burst of perMinute
// refilled evenly over a minute (the rate-limit script), under
// KeyPrefix+"guest:"+key.
//
// session.Limiter has no error: when Redis cannot answer, the call is
// decided by the fallback (per-instance state), so the cap still holds on
// each instance during an outage instead of failing open.
type Limiter struct {
	s         *Store
	perMinute int
	fallback  session.Limiter
}

// GuestLimiter returns a Limiter of perMinute actions per key and minute
// (perMinute <= 0: no cap). fallback decides while Redis is unavailable; if
// nil, a session.MemoryLimiter of session.DefaultCacheSize keys on the
// Store's clock.
func (s *Store) GuestLimiter(perMinute int, fallback session.Limiter) *Limiter {
	if fallback == nil {
		fallback = session.NewMemoryLimiter(perMinute, session.DefaultCacheSize, s.now)
	}
	return &Limiter{s: s, perMinute: perMinute, fallback: fallback}
}

var _ session.Limiter = (*Limiter)(nil)

// Allow implements [session.Limiter].
func (l *Limiter) Allow(ctx context.Context, key string) bool {
	if l.perMinute <= 0 {
		return true
	}
	res, err := l.s.allow(ctx, l.s.key("guest", key), ratelimit.Limit{Burst: l.perMinute, Period: time.Minute})
	if err != nil {
		return l.fallback.Allow(ctx, key)
	}
	return res.Allowed
}
