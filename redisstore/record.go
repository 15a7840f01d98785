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
	payload, ok := s.openRecord(b)
	return payload, ok, nil
}

// openRecord returns the payload of the record b, if not expired.
func (s *Store) openRecord(b []byte) ([]byte, bool) {
	if len(b) < 8 {
		return nil, false // not ours: a miss
	}
	until := time.Unix(0, int64(binary.BigEndian.Uint64(b)))
	if !s.now().Before(until) {
		return nil, false
	}
	return b[8:], true
}

// setRecord stores payload at k until the given time; a past time deletes
// the key.
func (s *Store) setRecord(ctx context.Context, op, k string, payload []byte, until time.Time) error {
	return s.writeRecord(ctx, op, k, payload, until, "")
}

// writeRecord is setRecord, and when invalidated is not empty it also
// publishes it on the invalidation channel, in the same round trip and
// after the write: an instance that drops invalidated from its near cache
// then reads the new record.
func (s *Store) writeRecord(ctx context.Context, op, k string, payload []byte, until time.Time, invalidated string) error {
	v, ttl, ok := s.sealRecord(payload, until)
	if !ok {
		return s.delete(ctx, op, k, invalidated)
	}
	if invalidated == "" {
		return s.do(ctx, op, func(ctx context.Context) error {
			return s.rdb.Set(ctx, k, v, ttl).Err()
		})
	}
	return s.do(ctx, op, func(ctx context.Context) error {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k, v, ttl)
			p.Publish(ctx, s.invalidations(), invalidated)
			return nil
		})
		return err
	})
}

// delete deletes the key k, and publishes invalidated (if not empty) as
// writeRecord does.
func (s *Store) delete(ctx context.Context, op, k, invalidated string) error {
	if invalidated == "" {
		return s.del(ctx, op, k)
	}
	return s.do(ctx, op, func(ctx context.Context) error {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, k)
			p.Publish(ctx, s.invalidations(), invalidated)
			return nil
		})
		return err
	})
}

// sealRecord returns the record of payload until the given time and its
// Redis TTL; ok is false when the time is not after now.
func (s *Store) sealRecord(payload []byte, until time.Time) (v []byte, ttl time.Duration, ok bool) {
	ttl = until.Sub(s.now())
	if ttl <= 0 {
		return nil, 0, false
	}
	v = binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(payload)), uint64(until.UnixNano()))
	v = append(v, payload...)
	// PX is in milliseconds: round up, so Redis never drops a record
	// before the expiry that reads check.
	return v, (ttl + time.Millisecond - 1).Truncate(time.Millisecond), true
}

// del deletes the key k.
func (s *Store) del(ctx context.Context, op, k string) error {
	return s.do(ctx, op, func(ctx context.Context) error {
		return s.rdb.Del(ctx, k).Err()
	})
}
