package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/backend"
	"golang.org/x/sync/singleflight"
)

// Identity is what the backend (or a local JWT check) says about a valid
// token: authn.Identity.
type Identity = authn.Identity

// Tokens are the tokens of a refresh answer.
type Tokens = backend.Tokens

// Reason classifies a failed refresh: authn.ReasonReuse, ReasonExpired,
// ReasonRevoked, ReasonNetwork or ReasonUnknown.
type Reason = authn.Reason

// DefaultCacheSize bounds the in-memory stores when Options.CacheSize is 0.
const DefaultCacheSize = 10000

// ErrClosed is returned by shared work started after Close.
var ErrClosed = errors.New("session: manager closed")

// Backend is what the Manager needs from the JWT backend; *backend.Client
// implements it. Validate returns backend.ErrInvalid for an invalid token
// and an error wrapping backend.ErrUnavailable when it could not ask;
// Refresh fails with a *backend.RefreshError.
type Backend interface {
	Validate(ctx context.Context, token string) (Identity, error)
	Refresh(ctx context.Context, credential string) (Tokens, error)
	Guest(ctx context.Context) (string, error)
}

// LocalVerifier verifies a token without asking the backend (local mode);
// *localjwt.Verifier implements it. Verify returns backend.ErrInvalid (or
// any error not wrapping backend.ErrUnavailable) for an invalid token, and
// an error wrapping backend.ErrUnavailable when it could not decide (its
// key set could not be fetched). The identity's user object is the claim
// set.
type LocalVerifier interface {
	Verify(ctx context.Context, token string) (Identity, error)
}

// Options configures a Manager.
type Options struct {
	// Backend validates, refreshes and mints tokens. Required.
	Backend Backend
	// CacheTTL is how long a validation result is served without asking the
	// backend (never past the token's exp). Zero disables the cache; the
	// concurrent validations of one token still make one call.
	CacheTTL time.Duration
	// CacheSize bounds each in-memory store. If zero, DefaultCacheSize.
	CacheSize int
	// StaleIfError is how long after its last successful validation a
	// token's result is served while the backend is unavailable. Zero
	// disables it.
	StaleIfError time.Duration
	// SingleFlight makes concurrent refreshes of one credential share one
	// backend call.
	SingleFlight bool
	// GuestFallback: a user token whose refresh failed as expired, revoked
	// or unknown is treated as no token (a guest may be minted) instead of
	// a terminal logout.
	GuestFallback bool
	// GuestEnabled mints guest tokens for visitors without a usable token.
	GuestEnabled bool
	// GuestMaxPerMinute caps the guests minted per Input.Client and minute;
	// reached, the request goes on as if guests were disabled. Zero: no cap.
	GuestMaxPerMinute int
	// GuestIPv6Prefix is the prefix length by which an IPv6 Input.Client is
	// capped (rateLimit.ipv6PrefixLength): the addresses of one /64 share
	// one bucket. IPv4 clients are capped by address. Zero means
	// ratelimit.DefaultIPv6PrefixLength (64); 128 caps IPv6 by address.
	GuestIPv6Prefix int
	// Cache holds validation results. If nil, an in-memory LRU of CacheSize
	// entries.
	Cache Cache
	// Failures remembers failed refreshes. If nil, in memory.
	Failures Failures
	// GuestLimiter enforces GuestMaxPerMinute. If nil and the cap is set, in
	// memory (CacheSize clients).
	GuestLimiter Limiter
	// Local, if set, is local mode: tokens are verified by it, without a
	// backend call in the steady state. Nil: backend mode.
	Local LocalVerifier
	// RevalidateInterval (local mode): a locally valid token is confirmed
	// with the backend's validate endpoint on its first request in this
	// process, then at most once per interval (tracked in Revalidations,
	// never in a client cookie). A backend "invalid" makes the token
	// invalid; an unavailable backend keeps the local verdict. Zero: never.
	RevalidateInterval time.Duration
	// Revalidations remembers the backend confirmations of local mode. If
	// nil, in memory (CacheSize tokens).
	Revalidations Revalidations
	// DualToken is dual-token mode (cookies.refresh set): Input.Refresh
	// carries the refresh cookie, which authenticates every refresh call
	// and is refreshed at once when the access cookie is absent.
	DualToken bool
	// Proactive refreshes a valid user token whose exp is at most
	// ProactiveWindow away.
	Proactive       bool
	ProactiveWindow time.Duration
	// SuccessorTTL is how long a request still carrying a token (dual
	// mode: a refresh token) that was rotated away is answered with its
	// successor, without a second backend refresh, when it comes from the
	// same client (Input.ClientID). Zero disables successor records.
	SuccessorTTL time.Duration
	// Successors holds the successor records, and the flight records of
	// RefreshLock. If nil, in memory (CacheSize records).
	Successors Successors
	// RefreshLock, if set, makes the refresh of one credential one backend
	// call across every Manager sharing the lock and the stores (Cache,
	// Failures, Successors): distributed mode. The Manager that takes the
	// lock refreshes and leaves its result; the others wait for the
	// release (at most RefreshLockTTL) and read it, whichever client their
	// requests come from, since those requests joined a refresh in flight
	// (docs/distributed.md#refresh-coordination). A lock error means
	// refreshing in this instance alone.
	// Nil: refreshes are coalesced within this process only.
	RefreshLock RefreshLock
	// RefreshLockTTL is how long a refresh holds the lock at most, and how
	// long another instance waits for it (or for its Relay's answer): more
	// than a refresh call and the validation of its new token take, each
	// bounded by the backend's timeout (the gateway sets three times
	// backend.timeout, with room to spare). If zero, DefaultRefreshLockTTL.
	RefreshLockTTL time.Duration
	// Relay, if set with a RefreshLock, is asked to have the credential's
	// owner among the gateway's instances refresh it, before the lock is
	// tried, so that one instance refreshes each credential even while
	// Redis is unavailable to some instances or all (store.peers); the
	// owner takes the lock when it can. No answer within RefreshLockTTL, or
	// nobody to ask: this instance goes on with the lock. The owner's side
	// is Relayed. Nil: the lock alone.
	Relay Relay
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// Logger receives the Manager's logs (never a token). If nil, none.
	Logger *slog.Logger
}

