package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store is the storage of rate-limit state: [MemoryStore] in one process,
// redisstore's (an atomic Lua script) shared by every instance. Every
// implementation must pass the conformance suite of package storetest.
type Store interface {
	// Allow applies GCRA for key with the given limit and returns the
	// result; each call costs one request. A blocked call changes nothing.
	// An invalid limit is an error wrapping [ErrInvalidLimit].
	Allow(ctx context.Context, key string, limit Limit) (Result, error)
}

// Limit allows Burst requests per Period: Burst at once, then one more
// every Period/Burst.
type Limit struct {
	Burst  int
	Period time.Duration
}

// ErrInvalidLimit is returned for a [Limit] whose Burst is not positive or
// whose Period is shorter than Burst nanoseconds.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

// Validate reports whether l can be applied.
func (l Limit) Validate() error {
	if l.Burst <= 0 || l.Period <= 0 || int64(l.Period)/int64(l.Burst) < 1 {
		return fmt.Errorf("%w (burst %d, period %v)", ErrInvalidLimit, l.Burst, l.Period)
	}
	return nil
}

// interval is the emission interval: the time one request takes to refill.
func (l Limit) interval() time.Duration { return l.Period / time.Duration(l.Burst) }

// Result is the outcome of one [Store.Allow] call.
type Result struct {
	Allowed    bool
	Limit      int           // the Burst of the limit applied
	Remaining  int           // requests allowed now, after this one
	ResetAfter time.Duration // until the bucket is full again
	RetryAfter time.Duration // until the next request is allowed (0 when allowed)
}

// gcra applies the algorithm to the theoretical arrival time tat (the
// instant at which the bucket is full again; zero or past = full) at now.
// It returns the new tat and the result; a blocked request leaves tat as it
// was. The arithmetic is the one of redis_rate, in integer nanoseconds:
//
//	T = Period/Burst, newTAT = max(tat, now) + T
//	allowed when newTAT - now <= T*Burst
//	remaining = floor((T*Burst - (newTAT - now)) / T)
func gcra(tat, now time.Time, l Limit) (time.Time, Result) {
	t := l.interval()
	offset := t * time.Duration(l.Burst)
	if tat.Before(now) {
		tat = now
	}
	newTAT := tat.Add(t)
	diff := offset - newTAT.Sub(now) // slack left after this request
	if diff < 0 {
		return tat, Result{
			Limit:      l.Burst,
			ResetAfter: tat.Sub(now),
			RetryAfter: -diff,
		}
	}
	return newTAT, Result{
		Allowed:    true,
		Limit:      l.Burst,
		Remaining:  int(diff / t),
		ResetAfter: newTAT.Sub(now),
	}
}
