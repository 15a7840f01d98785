package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apilayer/apilayer/ratelimit"
)

// gcraScript applies GCRA atomically, with the arithmetic of the memory
// store (ratelimit's gcra) in integer nanoseconds.
//
// Lua numbers are float64, exact only below 2^53: nanoseconds since 1970
// are not. So the theoretical arrival time (TAT) is kept as whole seconds
// (s) and nanoseconds (n), and only differences to now, bounded by the
// limit's period (checked below 2^53 ns, about 104 days), are computed in
// nanoseconds. The clock is the caller's (ARGV now), not Redis TIME, so
// every instance and the conformance suite's manual clock agree.
//
// KEYS[1] the bucket; ARGV: now seconds, now nanoseconds, emission
// interval T (ns), burst. Returns {allowed, remaining, resetAfter ns,
// retryAfter ns}. A blocked call writes nothing.
var gcraScript = redis.NewScript(`
local now_s = tonumber(ARGV[1])
local now_n = tonumber(ARGV[2])
local t = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local offset = t * burst
local rel = 0
local v = redis.call('HMGET', KEYS[1], 's', 'n')
if v[1] and v[2] then
  rel = (tonumber(v[1]) - now_s) * 1000000000 + (tonumber(v[2]) - now_n)
  if rel < 0 then rel = 0 end
end
local newrel = rel + t
local diff = offset - newrel
if diff < 0 then
  return {0, 0, rel, -diff}
end
local n = now_n + newrel
local s = now_s + math.floor(n / 1000000000)
n = n % 1000000000
redis.call('HSET', KEYS[1], 's', string.format('%.0f', s), 'n', string.format('%.0f', n))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.ceil(newrel / 1000000)))
local remaining = math.floor(diff / t)
if remaining * t > diff then remaining = remaining - 1 end
return {1, remaining, newrel, 0}
`)

// maxPeriod is the longest period the script computes exactly.
const maxPeriod = time.Duration(1 << 53)

// allow runs the GCRA script for the Redis key k at the Store's now.
func (s *Store) allow(ctx context.Context, k string, l ratelimit.Limit) (ratelimit.Result, error) {
	if err := l.Validate(); err != nil {
		return ratelimit.Result{}, err
	}
	if l.Period >= maxPeriod {
		return ratelimit.Result{}, fmt.Errorf("redisstore: rate limit period %v is too long (max %v)", l.Period, maxPeriod)
	}
	now := s.now()
	t := l.Period / time.Duration(l.Burst)
	var vals []int64
	err := s.do(ctx, "rate limit", func(ctx context.Context) error {
		var err error
		vals, err = gcraScript.Run(ctx, s.rdb, []string{k},
			now.Unix(), now.Nanosecond(), int64(t), l.Burst).Int64Slice()
		return err
	})
	if err != nil {
		return ratelimit.Result{}, err
	}
	if len(vals) != 4 {
		return ratelimit.Result{}, errors.New("redisstore: rate limit: unexpected script answer")
	}
	return ratelimit.Result{
		Allowed:    vals[0] == 1,
		Limit:      l.Burst,
		Remaining:  int(vals[1]),
		ResetAfter: time.Duration(vals[2]),
		RetryAfter: time.Duration(vals[3]),
	}, nil
}

// RateLimit is the [ratelimit.Store] of a [Store]: GCRA in one atomic Lua
// script per call, under the keys KeyPrefix+"rl:"+key. Keys are the
// ratelimit package's (client IPs, user ids), never tokens.
//
// It returns an error wrapping ErrUnavailable when Redis cannot answer;
// ratelimit.Limiter then falls back to its in-process store.
type RateLimit struct{ s *Store }

// RateLimit returns the Store's [ratelimit.Store].
func (s *Store) RateLimit() *RateLimit { return &RateLimit{s: s} }

var _ ratelimit.Store = (*RateLimit)(nil)

// Allow implements [ratelimit.Store].
func (r *RateLimit) Allow(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Result, error) {
	return r.s.allow(ctx, r.s.key("rl", key), l)
}
