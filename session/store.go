package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/apilayer/apilayer/internal/lru"
	"github.com/apilayer/apilayer/ratelimit"
)

// Key is the key of a token in every store: the lowercase hex SHA-256 of
// the token. No store ever sees a raw token.
func Key(token string) string {
	// The token is copied into a stack buffer (tokens up to 2 KiB), so the
	// only allocation is the returned string.
	var buf [2048]byte
	sum := sha256.Sum256(append(buf[:0], token...))
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// Entry is a cached validation result.
type Entry struct {
	// Valid is the backend's verdict.
	Valid bool `json:"valid"`
	// Identity is the identity of a valid token. It is shared between
	// requests: treat it as read-only.
	Identity *Identity `json:"identity,omitempty"`
	// Fresh is when the verdict stops being served without asking the
	// backend (never after Identity.Exp).
	Fresh time.Time `json:"fresh"`
	// Stale is, for a valid entry, when it stops being served while the
	// backend is unavailable (staleIfError, never after Identity.Exp).
	Stale time.Time `json:"stale"`
}

// Until is when the entry is of no more use and may be dropped.
func (e Entry) Until() time.Time {
	if e.Stale.After(e.Fresh) {
		return e.Stale
	}
	return e.Fresh
}

// Cache holds validation results keyed by Key(token). An implementation
// keeps an entry at most until Entry.Until. Errors are logged by the
// Manager and treated as a miss; they never fail a request.
type Cache interface {
	Get(ctx context.Context, key string) (Entry, bool, error)
	Set(ctx context.Context, key string, e Entry) error
	Delete(ctx context.Context, key string) error
}

// Failures remembers failed refreshes keyed by Key(credential), so a dead
// token does not cost one refresh call per request, nor a dead backend one
// refresh call per request of each token.
type Failures interface {
	// Failed returns the failure remembered for key.
	Failed(ctx context.Context, key string) (Failure, bool, error)
	// Fail remembers f for key until the given time; a time that is not
	// after now forgets key.
	Fail(ctx context.Context, key string, f Failure, until time.Time) error
}

// Failure is a remembered failed refresh.
type Failure struct {
	// Reason is why the refresh failed.
	Reason Reason
	// Retry is, for a refresh that failed because the backend was
	// unavailable (ReasonNetwork), when the credential may be refreshed
	// again. The record outlives it, so that the next unavailable refresh
	// of the credential doubles Backoff. Zero: the credential is not
	// refreshed again while the record is kept.
	Retry time.Time
	// Backoff is, with Retry, the interval that ends at Retry.
	Backoff time.Duration
}

// Blocks reports whether f forbids a refresh at now.
func (f Failure) Blocks(now time.Time) bool { return f.Retry.IsZero() || now.Before(f.Retry) }

// Limiter caps an action per key (the guest mints of one client).
type Limiter interface {
	Allow(ctx context.Context, key string) bool
}

// MemoryCache is the in-memory Cache: an LRU bounded by its size.
type MemoryCache struct {
	l   *lru.Map[Entry]
	now func() time.Time
}

// NewMemoryCache returns a Cache of at most size entries. If now is nil,
// time.Now is used.
func NewMemoryCache(size int, now func() time.Time) *MemoryCache {
	if now == nil {
		now = time.Now
	}
	return &MemoryCache{l: lru.New[Entry](size), now: now}
}

// Get implements Cache.
func (c *MemoryCache) Get(_ context.Context, key string) (Entry, bool, error) {
	e, ok := c.l.Get(key, c.now())
	return e, ok, nil
}

// Set implements Cache.
func (c *MemoryCache) Set(_ context.Context, key string, e Entry) error {
	c.l.Set(key, e, e.Until(), c.now())
	return nil
}

// Delete implements Cache.
func (c *MemoryCache) Delete(_ context.Context, key string) error {
	c.l.Delete(key)
	return nil
}

// Len returns the number of entries held, expired ones included until they
// are swept or looked up.
func (c *MemoryCache) Len() int { return c.l.Len() }

// Sweep drops the expired entries.
func (c *MemoryCache) Sweep() { c.l.Sweep(c.now()) }

// MemoryFailures is the in-memory Failures, bounded by its size.
type MemoryFailures struct {
	l   *lru.Map[Failure]
	now func() time.Time
}

// NewMemoryFailures returns a Failures of at most size entries. If now is
// nil, time.Now is used.
func NewMemoryFailures(size int, now func() time.Time) *MemoryFailures {
	if now == nil {
		now = time.Now
	}
	return &MemoryFailures{l: lru.New[Failure](size), now: now}
}

// Failed implements Failures.
func (f *MemoryFailures) Failed(_ context.Context, key string) (Failure, bool, error) {
	r, ok := f.l.Get(key, f.now())
	return r, ok, nil
}

// Fail implements Failures.
func (f *MemoryFailures) Fail(_ context.Context, key string, r Failure, until time.Time) error {
	f.l.Set(key, r, until, f.now())
	return nil
}

// Sweep drops the expired entries.
func (f *MemoryFailures) Sweep() { f.l.Sweep(f.now()) }

// MemoryLimiter is the in-memory Limiter: perMinute actions per key, as a
// GCRA burst of perMinute refilled evenly over a minute (a
// ratelimit.MemoryStore, the algorithm of rateLimit and of the Redis
// guest cap), for at most size keys. When more keys are seen, the least
// recently used one is forgotten (its bucket starts full again).
type MemoryLimiter struct {
	s     *ratelimit.MemoryStore
	limit ratelimit.Limit
}

// NewMemoryLimiter returns a Limiter of perMinute actions per key and
// minute (perMinute <= 0: no cap). If now is nil, time.Now is used.
func NewMemoryLimiter(perMinute, size int, now func() time.Time) *MemoryLimiter {
	return &MemoryLimiter{
		s:     ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: size, Now: now}),
		limit: ratelimit.Limit{Burst: perMinute, Period: time.Minute},
	}
}

