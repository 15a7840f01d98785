package redisstore

import (
	"context"
	"time"

	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/session"
)

// Failures is the shared [session.Failures] of a [Store]: the reason of a
// failed refresh under KeyPrefix+"fail:"+session.Key(credential), until
// the time given. It refuses a key that is not a SHA-256 hex digest.
//
// It returns an error wrapping ErrUnavailable when Redis cannot answer;
// wrap it with [FailuresWithFallback] to use memory instead.
type Failures struct{ s *Store }

// Failures returns the Store's failed-refresh memory.
func (s *Store) Failures() *Failures { return &Failures{s: s} }

var _ session.Failures = (*Failures)(nil)

// Failed implements [session.Failures].
func (f *Failures) Failed(ctx context.Context, key string) (session.Reason, bool, error) {
	if err := checkTokenKey(key); err != nil {
		return "", false, err
	}
	b, ok, err := f.s.getRecord(ctx, "failures get", f.s.key("fail", key))
	if err != nil || !ok {
		return "", false, err
	}
	return session.Reason(b), true, nil
}

// Fail implements [session.Failures]. A failure for any reason but
// backend.ReasonNetwork (a failed refresh, a reuse detection) is announced
// to the near caches of every instance ([Store.NearCache]), which drop
// the credential's validation result and read it from Redis again; a
// backend that could not answer says nothing about the token.
func (f *Failures) Fail(ctx context.Context, key string, r session.Reason, until time.Time) error {
	if err := checkTokenKey(key); err != nil {
		return err
	}
	var invalidated string
	if r != backend.ReasonNetwork {
		invalidated = key
	}
	return f.s.writeRecord(ctx, "failures set", f.s.key("fail", key), []byte(r), until, invalidated)
}