// Manager runs the token lifecycle. It is safe for concurrent use; Close
// stops its background work.
type Manager struct {
	be            Backend
	ttl, stale    time.Duration
	singleFlight  bool
	guestFallback bool
	guestEnabled  bool
	cache         Cache
	failures      Failures
	limiter       Limiter
	v6prefix      int // GuestIPv6Prefix
	now           func() time.Time
	log           *slog.Logger

	local        LocalVerifier
	verified     *MemoryCache // local mode: verdicts of this process for CacheTTL (never shared: a round trip would cost more than the crypto)
	revalidate   time.Duration
	revals       Revalidations
	dual         bool
	proactive    bool
	window       time.Duration
	successorTTL time.Duration
	successors   Successors
	lock         RefreshLock
	lockTTL      time.Duration
	relay        Relay

	vg singleflight.Group // validations, by Key(token)
	rg singleflight.Group // refreshes, by Key(credential)

	stopCtx context.Context // cancelled by Close: ends shared work
	stop    context.CancelFunc
	done    chan struct{} // closed by Close: ends the janitor

	mu     sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup // shared calls and the janitor
	once   sync.Once
}

// sweeper is implemented by the in-memory stores.
type sweeper interface{ Sweep() }

// sweepEvery is how often the janitor drops expired in-memory entries.
const sweepEvery = time.Minute

