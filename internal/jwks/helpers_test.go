package jwks_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/jwks"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

var epoch = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// Test timings: the clock is injected, so these only name windows.
const (
	minRefetch = 5 * time.Second
	maxAge     = time.Hour
)

// server serves a key set that the test can change, and counts the
// requests that reach it.
type server struct {
	*httptest.Server
	fetches atomic.Int32
	answer  atomic.Pointer[answer]
}

// answer is what the server answers.
type answer struct {
	body   []byte
	status int           // 0 = 200 with body
	hold   chan struct{} // non-nil: requests wait for it to close, or for their client to go
	held   chan struct{} // each waiting request sends on it
}

func newServer(t testing.TB, body []byte) *server {
	t.Helper()
	s := &server{}
	s.answer.Store(&answer{body: body})
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *server) handle(w http.ResponseWriter, r *http.Request) {
	s.fetches.Add(1)
	a := s.answer.Load()
	if a.hold != nil {
		a.held <- struct{}{}
		select {
		case <-a.hold:
		case <-r.Context().Done():
			return
		}
	}
	if a.status != 0 {
		http.Error(w, "down", a.status)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Write(a.body)
}

// serve makes the server answer body (status 0) or fail with status.
func (s *server) serve(body []byte, status int) {
	s.answer.Store(&answer{body: body, status: status})
}

// holdRequests makes requests wait, then answer as before, until release
// is closed or their client gives up; each such request is announced on
// the channel it returns, which holds 100.
func (s *server) holdRequests(release chan struct{}) <-chan struct{} {
	a := *s.answer.Load()
	a.hold, a.held = release, make(chan struct{}, 100)
	s.answer.Store(&a)
	return a.held
}

func (s *server) count() int { return int(s.fetches.Load()) }

// countingTransport counts the requests the Cache makes, whether or not
// they reach the server.
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func (c *countingTransport) count() int { return int(c.n.Load()) }

// jwkOf is the public JWK of key with the fields given (kid, alg, use).
func jwkOf(t testing.TB, key any, fields map[string]any) json.RawMessage {
	t.Helper()
	k, err := jwk.Import(key)
	if err != nil {
		t.Fatal(err)
	}
	if pk, err := k.PublicKey(); err == nil {
		k = pk
	}
	for name, v := range fields {
		if err := k.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setOf is the JSON of a key set holding keys.
func setOf(t testing.TB, keys ...json.RawMessage) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": append([]json.RawMessage{}, keys...)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edKey returns a new Ed25519 public key.
func edKey(t testing.TB) ed25519.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// rsaKey is an RSA public key, generated once (it takes a while).
var rsaKey = sync.OnceValue(func() *rsa.PublicKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return &k.PublicKey
})

func ecKey(t testing.TB, c elliptic.Curve) *ecdsa.PublicKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

// fits is an Options.Fits of the test: EdDSA for Ed25519, ES256 for
// P-256, RS256 and PS256 for RSA.
func fits(alg string, key crypto.PublicKey) bool {
	switch k := key.(type) {
	case ed25519.PublicKey:
		return alg == "EdDSA"
	case *ecdsa.PublicKey:
		return alg == "ES256" && k.Curve == elliptic.P256()
	case *rsa.PublicKey:
		return alg == "RS256" || alg == "PS256"
	}
	return false
}

// newCache returns a Cache of srv with the test clock and windows, after
// its first fetch (whose error it returns); edit changes the options.
// The Cache is closed at cleanup.
func newCache(t testing.TB, srv *server, clock *testkit.Clock, edit func(*jwks.Options)) (*jwks.Cache, error) {
	t.Helper()
	o := jwks.Options{
		URL:        srv.URL + "/jwks.json",
		Algorithms: []string{"EdDSA", "ES256", "RS256", "PS256"},
		Fits:       fits,
		MinRefetch: minRefetch,
		MaxAge:     maxAge,
		HTTPClient: srv.Client(),
		Now:        clock.Now,
	}
	if edit != nil {
		edit(&o)
	}
	c := jwks.New(o)
	t.Cleanup(c.Close)
	return c, c.Fetch(context.Background())
}

// kids returns the kids of keys, in order.
func kids(keys []jwks.Key) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.KID)
	}
	return out
}

// lookupAll looks up kid from n goroutines at once and returns the errors.
func lookupAll(c *jwks.Cache, alg string, kid func(i int) string, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = c.Keys(context.Background(), alg, kid(i)) })
	}
	wg.Wait()
	return errs
}
