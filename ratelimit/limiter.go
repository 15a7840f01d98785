package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/apilayer/apilayer/route"
)

// Defaults of [Options].
const (
	DefaultWindow      = time.Minute
	DefaultMaxRequests = 100
)

// Options configures a [Limiter] (rateLimit.*).
type Options struct {
	// Window and MaxRequests are the global limit: a burst of MaxRequests,
	// refilled evenly over Window. Zero means DefaultWindow and
	// DefaultMaxRequests.
	Window      time.Duration
	MaxRequests int

	// Rules are stricter limits for the paths matching their globs. A
	// request on such a path must be allowed by the global limit and by
	// every matching rule.
	Rules []Rule

	// SkipRoutes are globs on the cleaned path ("*" one segment, "**" zero
	// or more whole segments) whose requests are never counted.
	SkipRoutes []string

	// CaseInsensitive makes Rules and SkipRoutes match paths in any letter
	// case (access.caseInsensitive; see route.Options).
	CaseInsensitive bool

	// SkipPrefetch leaves prefetch requests (see [IsPrefetch]) uncounted.
	// The configuration's default is true; the zero value here is false.
	SkipPrefetch bool

	// Store holds the counters. If nil, a [MemoryStore] owned by the
	// Limiter is used.
	Store Store

	// Now is the clock used for the Reset instant (and for the memory
	// stores the Limiter creates). If nil, time.Now is used.
	Now func() time.Time

	// Logger receives a warning when Store fails, at most once a minute
	// (never a key: keys may hold a user id). If nil, nothing is logged
	// (Decision.Err still carries the failure).
	Logger *slog.Logger
}

// Rule is a stricter limit on the paths that match the glob Path:
// MaxRequests per Window. A zero Window means the global Window.
type Rule struct {
	Path        string
	MaxRequests int
	Window      time.Duration
}

// Limiter applies a rate-limit configuration to requests. It is safe for
// concurrent use.
type Limiter struct {
	global   Limit
	rules    []compiledRule
	skip     route.Globs
	prefetch bool
	store    Store
	fallback *MemoryStore // used for a call when store fails; nil when store is memory
	owned    *MemoryStore // the store New created, closed by Close
	now      func() time.Time
	log      *slog.Logger
	lastWarn atomic.Int64 // unix nanoseconds of the last store-failure warning
}

type compiledRule struct {
	glob  route.Glob
	limit Limit
	key   string // prefix of the store key
}

// New checks opts and returns a Limiter. Every invalid setting is reported.
func New(opts Options) (*Limiter, error) {
	l := &Limiter{prefetch: opts.SkipPrefetch, store: opts.Store, now: opts.Now, log: opts.Logger}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	l.global = Limit{Burst: opts.MaxRequests, Period: opts.Window}
	if l.global.Burst == 0 {
		l.global.Burst = DefaultMaxRequests
	}
	if l.global.Period == 0 {
		l.global.Period = DefaultWindow
	}
	if err := l.global.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("ratelimit: maxRequests %d per window %v: %w", opts.MaxRequests, opts.Window, err))
	}
	match := route.Options{CaseInsensitive: opts.CaseInsensitive}
	skip, err := match.CompileGlobs(opts.SkipRoutes)
	if err != nil {
		errs = append(errs, fmt.Errorf("ratelimit: skipRoutes: %w", err))
	}
	l.skip = skip
	for i, r := range opts.Rules {
		g, err := match.CompileGlob(r.Path)
		if err != nil {
			errs = append(errs, fmt.Errorf("ratelimit: rules[%d].path: %w", i, err))
		} else if !g.Absolute() {
			errs = append(errs, fmt.Errorf("ratelimit: rules[%d].path: must start with / (got %q)", i, r.Path))
		}
		lim := Limit{Burst: r.MaxRequests, Period: r.Window}
		if lim.Period == 0 {
			lim.Period = l.global.Period
		}
		if err := lim.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ratelimit: rules[%d]: maxRequests %d per window %v: %w", i, r.MaxRequests, r.Window, err))
		}
		l.rules = append(l.rules, compiledRule{glob: g, limit: lim, key: "r" + strconv.Itoa(i) + ":"})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if l.store == nil {
		l.owned = NewMemoryStore(MemoryOptions{Now: l.now})
		l.store = l.owned
	} else {
		l.fallback = NewMemoryStore(MemoryOptions{Now: l.now})
	}
	return l, nil
}

