package jwks_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/jwks"
	"github.com/apilayer/apilayer/internal/testkit"
	"go.uber.org/goleak"
)

// A flood of unknown kids makes one fetch per MinRefetch, shared by the
// concurrent callers, and known kids make none.
func TestUnknownKidFlood(t *testing.T) {
	clock := testkit.NewClock(epoch)
	srv := newServer(t, setOf(t, jwkOf(t, edKey(t), map[string]any{"kid": "a"})))
	c, err := newCache(t, srv, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	random := func(int) string { return rand.Text() }
	steps := []struct {
		name    string
		advance time.Duration
		want    int // fetches in all after the flood
	}{
		{"within MinRefetch of the first fetch", 0, 1},
		{"after MinRefetch", minRefetch, 2},
		{"just before the next window", minRefetch - time.Nanosecond, 2},
		{"the next window", time.Nanosecond, 3},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		for i, err := range lookupAll(c, "EdDSA", random, 50) {
			if !errors.Is(err, jwks.ErrNoKey) || errors.Is(err, jwks.ErrUnavailable) {
				t.Fatalf("%s: lookup %d: %v, want ErrNoKey only", st.name, i, err)
			}
		}
		if n := srv.count(); n != st.want {
			t.Fatalf("%s: %d fetches, want %d", st.name, n, st.want)
		}
	}
	for i, err := range lookupAll(c, "EdDSA", func(int) string { return "a" }, 50) {
		if err != nil {
			t.Fatalf("known kid, lookup %d: %v", i, err)
		}
	}
	if n := srv.count(); n != 3 {
		t.Errorf("known kids: %d fetches, want still 3", n)
	}
}

// A set as old as MaxAge still answers, and the lookup that notices
// starts a background refetch, so a key dropped from the set stops being
// found; a younger set is not refetched.
func TestMaxAge(t *testing.T) {
	for _, tt := range []struct {
		name    string
		age     time.Duration
		refetch bool
	}{
		{"younger than MaxAge", maxAge - time.Nanosecond, false},
		{"as old as MaxAge", maxAge, true},
		{"older than MaxAge", 3 * maxAge, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := testkit.NewClock(epoch)
			srv := newServer(t, setOf(t, jwkOf(t, edKey(t), map[string]any{"kid": "old"})))
			rt := &countingTransport{base: srv.Client().Transport}
			c, err := newCache(t, srv, clock, func(o *jwks.Options) { o.HTTPClient = &http.Client{Transport: rt} })
			if err != nil {
				t.Fatal(err)
			}
			srv.serve(setOf(t, jwkOf(t, edKey(t), map[string]any{"kid": "new"})), 0)
			release := make(chan struct{})
			held := srv.holdRequests(release)
			clock.Advance(tt.age)
			if _, err := c.Keys(context.Background(), "EdDSA", "old"); err != nil {
				t.Fatalf("the set still answers: %v", err)
			}
			if !tt.refetch {
				close(release)
				c.Close() // waits for a fetch the lookup would have started
				if n := rt.count(); n != 1 {
					t.Fatalf("%d fetches, want 1", n)
				}
				return
			}
			select {
			case <-held: // the lookup started a fetch
			case <-time.After(30 * time.Second): // a bound for a hang, not a speed
				t.Fatal("no background fetch")
			}
			close(release)
			c.Keys(context.Background(), "EdDSA", "unknown") // joins the refetch, or comes after it
			if n := rt.count(); n != 2 {
				t.Fatalf("%d fetches, want 2", n)
			}
			if _, err := c.Keys(context.Background(), "EdDSA", "old"); !errors.Is(err, jwks.ErrNoKey) {
				t.Errorf("a key dropped from the set: %v, want ErrNoKey", err)
			}
			if _, err := c.Keys(context.Background(), "EdDSA", "new"); err != nil {
				t.Errorf("the new key: %v", err)
			}
		})
	}
}

// A caller that gives up gets its context's cause; the fetch goes on for
// the others. Close cancels the fetch still running, waits for its
// goroutine, and leaves none (its own client's connections closed); the
// last good set still answers, and a miss is unavailable.
func TestCancelAndClose(t *testing.T) {
	clock := testkit.NewClock(epoch)
	srv := newServer(t, setOf(t, jwkOf(t, edKey(t), map[string]any{"kid": "a"})))
	before := goleak.IgnoreCurrent()
	// No HTTPClient: the Cache makes its own, and Close closes it.
	var log bytes.Buffer
	c, err := newCache(t, srv, clock, func(o *jwks.Options) {
		o.HTTPClient = nil
		o.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	held := srv.holdRequests(release)
	clock.Advance(minRefetch)

	ctx, cancel := context.WithCancelCause(context.Background())
	gone := errors.New("client gone")
	cancel(gone)
	if _, err := c.Keys(ctx, "EdDSA", "b"); !errors.Is(err, gone) {
		t.Fatalf("a caller that gave up: %v, want its cause", err)
	}
	select {
	case <-held: // the fetch goes on: the server holds it
	case <-time.After(30 * time.Second): // a bound for a hang, not a speed
		t.Fatal("the fetch did not reach the server")
	}
	// Another caller joins the held fetch (or, once closed, cannot fetch).
	joined := make(chan error, 1)
	go func() { _, err := c.Keys(context.Background(), "EdDSA", "b"); joined <- err }()

	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not cancel the fetch in flight")
	}
	// Close returned after the fetch goroutine ended, cancelled (not
	// timed out: the server holds it for good).
	if out := log.String(); !strings.Contains(out, "JWKS fetch failed") || !strings.Contains(out, "context canceled") {
		t.Errorf("Close returned before the fetch ended cancelled; logs:\n%s", out)
	}
	if err := <-joined; !errors.Is(err, jwks.ErrUnavailable) {
		t.Errorf("the caller that waited for the cancelled fetch: %v, want ErrUnavailable", err)
	}
	c.Close() // idempotent

	if _, err := c.Keys(context.Background(), "EdDSA", "a"); err != nil {
		t.Errorf("the last good set after Close: %v", err)
	}
	clock.Advance(minRefetch)
	if _, err := c.Keys(context.Background(), "EdDSA", "b"); !errors.Is(err, jwks.ErrUnavailable) || !errors.Is(err, jwks.ErrClosed) {
		t.Errorf("a miss after Close: %v, want ErrUnavailable and ErrClosed", err)
	}
	if n := srv.count(); n != 2 {
		t.Errorf("%d fetches, want 2 (none after Close)", n)
	}
	goleak.VerifyNone(t, before)
}

// Close with no fetch ever started, and on a Cache that only failed.
func TestCloseIdle(t *testing.T) {
	srv := newServer(t, nil)
	srv.serve(nil, http.StatusBadGateway)
	before := goleak.IgnoreCurrent()
	c := jwks.New(jwks.Options{URL: srv.URL, Fits: fits, Algorithms: []string{"EdDSA"}})
	c.Close()
	c = jwks.New(jwks.Options{URL: srv.URL, Fits: fits, Algorithms: []string{"EdDSA"}})
	if err := c.Fetch(context.Background()); err == nil {
		t.Fatal("Fetch of a failing server succeeded")
	}
	c.Close()
	goleak.VerifyNone(t, before)
}
