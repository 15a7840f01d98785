package redisstore

import (
	"context"
	"time"

	"github.com/apilayer/apilayer/session"
)

// Successors is the shared [session.Successors] of a [Store]: sealed
// successor records (already AES-GCM encrypted by package session under a
// key derived from the old credential) under
// KeyPrefix+"succ:"+session.Key(old credential), for their TTL. It refuses
// a key that is not a SHA-256 hex digest.
//
// It returns an error wrapping ErrUnavailable when Redis cannot answer;
// wrap it with [SuccessorsWithFallback] to use memory instead.
type Successors struct{ s *Store }

// Successors returns the Store's successor records.
func (s *Store) Successors() *Successors { return &Successors{s: s} }

var _ session.Successors = (*Successors)(nil)

// Get implements [session.Successors].
func (r *Successors) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := checkTokenKey(key); err != nil {
		return nil, false, err
	}
	return r.s.getRecord(ctx, "successors get", r.s.key("succ", key))
}

// Set implements [session.Successors].
func (r *Successors) Set(ctx context.Context, key string, sealed []byte, ttl time.Duration) error {
	if err := checkTokenKey(key); err != nil {
		return err
	}
	return r.s.setRecord(ctx, "successors set", r.s.key("succ", key), sealed, r.s.now().Add(ttl))
}

// Revalidations is the shared [session.Revalidations] of a [Store] (local
// mode): the backend's last verdict on a token under
// KeyPrefix+"reval:"+session.Key(token), until the next confirmation is
// due. It refuses a key that is not a SHA-256 hex digest.
//
// It returns an error wrapping ErrUnavailable when Redis cannot answer;
// wrap it with [RevalidationsWithFallback] to use memory instead.
type Revalidations struct{ s *Store }

// Revalidations returns the Store's revalidation memory.
func (s *Store) Revalidations() *Revalidations { return &Revalidations{s: s} }

var _ session.Revalidations = (*Revalidations)(nil)

// Confirmed implements [session.Revalidations].
func (r *Revalidations) Confirmed(ctx context.Context, key string) (valid, ok bool, err error) {
	if err := checkTokenKey(key); err != nil {
		return false, false, err
	}
	b, ok, err := r.s.getRecord(ctx, "revalidations get", r.s.key("reval", key))
	if err != nil || !ok || len(b) != 1 {
		return false, false, err
	}
	return b[0] == 1, true, nil
}

// Confirm implements [session.Revalidations].
func (r *Revalidations) Confirm(ctx context.Context, key string, valid bool, until time.Time) error {
	if err := checkTokenKey(key); err != nil {
		return err
	}
	v := []byte{0}
	if valid {
		v[0] = 1
	}
	return r.s.setRecord(ctx, "revalidations set", r.s.key("reval", key), v, until)
}
