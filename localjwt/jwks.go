package localjwt

import (
	"context"
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

	"github.com/apilayer/apilayer/authn"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Limits of a JWKS document.
const (
	maxJWKSBytes = 1 << 20 // body size
	maxJWKSKeys  = 100     // keys in the set
)

// fetchTimeout bounds a JWKS fetch started by Verify (New's first fetch is
// bounded by New's context instead). The HTTP client's own timeout, if
// shorter, applies too.
const fetchTimeout = 10 * time.Second

// jwksKey is one usable key of a fetched set.
type jwksKey struct {
	kid  string
	key  any      // the raw public key
	algs []string // the allowed algorithms this key may verify
}

// keySet is an immutable fetched key set.
type keySet struct {
	keys    []jwksKey
	fetched time.Time
}

// find returns the keys that may verify a token with header alg and kid.
// A token without kid may be verified by any key that fits alg.
func (s *keySet) find(alg, kid string) []any {
	var out []any
	for _, k := range s.keys {
		if (kid == "" || k.kid == kid) && slices.Contains(k.algs, alg) {
			out = append(out, k.key)
		}
	}
	return out
}

// fetchCall is one JWKS fetch; done is closed when err is set.
type fetchCall struct {
	done chan struct{}
	err  error
}

// jwks is a JWKS cache: the last good key set, refetched when a token
// names a key it lacks (at most once per minRefetch) and in the background
// once it is older than maxAge. Its fetch goroutines are owned by it and
// stopped by close.
type jwks struct {
	url        string
	client     *http.Client
	allowed    []string
	minRefetch time.Duration
	maxAge     time.Duration
	now        func() time.Time
	log        *slog.Logger

	set atomic.Pointer[keySet] // the last good set; nil before the first success

	ctx    context.Context // cancelled by close; parent of every fetch
	cancel context.CancelFunc
	wg     sync.WaitGroup // fetch goroutines

	mu        sync.Mutex
	attempted time.Time  // guarded by mu; start of the last fetch attempt
	tried     bool       // guarded by mu; whether any attempt was made
	lastErr   error      // guarded by mu; result of the last finished attempt
	inflight  *fetchCall // guarded by mu; the running fetch, if any
	closed    bool       // guarded by mu
}

// errClosed is the error of a fetch asked of a closed Verifier.
var errClosed = errors.New("localjwt: verifier closed")

// first does New's fetch, bounded by ctx, and records it as an attempt.
func (j *jwks) first(ctx context.Context) error {
	j.mu.Lock()
	j.tried, j.attempted = true, j.now()
	j.mu.Unlock()
	err := j.fetch(ctx)
	j.mu.Lock()
	j.lastErr = err
	j.mu.Unlock()
	return err
}

// keys returns the keys that may verify a token with header alg and kid,
// refetching the set when it has none.
func (j *jwks) keys(ctx context.Context, alg, kid string) ([]any, error) {
	if s := j.set.Load(); s != nil {
		if ks := s.find(alg, kid); len(ks) > 0 {
			if j.now().Sub(s.fetched) >= j.maxAge {
				j.refreshInBackground()
			}
			return ks, nil
		}
	}

	j.mu.Lock()
	c := j.inflight
	if c == nil {
		// A fetch may have finished since the lookup above.
		if s := j.set.Load(); s != nil {
			if ks := s.find(alg, kid); len(ks) > 0 {
				j.mu.Unlock()
				return ks, nil
			}
		}
		if j.tried && j.now().Sub(j.attempted) < j.minRefetch {
			err := j.lastErr
			j.mu.Unlock()
			return nil, j.unknown(alg, kid, err, "refetch rate-limited")
		}
		if c = j.startLocked(); c == nil {
			j.mu.Unlock()
			return nil, j.unknown(alg, kid, errClosed, "")
		}
	}
	j.mu.Unlock()

	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("localjwt: waiting for the key set: %w", context.Cause(ctx))
	}
	if s := j.set.Load(); s != nil {
		if ks := s.find(alg, kid); len(ks) > 0 {
			return ks, nil
		}
	}
	return nil, j.unknown(alg, kid, c.err, "after refetch")
}

