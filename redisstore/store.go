package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apilayer/apilayer/session"
)

// Defaults of the zero Options fields.
const (
	DefaultKeyPrefix        = "apilayer:"
	DefaultTimeout          = 100 * time.Millisecond
	DefaultFailureThreshold = 3
	DefaultCoolDown         = time.Second
	DefaultPollInterval     = 100 * time.Millisecond
)

// ErrUnavailable is wrapped by every error of a call that Redis did not
// answer in time, or that was not attempted because the circuit breaker is
// open. Callers fall back to per-instance state on it.
var ErrUnavailable = errors.New("redisstore: redis unavailable")

// Options configures a [Store].
type Options struct {
	// URL is the Redis to use: redis://[user:pass@]host:port/db,
	// rediss:// (TLS) or unix:///path. A URL with a master_name query
	// parameter is a Sentinel URL (the host and addr parameters are the
	// sentinels); a URL with addr query parameters and no master_name is a
	// Cluster URL (the host and addr parameters are seed nodes). Other
	// query parameters are go-redis options (dial_timeout, pool_size, ...).
	URL string

	// KeyPrefix is prepended to every key and channel. If empty,
	// DefaultKeyPrefix.
	KeyPrefix string

	// Timeout bounds every Redis call; past it the call fails and counts
	// as a failure of the circuit breaker. If zero, DefaultTimeout.
	Timeout time.Duration

	// FailureThreshold is the number of consecutive failed calls that opens
	// the circuit breaker. If zero, DefaultFailureThreshold.
	FailureThreshold int

	// CoolDown is how long the breaker stays open before a probe (PING)
	// checks whether Redis is back; a failed probe opens it for another
	// CoolDown. If zero, DefaultCoolDown.
	CoolDown time.Duration

	// PollInterval is how often Locks.Wait checks the lock besides
	// listening for its release (which a lock expiring by its TTL does not
	// announce). If zero, DefaultPollInterval.
	PollInterval time.Duration

	// Logger receives one line per change of availability (never a key or
	// value). If nil, nothing is logged (OnStateChange still reports them).
	Logger *slog.Logger

	// Now is the clock of expiries and rate limits. If nil, time.Now.
	Now func() time.Time

	// OnStateChange, if set, is called with the new availability after
	// each change (after it is logged). It must not block.
	OnStateChange func(available bool)
}

// Store is a connection to Redis with a circuit breaker. Its views (Cache,
// Failures, Successors, Revalidations, RateLimit, GuestLimiter, Locks)
// share the connection pool and the breaker. It is safe for concurrent use.
type Store struct {
	rdb       redis.UniversalClient
	prefix    string
	timeout   time.Duration
	threshold int
	coolDown  time.Duration
	poll      time.Duration
	log       *slog.Logger
	now       func() time.Time
	onChange  func(bool)

	open  atomic.Bool  // the breaker: calls fail fast while open
	fails atomic.Int64 // consecutive failed calls

	probe chan struct{} // signalled when the breaker opens
	stop  chan struct{} // closed by Close
	wg    sync.WaitGroup

	sub       *redis.PubSub
	waitersMu sync.Mutex
	waiters   map[string]map[chan struct{}]struct{} // by lock key; guarded by waitersMu
	nearMu    sync.Mutex
	nears     []*session.NearCache // guarded by nearMu

	closeOnce sync.Once
	closeErr  error
}

