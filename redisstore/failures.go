package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/session"
)

// Failures is the shared [session.Failures] of a [Store]. The reason of a
// failed refresh is under KeyPrefix+"fail:"+session.Key(credential), until
// the time given. The backoff of a refresh that failed because the backend
// was unavailable (Failure.Retry and Backoff) is under
// KeyPrefix+"failnet:"+session.Key(credential), while "fail:" holds the
// reason "network" until Retry: an instance of an earlier version, which
// reads only "fail:", then waits for Retry as well. It refuses a key that
// is not a SHA-256 hex digest.
//
// It returns an error wrapping ErrUnavailable when Redis cannot answer;
// wrap it with [FailuresWithFallback] to use memory instead.
type Failures struct{ s *Store }

// Failures returns the Store's failed-refresh memory.
func (s *Store) Failures() *Failures { return &Failures{s: s} }

var _ session.Failures = (*Failures)(nil)

// Failed implements [session.Failures]: one round trip for both keys.
func (f *Failures) Failed(ctx context.Context, key string) (session.Failure, bool, error) {
	if err := checkTokenKey(key); err != nil {
		return session.Failure{}, false, err
	}
	var reason, backoff *redis.StringCmd
	err := f.s.do(ctx, "failures get", func(ctx context.Context) error {
		// A pipeline, not MGET: in a Cluster the two keys may live in two
		// slots.
		_, err := f.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			reason = p.Get(ctx, f.s.key("fail", key))
			backoff = p.Get(ctx, f.s.key("failnet", key))
			return nil
		})
		return err
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return session.Failure{}, false, err
	}
	var out session.Failure
	found := false
	if b, err := reason.Bytes(); err == nil {
		if p, ok := f.s.openRecord(b); ok {
			out, found = session.Failure{Reason: session.Reason(p)}, true
		}
	}
	if found && out.Reason != backend.ReasonNetwork {
		return out, true, nil // a newer answer of the backend
	}
	if b, err := backoff.Bytes(); err == nil {
		if p, ok := f.s.openRecord(b); ok && len(p) == 16 {
			return session.Failure{
				Reason:  backend.ReasonNetwork,
				Retry:   time.Unix(0, int64(binary.BigEndian.Uint64(p))),
				Backoff: time.Duration(binary.BigEndian.Uint64(p[8:])),
			}, true, nil
		}
	}
	return out, found, nil
}

// Fail implements [session.Failures]. A failure for any reason but
// backend.ReasonNetwork (a failed refresh, a reuse detection) is announced
// to the near caches of every instance ([Store.NearCache]), in the same
// round trip: they drop the credential's validation result and read it
// from Redis again. A backend that could not answer says nothing about
// the token.
func (f *Failures) Fail(ctx context.Context, key string, r session.Failure, until time.Time) error {
	if err := checkTokenKey(key); err != nil {
		return err
	}
	reasonUntil := until
	var backoff []byte
	if !r.Retry.IsZero() {
		reasonUntil = minTime(r.Retry, until)
		backoff = binary.BigEndian.AppendUint64(nil, uint64(r.Retry.UnixNano()))
		backoff = binary.BigEndian.AppendUint64(backoff, uint64(r.Backoff))
	}
	rk, bk := f.s.key("fail", key), f.s.key("failnet", key)
	return f.s.do(ctx, "failures set", func(ctx context.Context) error {
		_, err := f.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			if v, ttl, ok := f.s.sealRecord([]byte(r.Reason), reasonUntil); ok {
				p.Set(ctx, rk, v, ttl)
			} else {
				p.Del(ctx, rk)
			}
			if v, ttl, ok := f.s.sealRecord(backoff, until); ok && backoff != nil {
				p.Set(ctx, bk, v, ttl)
			} else {
				p.Del(ctx, bk)
			}
			if r.Reason != backend.ReasonNetwork {
				p.Publish(ctx, f.s.invalidations(), key)
			}
			return nil
		})
		return err
	})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
