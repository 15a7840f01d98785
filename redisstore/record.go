package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// A record is the value of a token-store key: its expiry (8 bytes,
// big-endian Unix nanoseconds) then its payload. Redis drops it at the
// expiry (PX); reads also check the expiry against the Store's clock, so
// instances and tests with a manual clock agree on it.

// getRecord returns the payload at the Redis key k, if not expired.
func (s *Store) getRecord(ctx context.Context, op, k string) ([]byte, bool, error) {
	var b []byte
	err := s.do(ctx, op, func(ctx context.Context) error {
		var err error
		b, err = s.rdb.Get(ctx, k).Bytes()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if len(b) < 8 {
		return nil, false, nil // not ours: a miss
	}
	until := time.Unix(0, int64(binary.BigEndian.Uint64(b)))
	if !s.now().Before(until) {
		return nil, false, nil
	}
	return b[8:], true, nil
}

// setRecord stores payload at k until the given time; a past time deletes
// the key.
func (s *Store) setRecord(ctx context.Context, op, k string, payload []byte, until time.Time) error {
	ttl := until.Sub(s.now())
	if ttl <= 0 {
		return s.del(ctx, op, k)
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(payload)), uint64(until.UnixNano()))
	v = append(v, payload...)
	// PX is in milliseconds: round up, so Redis never drops a record
	// before the expiry that reads check.
	ttl = (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
	return s.do(ctx, op, func(ctx context.Context) error {
		return s.rdb.Set(ctx, k, v, ttl).Err()
	})
}

// del deletes the key k.
func (s *Store) del(ctx context.Context, op, k string) error {
	return s.do(ctx, op, func(ctx context.Context) error {
		return s.rdb.Del(ctx, k).Err()
	})
}
