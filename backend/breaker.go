package backend

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Defaults of the zero BreakerOptions fields (backend.breaker).
const (
	DefaultBreakerFailures = 5
	DefaultBreakerOpenFor  = time.Second
	// MaxBreakerOpenFor caps the doubling of an open interval while probes
	// fail.
	MaxBreakerOpenFor = 30 * time.Second
)

// ErrBreakerOpen is wrapped, beside ErrUnavailable, by the error of a call
// that was not made because its endpoint's circuit breaker is open.
var ErrBreakerOpen = errors.New("backend: circuit breaker open")

// BreakerOptions configures the circuit breaker each endpoint of a Client
// has (backend.breaker).
//
// A breaker counts the consecutive unavailable outcomes of its endpoint's
// calls (timeout, connection error, 5xx, 429); any other answer resets the
// count, and a call the caller cancelled counts for nothing. At Failures
// it opens: for OpenFor, calls fail at once with an error wrapping
// ErrUnavailable and ErrBreakerOpen, without reaching the backend. Then it
// is half-open: the next call is the probe and goes out alone (the others
// still fail at once). A probe answered closes the breaker; a probe that
// fails opens it again for twice the last interval, at most
// MaxBreakerOpenFor.
//
// A 429 counts as unavailable: a backend that rate-limits the gateway
// cannot answer it. The trade-off: a client that makes the backend answer
// 429 on login five times in a row opens the login breaker for every
// client. The gateway's own rate limit (rateLimit, with a rule for the
// login path) should refuse such a client before the backend's does.
type BreakerOptions struct {
	// Failures is the number of consecutive unavailable outcomes that open
	// a breaker. If zero, DefaultBreakerFailures.
	Failures int
	// OpenFor is how long a breaker stays open before its first probe. If
	// zero, DefaultBreakerOpenFor. It is capped at MaxBreakerOpenFor.
	OpenFor time.Duration
}

// BreakerState is the state of an endpoint's circuit breaker, as the
// health endpoint and the metrics name it.
type BreakerState string

// The states of a breaker.
const (
	// BreakerClosed: calls go out.
	BreakerClosed BreakerState = "closed"
	// BreakerOpen: calls fail at once.
	BreakerOpen BreakerState = "open"
	// BreakerHalfOpen: the open interval is over; the next call (or the
	// one in flight) is the probe.
	BreakerHalfOpen BreakerState = "half-open"
)

// endpointNames are the endpoints of a Client, in the order of
// config.Endpoints: the keys of Client.Breakers.
var endpointNames = [...]string{"validate", "refresh", "guest", "login", "register", "logout"}

// outcome is what a call said about the backend's availability.
type outcome int

const (
	answered    outcome = iota // any answer that is not 5xx or 429
	unavailable                // timeout, connection error, 5xx, 429
	cancelled                  // the caller gave up: says nothing
)

// breaker is the circuit breaker of one endpoint. It is safe for
// concurrent use.
type breaker struct {
	name      string
	threshold int
	base      time.Duration
	now       func() time.Time
	log       *slog.Logger

	mu      sync.Mutex
	open    bool          // open or half-open; guarded by mu
	fails   int           // consecutive unavailable outcomes while closed; guarded by mu
	openFor time.Duration // the current open interval; guarded by mu
	until   time.Time     // open: when the next call may probe; guarded by mu
	probing bool          // half-open: the probe is in flight; guarded by mu
	down    bool          // the most recent outcome was unavailable; guarded by mu
	seen    time.Time     // when a call was last answered; guarded by mu
}

func newBreaker(name string, o BreakerOptions, now func() time.Time, log *slog.Logger) *breaker {
	b := &breaker{name: name, threshold: o.Failures, base: o.OpenFor, now: now, log: log}
	if b.threshold <= 0 {
		b.threshold = DefaultBreakerFailures
	}
	if b.base <= 0 {
		b.base = DefaultBreakerOpenFor
	}
	b.base = min(b.base, MaxBreakerOpenFor)
	b.openFor = b.base
	return b
}

// allow reports whether a call may go out now; probe is true for the
// half-open probe, whose outcome alone decides the breaker. When the call
// may not go out, err wraps ErrUnavailable and ErrBreakerOpen.
func (b *breaker) allow() (probe bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return false, nil
	}
	if b.probing || b.now().Before(b.until) {
		return false, fmt.Errorf("backend: %s: %w: %w", b.name, ErrUnavailable, ErrBreakerOpen)
	}
	b.probing = true
	b.log.Info("backend: circuit half-open, probing", slog.String("endpoint", b.name))
	return true, nil
}

// done records the outcome of a call allow let through.
func (b *breaker) done(probe bool, o outcome) {
	if o == cancelled {
		if probe {
			b.mu.Lock()
			b.probing = false // the next call probes instead
			b.mu.Unlock()
		}
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down = o == unavailable
	if o == answered {
		b.seen = b.now()
	}
	switch {
	case probe && o == answered:
		b.open, b.probing, b.fails, b.openFor = false, false, 0, b.base
		b.log.Info("backend: circuit closed", slog.String("endpoint", b.name))
	case probe:
		b.probing = false
		b.openFor = min(2*b.openFor, MaxBreakerOpenFor)
		b.until = b.now().Add(b.openFor)
		b.log.Warn("backend: circuit open: probe failed", slog.String("endpoint", b.name),
			slog.Duration("openFor", b.openFor))
	case b.open:
		// A call that went out before the breaker opened: only the probe
		// decides now.
	case o == answered:
		b.fails = 0
	default:
		b.fails++
		if b.fails >= b.threshold {
			b.open, b.openFor = true, b.base
			b.until = b.now().Add(b.openFor)
			b.log.Warn("backend: circuit open", slog.String("endpoint", b.name),
				slog.Int("failures", b.fails), slog.Duration("openFor", b.openFor))
		}
	}
}

// state returns the breaker's state: half-open once the open interval is
// over, whether or not the probe has started.
func (b *breaker) state() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.open:
		return BreakerClosed
	case b.probing || !b.now().Before(b.until):
		return BreakerHalfOpen
	}
	return BreakerOpen
}

// answered returns when a call of the endpoint was last answered (zero:
// never).
func (b *breaker) answered() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen
}

// available reports whether the endpoint counts as available: its breaker
// is closed and its most recent call did not fail as unavailable.
func (b *breaker) available() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.open && !b.down
}
