package redisstore

import (
	"context"
	"time"

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

// Fail implements [session.Failures].
func (f *Failures) Fail(ctx context.Context, key string, r session.Reason, until time.Time) error {
	if err := checkTokenKey(key); err != nil {
		return err
	}
	return f.s.setRecord(ctx, "failures set", f.s.key("fail", key), []byte(r), until)
}