// unknown is the error for a token whose key is not in the set. When the
// last fetch failed the set may simply be out of date, so the answer is
// "unavailable", not "invalid": an IdP outage must not log users out.
func (j *jwks) unknown(alg, kid string, fetchErr error, note string) error {
	if fetchErr != nil {
		return fmt.Errorf("localjwt: no key for kid %q alg %s and the key set cannot be fetched: %w: %w",
			clip(kid), clip(alg), authn.ErrUnavailable, fetchErr)
	}
	if note != "" {
		note = " (" + note + ")"
	}
	return invalid("no key for kid %q alg %s in the key set%s", clip(kid), clip(alg), note)
}

// refreshInBackground starts a fetch without waiting for it, unless one is
// running or the last attempt is more recent than minRefetch.
func (j *jwks) refreshInBackground() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.inflight == nil && (!j.tried || j.now().Sub(j.attempted) >= j.minRefetch) {
		j.startLocked()
	}
}

// startLocked starts a fetch in a goroutine owned by j and returns it, or
// nil when j is closed. The caller holds mu.
func (j *jwks) startLocked() *fetchCall {
	if j.closed {
		return nil
	}
	c := &fetchCall{done: make(chan struct{})}
	j.inflight, j.tried, j.attempted = c, true, j.now()
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		ctx, cancel := context.WithTimeout(j.ctx, fetchTimeout)
		err := j.fetch(ctx)
		cancel()
		j.mu.Lock()
		c.err, j.lastErr, j.inflight = err, err, nil
		j.mu.Unlock()
		close(c.done)
	}()
	return c
}

// fetch downloads and parses the key set and, when it holds at least one
// usable key, makes it the current set. A failed fetch keeps the last good
// set.
func (j *jwks) fetch(ctx context.Context) error {
	s, err := j.download(ctx)
	if err != nil {
		j.log.Warn("localjwt: JWKS fetch failed; keeping the last good key set",
			slog.String("url", redact(j.url)), slog.String("error", err.Error()))
		return err
	}
	j.set.Store(s)
	j.log.Debug("localjwt: JWKS fetched", slog.String("url", redact(j.url)), slog.Int("keys", len(s.keys)))
	return nil
}

func (j *jwks) download(ctx context.Context) (*keySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, fmt.Errorf("localjwt: JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	res, err := j.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("localjwt: JWKS fetch: %w", err) // net/http strips URL passwords
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
		return nil, fmt.Errorf("localjwt: JWKS fetch: status %d", res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("localjwt: JWKS read: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("localjwt: JWKS larger than %d bytes", maxJWKSBytes)
	}
	set, err := jwk.Parse(body,
		jwk.WithStrictKeySetParsing(false), jwk.WithIgnoreParseError(true), jwk.WithMaxKeys(maxJWKSKeys))
	if err != nil {
		return nil, fmt.Errorf("localjwt: JWKS parse: %w", err)
	}
	s := &keySet{fetched: j.now()}
	for i := range set.Len() {
		k, _ := set.Key(i)
		if u, ok := k.KeyUsage(); ok && u != "sig" {
			continue
		}
		pub, err := jwk.PublicRawKeyOf(k)
		if err != nil {
			continue // a symmetric or unsupported key: never used from a JWKS
		}
		algs := fitting(j.allowed, pub)
		if a, ok := k.Algorithm(); ok {
			// A key that names its algorithm is used with that one only.
			algs = slices.DeleteFunc(algs, func(n string) bool { return n != a.String() })
		}
		if len(algs) == 0 {
			continue
		}
		kid, _ := k.KeyID()
		s.keys = append(s.keys, jwksKey{kid: kid, key: pub, algs: algs})
	}
	if len(s.keys) == 0 {
		// Treat an empty set as an outage: an IdP that briefly serves no
		// keys must not log everybody out.
		return nil, fmt.Errorf("localjwt: JWKS has no key usable with algorithms %v", j.allowed)
	}
	return s, nil
}

// close stops and waits for every fetch goroutine. It is idempotent.
func (j *jwks) close() {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	j.cancel()
	j.wg.Wait()
}

// redact removes the password of a URL for logs.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}