// New returns a Manager for o.
func New(o Options) (*Manager, error) {
	var errs []error
	if o.Backend == nil {
		errs = append(errs, errors.New("session: a backend is required"))
	}
	for _, d := range []struct {
		name string
		v    int64
	}{
		{"cacheTTL", int64(o.CacheTTL)}, {"cacheSize", int64(o.CacheSize)},
		{"staleIfError", int64(o.StaleIfError)}, {"guestMaxPerMinute", int64(o.GuestMaxPerMinute)},
		{"revalidateInterval", int64(o.RevalidateInterval)}, {"proactiveWindow", int64(o.ProactiveWindow)},
		{"successorTTL", int64(o.SuccessorTTL)}, {"refreshLockTTL", int64(o.RefreshLockTTL)},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("session: %s must not be negative (got %d)", d.name, d.v))
		}
	}
	if o.GuestIPv6Prefix < 0 || o.GuestIPv6Prefix > 128 {
		errs = append(errs, fmt.Errorf("session: guestIPv6Prefix must be 0 to 128 (got %d)", o.GuestIPv6Prefix))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m := &Manager{
		be:            o.Backend,
		ttl:           o.CacheTTL,
		stale:         o.StaleIfError,
		singleFlight:  o.SingleFlight,
		guestFallback: o.GuestFallback,
		guestEnabled:  o.GuestEnabled,
		cache:         o.Cache,
		failures:      o.Failures,
		limiter:       o.GuestLimiter,
		v6prefix:      o.GuestIPv6Prefix,
		now:           o.Now,
		log:           o.Logger,
		done:          make(chan struct{}),
		local:         o.Local,
		revals:        o.Revalidations,
		dual:          o.DualToken,
		proactive:     o.Proactive,
		window:        o.ProactiveWindow,
		successorTTL:  o.SuccessorTTL,
		successors:    o.Successors,
		lock:          o.RefreshLock,
		lockTTL:       o.RefreshLockTTL,
		relay:         o.Relay,
	}
	if m.lockTTL == 0 {
		m.lockTTL = DefaultRefreshLockTTL
	}
	if o.Local != nil {
		m.revalidate = o.RevalidateInterval
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	size := o.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	// The janitor sweeps every in-memory store, those given too: a
	// gateway that hands its stores to its successor on a reload keeps
	// them swept (two janitors sweeping one store do no harm).
	var sweep []sweeper
	for _, s := range []any{o.Cache, o.Failures, o.Revalidations, o.Successors, o.GuestLimiter} {
		if sw, ok := s.(sweeper); ok {
			sweep = append(sweep, sw)
		}
	}
	if m.cache == nil {
		c := NewMemoryCache(size, m.now)
		m.cache, sweep = c, append(sweep, c)
	}
	if m.failures == nil {
		f := NewMemoryFailures(size, m.now)
		m.failures, sweep = f, append(sweep, f)
	}
	if m.local != nil && m.ttl > 0 {
		m.verified = NewMemoryCache(size, m.now)
		sweep = append(sweep, m.verified)
	}
	if m.revals == nil && m.revalidate > 0 {
		r := NewMemoryRevalidations(size, m.now)
		m.revals, sweep = r, append(sweep, r)
	}
	if m.successors == nil && (m.successorTTL > 0 || m.lock != nil) {
		s := NewMemorySuccessors(size, m.now)
		m.successors, sweep = s, append(sweep, s)
	}
	if m.limiter == nil && o.GuestEnabled && o.GuestMaxPerMinute > 0 {
		l := NewMemoryLimiter(o.GuestMaxPerMinute, size, m.now)
		m.limiter, sweep = l, append(sweep, l)
	}
	m.stopCtx, m.stop = context.WithCancel(context.Background())
	m.wg.Add(1)
	go m.janitor(sweep)
	return m, nil
}

// janitor drops expired in-memory entries until Close.
func (m *Manager) janitor(sweep []sweeper) {
	defer m.wg.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-m.done:
			return
		case <-t.C:
			for _, s := range sweep {
				s.Sweep()
			}
		}
	}
}

// Close stops the Manager's background work and waits for it, cancelling
// shared backend calls in flight. It is idempotent. Authenticate after
// Close answers StateUnavailable.
func (m *Manager) Close() error {
	m.once.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		m.stop()
		close(m.done)
		m.wg.Wait()
	})
	return nil
}

func (m *Manager) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// shared runs fn once for all concurrent callers of key in g (nil g: no
// coalescing, fn runs under ctx). The shared call runs under
// context.WithoutCancel(ctx), so one caller's cancellation does not fail
// the others; it ends with the backend's own timeout or with Close. Each
// caller waits on its own ctx.
func (m *Manager) shared(ctx context.Context, g *singleflight.Group, key string, fn func(context.Context) (any, error)) (any, error) {
	if g == nil {
		return fn(ctx)
	}
	ch := g.DoChan(key, func() (any, error) {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return nil, ErrClosed
		}
		m.wg.Add(1)
		m.mu.Unlock()
		defer m.wg.Done()
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		defer context.AfterFunc(m.stopCtx, cancel)()
		return fn(fctx)
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("session: %w", context.Cause(ctx))
	}
}

