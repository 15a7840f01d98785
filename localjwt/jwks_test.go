package localjwt_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/localjwt"
	"github.com/lestrrat-go/jwx/v3/jwa"
)

const jwksPath = ".well-known/jwks.json"

// idp is a demo backend serving a JWKS on a loopback server, with a clock.
type idp struct {
	kit   *testkit.Backend
	clock *testkit.Clock
}

func newIDP(t *testing.T, signing string) *idp {
	t.Helper()
	clock := testkit.NewClock(epoch)
	return &idp{kit: testkit.NewBackend(t, demo.BackendOptions{Signing: signing, Now: clock.Now}), clock: clock}
}

func (p *idp) url() string { return p.kit.URL() + jwksPath }

// fetches is how many JWKS requests reached the server.
func (p *idp) fetches() int64 { return p.kit.Calls(jwksPath) }

func (p *idp) issue(t *testing.T) string {
	t.Helper()
	tok, err := p.kit.Demo().Issue("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (p *idp) verifier(t *testing.T, alg string) *localjwt.Verifier {
	t.Helper()
	return newVerifier(t, localjwt.Options{
		JWKSURL: p.url(), Algorithms: []string{alg}, RequireExp: true,
		MinRefetch: 5 * time.Second, Now: p.clock.Now, HTTPClient: p.kit.Client(),
	})
}

func TestJWKSKeyRotation(t *testing.T) {
	for _, signing := range []string{demo.SigningEdDSA, demo.SigningRS256} {
		t.Run(signing, func(t *testing.T) {
			p := newIDP(t, signing)
			v := p.verifier(t, signing)
			ctx := context.Background()
			if got := p.fetches(); got != 1 {
				t.Fatalf("New made %d JWKS fetches, want 1", got)
			}
			old := p.issue(t)
			if _, err := v.Verify(ctx, old); err != nil {
				t.Fatalf("token of the first key: %v", err)
			}
			if err := p.kit.Demo().RotateKey(); err != nil {
				t.Fatal(err)
			}
			p.clock.Advance(5 * time.Second)
			rotated := p.issue(t)
			for i := range 3 {
				if id, err := v.Verify(ctx, rotated); err != nil || id.User["sub"] != "1" {
					t.Fatalf("token of the new key, try %d: %v, %v", i, id.User, err)
				}
			}
			if _, err := v.Verify(ctx, old); err != nil {
				t.Errorf("token of the previous key after rotation: %v", err)
			}
			if got := p.fetches(); got != 2 {
				t.Errorf("JWKS fetches = %d, want 2 (New, then one refetch for the new kid)", got)
			}
		})
	}
}

// strangers returns n tokens signed by keys the IdP never published, each
// with its own kid.
func strangers(t *testing.T, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = sign(t, jwa.EdDSA(), newEd25519(t), claims(nil), map[string]any{"kid": rand.Text()})
	}
	return out
}

func TestJWKSUnknownKidFlood(t *testing.T) {
	p := newIDP(t, demo.SigningEdDSA)
	v := p.verifier(t, "EdDSA")
	ctx := context.Background()
	toks := strangers(t, 40)

	// Within MinRefetch of New's fetch: the fresh set answers, no refetch.
	for _, tok := range toks[:5] {
		_, err := v.Verify(ctx, tok)
		wantInvalid(t, err)
	}
	if got := p.fetches(); got != 1 {
		t.Fatalf("fetches = %d within MinRefetch of New, want 1", got)
	}

	// After MinRefetch, a concurrent flood makes exactly one refetch.
	p.clock.Advance(5 * time.Second)
	var wg sync.WaitGroup
	errs := make([]error, len(toks))
	for i, tok := range toks {
		wg.Go(func() { _, errs[i] = v.Verify(ctx, tok) })
	}
	wg.Wait()
	for _, err := range errs {
		wantInvalid(t, err)
	}
	if got := p.fetches(); got != 2 {
		t.Fatalf("fetches = %d after a flood, want 2", got)
	}

	// Still rate-limited just before the next window, one more after it.
	p.clock.Advance(5*time.Second - time.Millisecond)
	_, err := v.Verify(ctx, toks[0])
	wantInvalid(t, err)
	if got := p.fetches(); got != 2 {
		t.Fatalf("fetches = %d before MinRefetch passed, want 2", got)
	}
	p.clock.Advance(time.Millisecond)
	for _, tok := range toks[:10] {
		_, err := v.Verify(ctx, tok)
		wantInvalid(t, err)
	}
	if got := p.fetches(); got != 3 {
		t.Errorf("fetches = %d after a second MinRefetch, want 3", got)
	}
	// Known keys never cause a fetch.
	for range 10 {
		if _, err := v.Verify(ctx, p.issue(t)); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.fetches(); got != 3 {
		t.Errorf("fetches = %d after known-kid tokens, want 3", got)
	}
}

func TestJWKSDown(t *testing.T) {
	faults := []struct {
		name  string
		fault testkit.Fault
	}{
		{"503", testkit.Status(503)},
		{"not JSON", testkit.NotJSON},
		{"no usable key", testkit.WrongShape},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			p := newIDP(t, demo.SigningEdDSA)
			v := p.verifier(t, "EdDSA")
			ctx := context.Background()
			known := p.issue(t)
			p.kit.SetFault(jwksPath, f.fault)
			if err := p.kit.Demo().RotateKey(); err != nil {
				t.Fatal(err)
			}
			rotated := p.issue(t)
			p.clock.Advance(5 * time.Second)

			_, err := v.Verify(ctx, rotated)
			wantUnavailable(t, err)
			if got := p.fetches(); got != 2 {
				t.Fatalf("fetches = %d, want 2 (New, one failed refetch)", got)
			}
			if _, err := v.Verify(ctx, known); err != nil {
				t.Errorf("last good keys not used during the outage: %v", err)
			}
			_, err = v.Verify(ctx, rotated) // rate-limited: the last attempt failed
			wantUnavailable(t, err)
			if got := p.fetches(); got != 2 {
				t.Fatalf("fetches = %d within MinRefetch of a failure, want 2", got)
			}

			p.kit.SetFault(jwksPath, testkit.None)
			p.clock.Advance(5 * time.Second)
			if _, err := v.Verify(ctx, rotated); err != nil {
				t.Errorf("after recovery: %v", err)
			}
		})
	}
}

