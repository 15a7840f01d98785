package assertion

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Limits of a fetched key set.
const (
	maxJWKSBytes = 1 << 20
	maxJWKSKeys  = 100
)

// fetchTimeout bounds a key set fetch that Verify starts. The HTTP
// client's own timeout applies too.
const fetchTimeout = 10 * time.Second

// verifyKey is one key a token may be verified with.
type verifyKey struct {
	kid string
	alg string
	key crypto.PublicKey
}

// keySet is an immutable set of keys.
type keySet struct {
	keys    []verifyKey
	fetched time.Time
}

// find returns the keys that may verify a token with header alg and kid.
// A token without kid may be verified by any key of its alg.
func (s *keySet) find(alg, kid string) []verifyKey {
	var out []verifyKey
	for _, k := range s.keys {
		if k.alg == alg && (kid == "" || k.kid == kid) {
			out = append(out, k)
		}
	}
	return out
}

// fetchCall is one fetch; done is closed once err is set.
type fetchCall struct {
	done chan struct{}
	err  error
}

// remoteSet is the key set at a JWKS URL: the last good set, refetched
// when a token names a kid it lacks (at most once per minRefetch, so
// tokens with made-up kids cannot make the verifier hammer the gateway;
// concurrent callers share one fetch) and in the background once older
// than maxAge (so a key the gateway dropped stops verifying). A failed
// fetch keeps the last good set. Fetch goroutines belong to the set and
// are stopped by close.
type remoteSet struct {
	url        string
	client     *http.Client
	allowed    []string
	minRefetch time.Duration
	maxAge     time.Duration
	now        func() time.Time
	log        *slog.Logger

	set atomic.Pointer[keySet] // nil before the first good fetch

	ctx    context.Context // cancelled by close; parent of every fetch
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	tried     bool       // guarded by mu: whether a fetch was started
	attempted time.Time  // guarded by mu: start of the last fetch
	lastErr   error      // guarded by mu: result of the last finished fetch
	inflight  *fetchCall // guarded by mu
	closed    bool       // guarded by mu
}

// errClosed is the error of a fetch asked of a closed Verifier.
var errClosed = errors.New("assertion: verifier closed")

// keys returns the keys for a token's alg and kid, fetching the set when
// the current one has none (or none yet).
func (r *remoteSet) keys(ctx context.Context, alg, kid string) ([]verifyKey, error) {
	if s := r.set.Load(); s != nil {
		if ks := s.find(alg, kid); len(ks) > 0 {
			if r.now().Sub(s.fetched) >= r.maxAge {
				r.mu.Lock()
				r.startIfDueLocked()
				r.mu.Unlock()
			}
			return ks, nil
		}
	}
	r.mu.Lock()
	c := r.inflight
	if c == nil {
		// A fetch may have finished since the lookup above.
		if s := r.set.Load(); s != nil {
			if ks := s.find(alg, kid); len(ks) > 0 {
				r.mu.Unlock()
				return ks, nil
			}
		}
		if c = r.startIfDueLocked(); c == nil {
			err := r.lastErr
			if r.closed {
				err = errClosed
			}
			r.mu.Unlock()
			return nil, r.unknown(alg, kid, err, "refetch rate-limited")
		}
	}
	r.mu.Unlock()

	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("assertion: waiting for the key set: %w", context.Cause(ctx))
	}
	if s := r.set.Load(); s != nil {
		if ks := s.find(alg, kid); len(ks) > 0 {
			return ks, nil
		}
	}
	return nil, r.unknown(alg, kid, c.err, "after a refetch")
}

// unknown is the error of a token whose key is not in the set. If the
// last fetch failed, the set may just be out of date: unavailable, not
// invalid.
func (r *remoteSet) unknown(alg, kid string, fetchErr error, note string) error {
	if fetchErr != nil {
		return fmt.Errorf("%w: no key for kid %q alg %s, and the key set cannot be fetched: %w", ErrUnavailable, clip(kid), clip(alg), fetchErr)
	}
	return invalid("no key for kid %q alg %s in the key set (%s)", clip(kid), clip(alg), note)
}

// startIfDueLocked starts a fetch unless one is running, the last one
// started less than minRefetch ago, or r is closed; it returns the running
// or started fetch, or nil. The caller holds mu.
func (r *remoteSet) startIfDueLocked() *fetchCall {
	if r.inflight != nil {
		return r.inflight
	}
	if r.closed || (r.tried && r.now().Sub(r.attempted) < r.minRefetch) {
		return nil
	}
	c := &fetchCall{done: make(chan struct{})}
	r.inflight, r.tried, r.attempted = c, true, r.now()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithTimeout(r.ctx, fetchTimeout)
		err := r.fetch(ctx)
		cancel()
		r.mu.Lock()
		c.err, r.lastErr, r.inflight = err, err, nil
		r.mu.Unlock()
		close(c.done)
	}()
	return c
}

// first does NewVerifier's fetch, bounded by ctx, as an attempt.
func (r *remoteSet) first(ctx context.Context) error {
	r.mu.Lock()
	r.tried, r.attempted = true, r.now()
	r.mu.Unlock()
	err := r.fetch(ctx)
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
	return err
}

// fetch downloads the set and, when it holds a usable key, makes it the
// current one. Logs name the URL without its password, never a key.
func (r *remoteSet) fetch(ctx context.Context) error {
	s, err := r.download(ctx)
	if err != nil {
		r.log.Warn("assertion: JWKS fetch failed; keeping the last good key set",
			slog.String("url", redactURL(r.url)), slog.String("error", err.Error()))
		return err
	}
	r.set.Store(s)
	r.log.Debug("assertion: JWKS fetched", slog.String("url", redactURL(r.url)), slog.Int("keys", len(s.keys)))
	return nil
}

func (r *remoteSet) download(ctx context.Context) (*keySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, fmt.Errorf("assertion: JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	res, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("assertion: JWKS fetch: %w", err) // net/http removes URL passwords
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
		return nil, fmt.Errorf("assertion: JWKS fetch: status %d", res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("assertion: JWKS read: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("assertion: JWKS larger than %d bytes", maxJWKSBytes)
	}
	set, err := jwk.Parse(body, jwk.WithStrictKeySetParsing(false), jwk.WithIgnoreParseError(true), jwk.WithMaxKeys(maxJWKSKeys))
	if err != nil {
		return nil, fmt.Errorf("assertion: JWKS parse: %w", err)
	}
	s := &keySet{fetched: r.now()}
	for i := range set.Len() {
		k, _ := set.Key(i)
		if u, ok := k.KeyUsage(); ok && u != "sig" {
			continue
		}
		pub, err := jwk.PublicRawKeyOf(k)
		if err != nil {
			continue // symmetric or unsupported: never used from a JWKS
		}
		alg, err := algorithmOf(pub)
		if err != nil || !slices.Contains(r.allowed, alg) {
			continue
		}
		if a, ok := k.Algorithm(); ok && a.String() != alg {
			continue // a key that names another algorithm is not used with this one
		}
		kid, _ := k.KeyID()
		s.keys = append(s.keys, verifyKey{kid: kid, alg: alg, key: pub})
	}
	if len(s.keys) == 0 {
		// An empty set is treated as an outage: the last good set stays.
		return nil, fmt.Errorf("assertion: JWKS has no key usable with %v", r.allowed)
	}
	return s, nil
}

// close stops and waits for the fetch goroutines. It is idempotent.
func (r *remoteSet) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// redactURL removes the password of a URL, for logs.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}