// Close releases the memory stores the Limiter created. It does not close
// Options.Store. It is idempotent.
func (l *Limiter) Close() error {
	if l.owned != nil {
		l.owned.Close()
	}
	if l.fallback != nil {
		l.fallback.Close()
	}
	return nil
}

// Decision is the outcome of [Limiter.Check].
type Decision struct {
	// Skipped is true when the request was not counted (skip route or
	// prefetch); it is then allowed and carries no headers.
	Skipped bool
	Allowed bool

	// The most restrictive of the limits that applied: a blocking one if
	// any, else the one with the fewest remaining requests.
	Limit      int
	Remaining  int           // requests allowed now
	Reset      time.Time     // when that bucket is full again
	RetryAfter time.Duration // until the next request is allowed (0 when allowed)

	// Err is the store failure of this call, if any. The decision was then
	// taken by an in-process memory store; the request must go on.
	Err error
}

// Check counts the request once under key (for example "ip:1.2.3.4" or
// "user:42") and returns the decision. path is the cleaned request path
// (route.Clean); if empty, r.URL's path is cleaned here.
//
// The global limit is applied first, then each rule whose glob matches
// path, in order. A request blocked by a limit is not counted by the limits
// after it (a client over its global budget does not also spend its login
// budget), and GCRA never counts a blocked request.
func (l *Limiter) Check(ctx context.Context, r *http.Request, path string, key string) Decision {
	if path == "" {
		path, _ = route.Clean(r.URL.EscapedPath())
	}
	if l.skip.Match(path) || (l.prefetch && IsPrefetch(r)) {
		return Decision{Skipped: true, Allowed: true}
	}
	now := l.now()
	var d Decision
	res, err := l.allow(ctx, "g:"+key, l.global)
	d.Err = err
	best := res
	if res.Allowed {
		for _, rule := range l.rules {
			if !rule.glob.Match(path) {
				continue
			}
			res, err := l.allow(ctx, rule.key+key, rule.limit)
			if d.Err == nil {
				d.Err = err
			}
			if moreRestrictive(res, best) {
				best = res
			}
			if !res.Allowed {
				break
			}
		}
	}
	d.Allowed = best.Allowed
	d.Limit = best.Limit
	d.Remaining = best.Remaining
	d.Reset = now.Add(best.ResetAfter)
	d.RetryAfter = best.RetryAfter
	return d
}

// moreRestrictive reports whether a should be reported instead of b.
func moreRestrictive(a, b Result) bool {
	switch {
	case a.Allowed != b.Allowed:
		return !a.Allowed
	case !a.Allowed:
		return a.RetryAfter > b.RetryAfter
	case a.Remaining != b.Remaining:
		return a.Remaining < b.Remaining
	default:
		return a.ResetAfter > b.ResetAfter
	}
}

// allow asks the store, falling back to the in-process memory store when it
// fails. The fallback keeps per-instance limits while the store is down:
// failing open would let anyone flood the backend during an outage, failing
// closed would refuse every request because of the store.
func (l *Limiter) allow(ctx context.Context, key string, lim Limit) (Result, error) {
	res, err := l.store.Allow(ctx, key, lim)
	if err == nil || l.fallback == nil {
		return res, err
	}
	err = fmt.Errorf("ratelimit: store: %w", err)
	l.warn(err)
	res, _ = l.fallback.Allow(ctx, key, lim) // lim was validated by New
	return res, err
}

const warnEvery = time.Minute

func (l *Limiter) warn(err error) {
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if last != 0 && now-last < int64(warnEvery) {
		return
	}
	if l.lastWarn.CompareAndSwap(last, now) {
		l.log.Warn("ratelimit: store failed, using in-process limits", "error", err)
	}
}
