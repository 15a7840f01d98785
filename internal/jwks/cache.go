package jwks

import (
	"cmp"
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// fetchTimeout bounds a fetch that a lookup starts (the first fetch is
// bounded by the context given to Fetch instead), and is the timeout of
// the HTTP client made when Options.HTTPClient is nil. The HTTP client's
// own timeout, if shorter, applies too.
const fetchTimeout = 10 * time.Second

// ErrClosed is the fetch error of a miss on a closed Cache: it can no
// longer fetch, so its set may be out of date.
var ErrClosed = errors.New("jwks: closed")

// The default verdicts of a miss (Options.Invalid, Options.Unavailable).
var (
	ErrNoKey       = errors.New("jwks: no such key")
	ErrUnavailable = errors.New("jwks: key set unavailable")
)

// Options configures a Cache.
type Options struct {
	// URL is the key set's absolute http(s) URL; the caller checks it
	// (a bad URL fails every fetch).
	URL string
	// Algorithms are the algorithms the caller accepts.
	Algorithms []string
	// Fits reports whether key may verify alg, one of Algorithms. A key
	// is kept with the algorithms it fits, with the alg it names if it
	// names one, and dropped when none is left. It must not be nil.
	Fits func(alg string, key crypto.PublicKey) bool
	// MinRefetch is the least time between the starts of two fetches,
	// whatever causes them. Zero means no limit.
	MinRefetch time.Duration
	// MaxAge is the age from which a lookup that finds its key starts a
	// background refetch. Zero means every such lookup (still at most one
	// fetch per MinRefetch).
	MaxAge time.Duration
	// HTTPClient makes the fetches; it is yours to close. If nil, the
	// Cache makes a client with a 10s timeout and its own transport, whose
	// connections Close closes.
	HTTPClient *http.Client
	// Now is the clock. If nil, time.Now is used.
	Now func() time.Time
	// Logger receives fetch results (the URL without its password, never
	// a key). If nil, nothing is logged.
	Logger *slog.Logger

	// Invalid is wrapped by the error of a lookup whose key a fetched set
	// lacks while the last fetch succeeded: the token is not valid. If
	// nil, ErrNoKey.
	Invalid error
	// Unavailable is wrapped, with the fetch's error, by the error of a
	// lookup whose key is missing while the set cannot be fetched (the
	// last fetch failed, or the Cache is closed): the set may just be out
	// of date, so the token may be valid, and an outage of the key set's
	// server must not make it invalid. If nil, ErrUnavailable.
	Unavailable error
}

// clip shortens an attacker-controlled header value for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// set is an immutable fetched key set.
type set struct {
	keys    Keys
	fetched time.Time
}

// call is one fetch; done is closed once err is set.
type call struct {
	done chan struct{}
	err  error
}

// Cache is the key set at one URL: the last good set, refetched when a
// lookup misses and in the background once older than MaxAge. It is safe
// for concurrent use. Its fetch goroutines belong to it and are stopped by
// Close.
type Cache struct {
	url        string
	algs       []string
	fits       func(alg string, key crypto.PublicKey) bool
	minRefetch time.Duration
	maxAge     time.Duration
	client     *http.Client
	ownClient  bool // client was made by New: Close closes its connections
	now        func() time.Time
	log        *slog.Logger
	invalid    error // Options.Invalid
	down       error // Options.Unavailable

	set atomic.Pointer[set] // the last good set; nil before the first success

	ctx    context.Context // cancelled by Close; parent of every fetch goroutine
	cancel context.CancelFunc
	wg     sync.WaitGroup // fetch goroutines

	mu        sync.Mutex
	tried     bool      // guarded by mu: whether a fetch was started
	attempted time.Time // guarded by mu: start of the last fetch
	lastErr   error     // guarded by mu: result of the last finished fetch
	inflight  *call     // guarded by mu: the running fetch goroutine, if any
	closed    bool      // guarded by mu
}

// New returns a Cache for o. It fetches nothing: call Fetch for the first
// set, or let the first lookup fetch it.
func New(o Options) *Cache {
	c := &Cache{
		url:        o.URL,
		algs:       slices.Clone(o.Algorithms),
		fits:       o.Fits,
		minRefetch: o.MinRefetch,
		maxAge:     o.MaxAge,
		client:     o.HTTPClient,
		now:        o.Now,
		log:        o.Logger,
		invalid:    cmp.Or(o.Invalid, ErrNoKey),
		down:       cmp.Or(o.Unavailable, ErrUnavailable),
	}
	if c.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		c.client, c.ownClient = &http.Client{Timeout: fetchTimeout, Transport: tr}, true
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Fetch fetches the set in the caller's goroutine, bounded by ctx, and
// counts as an attempt for MinRefetch: the first fetch, done by the
// caller's constructor. A failure keeps the last good set.
func (c *Cache) Fetch(ctx context.Context) error {
	c.mu.Lock()
	c.tried, c.attempted = true, c.now()
	c.mu.Unlock()
	err := c.fetch(ctx)
	c.mu.Lock()
	c.lastErr = err
	c.mu.Unlock()
	return err
}

// Keys returns the keys that may verify a token with header alg and kid.
// When the set has none, it waits for a refetch (its own or a running
// one) unless the last fetch started less than MinRefetch ago. A miss
// wraps Options.Invalid or Options.Unavailable; a ctx done while waiting
// gives its cause, and the fetch goes on for the other callers.
func (c *Cache) Keys(ctx context.Context, alg, kid string) ([]Key, error) {
	if s := c.set.Load(); s != nil {
		if ks := s.keys.Find(alg, kid); len(ks) > 0 {
			if c.now().Sub(s.fetched) >= c.maxAge {
				c.mu.Lock()
				c.startIfDueLocked()
				c.mu.Unlock()
			}
			return ks, nil
		}
	}

	c.mu.Lock()
	f := c.inflight
	if f == nil {
		// A fetch may have finished since the lookup above.
		if s := c.set.Load(); s != nil {
			if ks := s.keys.Find(alg, kid); len(ks) > 0 {
				c.mu.Unlock()
				return ks, nil
			}
		}
		if f = c.startIfDueLocked(); f == nil {
			err := c.lastErr
			if c.closed {
				err = ErrClosed
			}
			c.mu.Unlock()
			return nil, c.miss(alg, kid, err, "refetch rate-limited")
		}
	}
	c.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("jwks: waiting for the key set: %w", context.Cause(ctx))
	}
	if s := c.set.Load(); s != nil {
		if ks := s.keys.Find(alg, kid); len(ks) > 0 {
			return ks, nil
		}
	}
	return nil, c.miss(alg, kid, f.err, "after a refetch")
}

// miss is the error of a lookup whose key is not in the set; fetchErr is
// the last fetch's error (or ErrClosed), nil if it succeeded.
func (c *Cache) miss(alg, kid string, fetchErr error, note string) error {
	if fetchErr != nil {
		return fmt.Errorf("jwks: no key for kid %q alg %s and the key set cannot be fetched: %w: %w",
			clip(kid), clip(alg), c.down, fetchErr)
	}
	return fmt.Errorf("jwks: no key for kid %q alg %s in the key set (%s): %w", clip(kid), clip(alg), note, c.invalid)
}

// startIfDueLocked returns the running fetch or starts one, unless the
// last one started less than minRefetch ago or c is closed (then nil).
// The caller holds mu.
func (c *Cache) startIfDueLocked() *call {
	if c.inflight != nil {
		return c.inflight
	}
	if c.closed || (c.tried && c.now().Sub(c.attempted) < c.minRefetch) {
		return nil
	}
	f := &call{done: make(chan struct{})}
	c.inflight, c.tried, c.attempted = f, true, c.now()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.ctx, fetchTimeout)
		err := c.fetch(ctx)
		cancel()
		c.mu.Lock()
		f.err, c.lastErr, c.inflight = err, err, nil
		c.mu.Unlock()
		close(f.done)
	}()
	return f
}

// fetch downloads the set and, when it holds a usable key, makes it the
// current one. A failed fetch keeps the last good set.
func (c *Cache) fetch(ctx context.Context) error {
	s, err := c.download(ctx)
	if err != nil {
		c.log.Warn("JWKS fetch failed; keeping the last good key set",
			slog.String("url", redact(c.url)), slog.String("error", err.Error()))
		return err
	}
	c.set.Store(s)
	c.log.Debug("JWKS fetched", slog.String("url", redact(c.url)), slog.Int("keys", len(s.keys)))
	return nil
}

// Close cancels the running fetch, waits for it, and closes the
// connections of the client New made. Lookups keep answering from the
// last good set; a miss fails with ErrClosed. It is idempotent.
func (c *Cache) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	if c.ownClient {
		c.client.CloseIdleConnections()
	}
}