// Store helpers: a store error is logged and treated as a miss.

func (m *Manager) cacheGet(ctx context.Context, key string) (Entry, bool) {
	e, ok, err := m.cache.Get(ctx, key)
	if err != nil {
		m.log.Warn("session: cache get failed", slog.Any("error", err))
		return Entry{}, false
	}
	return e, ok
}

func (m *Manager) cacheSet(ctx context.Context, key string, e Entry) {
	var err error
	if e.Until().After(m.now()) {
		err = m.cache.Set(ctx, key, e)
	} else {
		err = m.cache.Delete(ctx, key)
	}
	if err != nil {
		m.log.Warn("session: cache set failed", slog.Any("error", err))
	}
}

// failure returns the failure remembered for key, whether or not it still
// blocks a refresh.
func (m *Manager) failure(ctx context.Context, key string) (Failure, bool) {
	f, ok, err := m.failures.Failed(ctx, key)
	if err != nil {
		m.log.Warn("session: failed-refresh memory get failed", slog.Any("error", err))
		return Failure{}, false
	}
	return f, ok
}

// failedGet returns the reason of the failure remembered for key while it
// forbids refreshing the credential.
func (m *Manager) failedGet(ctx context.Context, key string) (Reason, bool) {
	f, ok := m.failure(ctx, key)
	if !ok || !f.Blocks(m.now()) {
		return "", false
	}
	return f.Reason, true
}

// remember remembers a refresh that failed for reason r (not network) for
// max(CacheTTL, 1s); it replaces the memory of unavailable refreshes.
func (m *Manager) remember(ctx context.Context, key string, r Reason) {
	d := max(m.ttl, time.Second)
	m.setFailure(ctx, key, Failure{Reason: r}, m.now().Add(d))
}

// The backoff of the refreshes of one credential that failed because the
// backend was unavailable: 1s, doubled by each further unavailable
// refresh, up to 30s. The memory of it is kept for maxRefreshBackoff past
// the interval, so a refresh within that time continues the doubling.
const (
	minRefreshBackoff = time.Second
	maxRefreshBackoff = 30 * time.Second
)

// rememberUnavailable remembers a refresh of key that failed because the
// backend was unavailable, and returns the interval before the next one.
func (m *Manager) rememberUnavailable(ctx context.Context, key string) time.Duration {
	d := minRefreshBackoff
	if f, ok := m.failure(ctx, key); ok && f.Reason == backend.ReasonNetwork && f.Backoff > 0 {
		d = min(2*f.Backoff, maxRefreshBackoff)
	}
	now := m.now()
	m.setFailure(ctx, key, Failure{Reason: backend.ReasonNetwork, Retry: now.Add(d), Backoff: d},
		now.Add(d+maxRefreshBackoff))
	return d
}

// forgetUnavailable forgets the unavailable refreshes of key: the backend
// answered a refresh of it.
func (m *Manager) forgetUnavailable(ctx context.Context, key string) {
	if f, ok := m.failure(ctx, key); ok && f.Reason == backend.ReasonNetwork {
		m.setFailure(ctx, key, Failure{}, time.Time{})
	}
}

func (m *Manager) setFailure(ctx context.Context, key string, f Failure, until time.Time) {
	if err := m.failures.Fail(ctx, key, f, until); err != nil {
		m.log.Warn("session: failed-refresh memory set failed", slog.Any("error", err))
	}
}

func (m *Manager) confirmedGet(ctx context.Context, key string) (valid, ok bool) {
	valid, ok, err := m.revals.Confirmed(ctx, key)
	if err != nil {
		m.log.Warn("session: revalidation memory get failed", slog.Any("error", err))
		return false, false
	}
	return valid, ok
}

// confirm remembers a backend verdict on a locally valid token until
// now+d, never past exp.
func (m *Manager) confirm(ctx context.Context, key string, valid bool, d time.Duration, exp time.Time) {
	if m.revalidate <= 0 {
		return
	}
	until := m.now().Add(d)
	if !exp.IsZero() {
		until = minTime(until, exp)
	}
	if err := m.revals.Confirm(ctx, key, valid, until); err != nil {
		m.log.Warn("session: revalidation memory set failed", slog.Any("error", err))
	}
}
