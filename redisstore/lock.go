package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apilayer/apilayer/session"
)

// ErrNotHeld is returned by Locks.Unlock when the lock is not held under
// the token given (it expired, or another holder has it).
var ErrNotHeld = errors.New("redisstore: lock not held")

// Locks coordinates work across instances: the refresh of one credential
// is done by the instance holding its lock; the others Wait for the
// release and read the winner's result (the flight record package session
// stores under the holder's fencing token). It implements
// session.RefreshLock. Keys are
// session.Key of the credential; a key that is not a SHA-256 hex digest
// is refused.
//
// Each lock carries a fencing token, increasing across acquisitions of
// that key, so a holder whose lock expired can be told apart from the
// next one. A lock expires after its TTL even if its holder dies.
type Locks struct{ s *Store }

// Locks returns the Store's locks.
func (s *Store) Locks() *Locks { return &Locks{s: s} }

var _ session.RefreshLock = (*Locks)(nil)

// lockScript takes the lock KEYS[1] for ARGV[1] ms if it is free. Its
// fencing token comes from the counter KEYS[2] (same hash slot), seeded
// from Redis TIME in microseconds when absent, so tokens keep increasing
// even after the counter expired (ARGV[2] ms after the last acquisition).
// Returns the token, or minus the holder's token when the lock is held
// (0 if the holder's value is not a number). Tokens are below 2^53, so
// they survive Lua's numbers.
var lockScript = redis.NewScript(`
local held = redis.call('GET', KEYS[1])
if held then return -(tonumber(held) or 0) end
local t = redis.call('INCR', KEYS[2])
if t == 1 then
  local now = redis.call('TIME')
  t = tonumber(now[1]) * 1000000 + tonumber(now[2])
  redis.call('SET', KEYS[2], string.format('%.0f', t))
end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], string.format('%.0f', t), 'PX', ARGV[1])
return t
`)

// unlockScript releases KEYS[1] if it holds the token ARGV[1], and
// announces it on the channel ARGV[2] with the message ARGV[3].
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
`)

// fenceTTL is how long a fencing counter outlives its last acquisition.
const fenceTTL = 24 * time.Hour

// lockKeys returns the lock and fencing-counter keys of key, in one hash
// slot for Redis Cluster.
func (l *Locks) lockKeys(key string) []string {
	return []string{l.s.key("lock", "{"+key+"}"), l.s.key("fence", "{"+key+"}")}
}

// TryLock takes the lock of key for ttl if it is free. ok reports whether
// it was taken; token is its fencing token (positive), which Unlock needs.
// When the lock is held, ok is false and token is the holder's fencing
// token, read in the same atomic step (so a waiter knows which
// acquisition it waits for even if it is released at once); 0 if unknown.
func (l *Locks) TryLock(ctx context.Context, key string, ttl time.Duration) (token int64, ok bool, err error) {
	if err := checkTokenKey(key); err != nil {
		return 0, false, err
	}
	ms := ttl.Milliseconds()
	if ms <= 0 {
		return 0, false, fmt.Errorf("redisstore: lock ttl %v is under a millisecond", ttl)
	}
	err = l.s.do(ctx, "lock", func(ctx context.Context) error {
		var err error
		token, err = lockScript.Run(ctx, l.s.rdb, l.lockKeys(key), ms, fenceTTL.Milliseconds()).Int64()
		return err
	})
	if err != nil {
		return 0, false, err
	}
	if token <= 0 {
		return -token, false, nil
	}
	return token, true, nil
}

// Holder returns the fencing token of the current holder of the lock of
// key; ok is false when the lock is free.
func (l *Locks) Holder(ctx context.Context, key string) (token int64, ok bool, err error) {
	if err := checkTokenKey(key); err != nil {
		return 0, false, err
	}
	var v string
	err = l.s.do(ctx, "lock holder", func(ctx context.Context) error {
		var err error
		v, err = l.s.rdb.Get(ctx, l.lockKeys(key)[0]).Result()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	token, err = strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, true, nil // held, by a value that is not ours
	}
	return token, true, nil
}

// Unlock releases the lock of key if it is held under token, and wakes
// the waiters of every instance. It fails with ErrNotHeld otherwise.
func (l *Locks) Unlock(ctx context.Context, key string, token int64) error {
	if err := checkTokenKey(key); err != nil {
		return err
	}
	var n int64
	err := l.s.do(ctx, "unlock", func(ctx context.Context) error {
		var err error
		n, err = unlockScript.Run(ctx, l.s.rdb, l.lockKeys(key)[:1],
			strconv.FormatInt(token, 10), l.s.channel(), key).Int64()
		return err
	})
	if err != nil {
		return err
	}
	if n != 1 {
		return ErrNotHeld
	}
	return nil
}

// Held reports whether the lock of key is held by anyone.
func (l *Locks) Held(ctx context.Context, key string) (bool, error) {
	if err := checkTokenKey(key); err != nil {
		return false, err
	}
	var n int64
	err := l.s.do(ctx, "lock check", func(ctx context.Context) error {
		var err error
		n, err = l.s.rdb.Exists(ctx, l.lockKeys(key)[0]).Result()
		return err
	})
	return n == 1, err
}

// Wait returns nil once the lock of key is free: at once if it is, else
// when its holder unlocks it (announced on a pub/sub channel) or it
// expires (seen by polling every PollInterval), so it is bounded by the
// holder's TTL. It returns the context's error when ctx ends first, and an
// error wrapping ErrUnavailable when Redis cannot answer; the caller then
// does the work itself.
func (l *Locks) Wait(ctx context.Context, key string) error {
	if err := checkTokenKey(key); err != nil {
		return err
	}
	wake := l.s.addWaiter(key) // before the first check: no release is missed
	defer l.s.removeWaiter(key, wake)
	var tick *time.Ticker
	for {
		held, err := l.Held(ctx, key)
		if err != nil {
			return err
		}
		if !held {
			return nil
		}
		if tick == nil {
			tick = time.NewTicker(l.s.poll)
			defer tick.Stop()
		}
		select {
		case <-wake:
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("redisstore: lock wait: %w", context.Cause(ctx))
		}
	}
}

// addWaiter registers a wake-up channel for the releases of key.
func (s *Store) addWaiter(key string) chan struct{} {
	ch := make(chan struct{}, 1)
	s.waitersMu.Lock()
	defer s.waitersMu.Unlock()
	m := s.waiters[key]
	if m == nil {
		m = make(map[chan struct{}]struct{})
		s.waiters[key] = m
	}
	m[ch] = struct{}{}
	return ch
}

func (s *Store) removeWaiter(key string, ch chan struct{}) {
	s.waitersMu.Lock()
	defer s.waitersMu.Unlock()
	m := s.waiters[key]
	delete(m, ch)
	if len(m) == 0 {
		delete(s.waiters, key)
	}
}

// wake wakes the waiters of the released lock of key.
func (s *Store) wake(key string) {
	s.waitersMu.Lock()
	defer s.waitersMu.Unlock()
	for ch := range s.waiters[key] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