// New connects to the Redis at opts.URL and subscribes to its lock-release
// and invalidation channels. It fails only for invalid options: when Redis
// does not answer (within ctx and Timeout), the Store starts with its
// breaker open, logs it, and recovers by itself when Redis comes up. Close
// releases it.
func New(ctx context.Context, opts Options) (*Store, error) {
	s := &Store{
		prefix:    opts.KeyPrefix,
		timeout:   opts.Timeout,
		threshold: opts.FailureThreshold,
		coolDown:  opts.CoolDown,
		poll:      opts.PollInterval,
		log:       opts.Logger,
		now:       opts.Now,
		onChange:  opts.OnStateChange,
		probe:     make(chan struct{}, 1),
		stop:      make(chan struct{}),
		waiters:   make(map[string]map[chan struct{}]struct{}),
	}
	if s.prefix == "" {
		s.prefix = DefaultKeyPrefix
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.threshold <= 0 {
		s.threshold = DefaultFailureThreshold
	}
	if s.coolDown <= 0 {
		s.coolDown = DefaultCoolDown
	}
	if s.poll <= 0 {
		s.poll = DefaultPollInterval
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	rdb, err := newClient(opts.URL, s.timeout)
	if err != nil {
		return nil, err
	}
	s.rdb = rdb

	s.wg.Go(s.prober)

	// The release channel of Locks and the invalidation channel of the
	// near caches: subscribed once per Store. go-redis resubscribes by
	// itself after a reconnection (even when this first attempt failed),
	// and its confirmations tell listen that messages may have been lost.
	s.sub = rdb.Subscribe(context.WithoutCancel(ctx))
	pctx, cancel := context.WithTimeout(ctx, s.timeout)
	err = s.sub.Subscribe(pctx, s.channel(), s.invalidations())
	for err == nil {
		// The confirmations, read here: only those of a resubscription
		// reach listen, which empties the near caches on them.
		var m any
		if m, err = s.sub.Receive(pctx); err == nil {
			if c, ok := m.(*redis.Subscription); ok && c.Channel == s.invalidations() {
				break
			}
		}
	}
	cancel()
	if err != nil {
		s.fail(fmt.Errorf("%w: subscribe: %w", ErrUnavailable, err), true)
	}
	msgs := s.sub.ChannelWithSubscriptions()
	s.wg.Go(func() { s.listen(msgs) })
	return s, nil
}

// newClient parses the URL (see Options.URL) and bounds every socket
// operation by the call timeout d. The client honours the context deadline
// of each call and neither retries a command nor a dial: a retry inside a
// call would exceed its budget, and the breaker decides when to try again.
func newClient(raw string, d time.Duration) (redis.UniversalClient, error) {
	if raw == "" {
		return nil, errors.New("redisstore: url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("redisstore: url does not parse") // the error would quote the password
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redisstore: sentinel url: %w", redactErr(err, u))
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = d, d, d, d
		o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries = true, -1, 1
		return redis.NewFailoverClient(o), nil
	case q.Has("addr"):
		o, err := redis.ParseClusterURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redisstore: cluster url: %w", redactErr(err, u))
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = d, d, d, d
		o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries = true, -1, 1
		return redis.NewClusterClient(o), nil
	default:
		o, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redisstore: url: %w", redactErr(err, u))
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = d, d, d, d
		o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries = true, -1, 1
		return redis.NewClient(o), nil
	}
}

// redactErr keeps a parse error from carrying the URL's password.
func redactErr(err error, u *url.URL) error {
	p, ok := u.User.Password()
	if !ok || p == "" {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), p, "xxxxx"))
}

// Healthy reports whether Redis is in use: false while the breaker is open
// (the callers serve from per-instance state). For the health endpoint.
func (s *Store) Healthy() bool { return !s.open.Load() }

// Ping checks that Redis answers: a PING through the circuit breaker (it
// fails at once while the breaker is open, and counts like any call).
func (s *Store) Ping(ctx context.Context) error {
	return s.do(ctx, "ping", func(ctx context.Context) error { return s.rdb.Ping(ctx).Err() })
}

// Close stops the Store's goroutines and closes its connections. It is
// idempotent; calls after Close fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		err1 := s.sub.Close()
		err2 := s.rdb.Close()
		s.wg.Wait()
		if err := errors.Join(err1, err2); err != nil {
			s.closeErr = fmt.Errorf("redisstore: close: %w", err)
		}
	})
	return s.closeErr
}

// key is the Redis key of name in namespace ns.
func (s *Store) key(ns, name string) string { return s.prefix + ns + ":" + name }

// channel is the pub/sub channel announcing lock releases.
func (s *Store) channel() string { return s.prefix + "unlock" }

// do runs one Redis call through the breaker, bounded by the timeout. fn
// returns the call's error (redis.Nil is not a failure). op names the call
// in the error.
func (s *Store) do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	select {
	case <-s.stop:
		return fmt.Errorf("%w: %s: store closed", ErrUnavailable, op)
	default:
	}
	if !s.Healthy() {
		return fmt.Errorf("%w: %s: circuit open", ErrUnavailable, op)
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	err := fn(cctx)
	cancel()
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		s.succeed()
		return err
	case ctx.Err() != nil:
		// The caller gave up: says nothing about Redis.
		return fmt.Errorf("redisstore: %s: %w", op, context.Cause(ctx))
	}
	err = fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
	s.fail(err, false)
	return err
}

func (s *Store) succeed() {
	if s.fails.Load() != 0 {
		s.fails.Store(0)
	}
}

// fail counts a failed call; at the threshold (or at once when now is set)
// the breaker opens, which is logged once and wakes the prober.
func (s *Store) fail(err error, now bool) {
	n := s.fails.Add(1)
	if !now && n < int64(s.threshold) {
		return
	}
	if !s.open.CompareAndSwap(false, true) {
		return // already open: logged when it opened
	}
	s.log.Warn("redisstore: redis unavailable, serving from per-instance state",
		slog.String("error", err.Error()), slog.Duration("probe_every", s.coolDown))
	if s.onChange != nil {
		s.onChange(false)
	}
	select {
	case s.probe <- struct{}{}:
	default:
	}
}

// prober closes the breaker again: while it is open, it waits CoolDown
// and PINGs (the half-open probe), until a PING succeeds. It returns when
// the Store is closed.
func (s *Store) prober() {
	for {
		select {
		case <-s.stop:
			return
		case <-s.probe:
		}
		t := time.NewTimer(s.coolDown)
		for {
			select {
			case <-s.stop:
				t.Stop()
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
			err := s.rdb.Ping(ctx).Err()
			cancel()
			if err == nil {
				break
			}
			t.Reset(s.coolDown)
		}
		s.fails.Store(0)
		s.open.Store(false)
		// Invalidations published meanwhile were lost.
		s.purgeNear()
		s.log.Info("redisstore: redis available again")
		if s.onChange != nil {
			s.onChange(true)
		}
	}
}