func TestJWKSDownAtNew(t *testing.T) {
	p := newIDP(t, demo.SigningEdDSA)
	p.kit.SetFault(jwksPath, testkit.Status(502))
	v := p.verifier(t, "EdDSA") // not fatal
	tok := p.issue(t)
	_, err := v.Verify(context.Background(), tok)
	wantUnavailable(t, err)

	p.kit.SetFault(jwksPath, testkit.None)
	_, err = v.Verify(context.Background(), tok)
	wantUnavailable(t, err) // the retry waits for MinRefetch
	p.clock.Advance(5 * time.Second)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after the IdP came up: %v", err)
	}
	if got := p.fetches(); got != 2 {
		t.Errorf("fetches = %d, want 2", got)
	}
}

func TestJWKSUnreachable(t *testing.T) {
	p := newIDP(t, demo.SigningEdDSA)
	tok := p.issue(t)
	v := newVerifier(t, localjwt.Options{JWKSURL: "http://127.0.0.1:1/jwks.json", Algorithms: []string{"EdDSA"}, Now: p.clock.Now})
	_, err := v.Verify(context.Background(), tok)
	wantUnavailable(t, err)
}

// TestJWKSMaxAge checks that a set older than MaxAge is refetched in the
// background, so a key the IdP removed stops verifying.
func TestJWKSMaxAge(t *testing.T) {
	p := newIDP(t, demo.SigningEdDSA)
	v, err := localjwt.New(context.Background(), localjwt.Options{
		JWKSURL: p.url(), Algorithms: []string{"EdDSA"}, MaxAge: time.Hour, Now: p.clock.Now, HTTPClient: p.kit.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	d := p.kit.Demo()
	first, err := d.Issue("alice", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	d.RotateKey()
	d.RotateKey() // first's key has left the JWKS
	p.clock.Advance(time.Hour)

	// The stale set still answers at once, and starts a refetch.
	if _, err := v.Verify(ctx, first); err != nil {
		t.Fatalf("stale set: %v", err)
	}
	// A token of the current key joins that fetch (or finds its result).
	if _, err := v.Verify(ctx, p.issue(t)); err != nil {
		t.Fatalf("current key: %v", err)
	}
	if got := p.fetches(); got != 2 {
		t.Fatalf("fetches = %d, want 2", got)
	}
	_, err = v.Verify(ctx, first)
	wantInvalid(t, err)
}

func TestJWKSCallerGivesUp(t *testing.T) {
	p := newIDP(t, demo.SigningEdDSA)
	v := p.verifier(t, "EdDSA")
	release := make(chan struct{})
	p.kit.SetFault(jwksPath, testkit.Block(release))
	p.kit.Demo().RotateKey()
	tok := p.issue(t)
	p.clock.Advance(5 * time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := v.Verify(ctx, tok)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// The fetch itself goes on for the others.
	close(release)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Errorf("after the fetch finished: %v", err)
	}
	if got := p.fetches(); got != 2 {
		t.Errorf("fetches = %d, want 2", got)
	}
}

func TestClose(t *testing.T) {
	p := newIDP(t, demo.SigningEdDSA)
	v := p.verifier(t, "EdDSA")
	tok := p.issue(t)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Errorf("Verify after Close with a fetched key: %v", err)
	}
	p.kit.Demo().RotateKey()
	p.clock.Advance(time.Minute)
	_, err := v.Verify(context.Background(), p.issue(t))
	wantUnavailable(t, err)
	if got := p.fetches(); got != 1 {
		t.Errorf("fetches after Close = %d, want 1", got)
	}

	hs := newVerifier(t, localjwt.Options{Secret: secret, Algorithms: []string{"HS256"}})
	first, second := hs.Close(), hs.Close() // Close is idempotent
	if first != nil || second != nil {
		t.Errorf("Close of a static verifier = %v, then %v; want nil twice", first, second)
	}
}