// Allow implements Limiter.
func (l *MemoryLimiter) Allow(ctx context.Context, key string) bool {
	if l.limit.Burst <= 0 {
		return true // no cap
	}
	res, err := l.s.Allow(ctx, key, l.limit)
	// The only error is a limit of more than one action per nanosecond
	// (perMinute over 6e10), which caps nothing.
	return err != nil || res.Allowed
}

// Sweep drops the buckets that are full again.
func (l *MemoryLimiter) Sweep() { l.s.Sweep() }

// Revalidations remembers, in local mode, the backend's verdict on a
// locally valid token keyed by Key(token), until the next confirmation is
// due. It never holds a token.
type Revalidations interface {
	// Confirmed returns the remembered verdict while it is not due.
	Confirmed(ctx context.Context, key string) (valid, ok bool, err error)
	// Confirm remembers the verdict until the given time.
	Confirm(ctx context.Context, key string, valid bool, until time.Time) error
}

// Successors holds successor records keyed by Key(old credential): the
// tokens that replaced a rotated-away credential, sealed (AES-GCM under a
// key derived from the old credential, bound to the client that refreshed),
// so the store never holds a readable token.
type Successors interface {
	Get(ctx context.Context, key string) (sealed []byte, ok bool, err error)
	// Set stores the record for ttl. The Manager does not modify sealed
	// after the call.
	Set(ctx context.Context, key string, sealed []byte, ttl time.Duration) error
}

// MemoryRevalidations is the in-memory Revalidations, bounded by its size.
type MemoryRevalidations struct {
	l   *lru.Map[bool]
	now func() time.Time
}

// NewMemoryRevalidations returns a Revalidations of at most size tokens.
// If now is nil, time.Now is used.
func NewMemoryRevalidations(size int, now func() time.Time) *MemoryRevalidations {
	if now == nil {
		now = time.Now
	}
	return &MemoryRevalidations{l: lru.New[bool](size), now: now}
}

// Confirmed implements Revalidations.
func (r *MemoryRevalidations) Confirmed(_ context.Context, key string) (bool, bool, error) {
	v, ok := r.l.Get(key, r.now())
	return v, ok, nil
}

// Confirm implements Revalidations.
func (r *MemoryRevalidations) Confirm(_ context.Context, key string, valid bool, until time.Time) error {
	r.l.Set(key, valid, until, r.now())
	return nil
}

// Len returns the number of tokens held, expired ones included until they
// are swept or looked up.
func (r *MemoryRevalidations) Len() int { return r.l.Len() }

// Sweep drops the expired entries.
func (r *MemoryRevalidations) Sweep() { r.l.Sweep(r.now()) }

// MemorySuccessors is the in-memory Successors, bounded by its size.
type MemorySuccessors struct {
	l   *lru.Map[[]byte]
	now func() time.Time
}

// NewMemorySuccessors returns a Successors of at most size records. If now
// is nil, time.Now is used.
func NewMemorySuccessors(size int, now func() time.Time) *MemorySuccessors {
	if now == nil {
		now = time.Now
	}
	return &MemorySuccessors{l: lru.New[[]byte](size), now: now}
}

// Get implements Successors.
func (s *MemorySuccessors) Get(_ context.Context, key string) ([]byte, bool, error) {
	b, ok := s.l.Get(key, s.now())
	return b, ok, nil
}

// Set implements Successors.
func (s *MemorySuccessors) Set(_ context.Context, key string, sealed []byte, ttl time.Duration) error {
	now := s.now()
	s.l.Set(key, sealed, now.Add(ttl), now)
	return nil
}

// Len returns the number of records held, expired ones included until they
// are swept or looked up.
func (s *MemorySuccessors) Len() int { return s.l.Len() }

// Sweep drops the expired records.
func (s *MemorySuccessors) Sweep() { s.l.Sweep(s.now()) }
