package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
)

// backoffEnv is a Manager on the fake backend whose client shares the
// Manager's clock and whose breakers never open (TestRefreshBackoffAndBreaker
// has them on), so every refresh the Manager attempts reaches the fake.
func backoffEnv(t *testing.T, breakerFailures int) *env {
	t.Helper()
	c := newClock()
	f := newFake(t, c)
	bc, err := backend.New(backend.Options{
		URL: f.srv.URL + "/api/", Timeout: 300 * time.Millisecond, Now: c.Now, // "hang" waits for it
		Breaker: backend.BreakerOptions{Failures: breakerFailures},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bc.CloseIdleConnections)
	o := defaults()
	o.Backend, o.Now = bc, c.Now
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return &env{f: f, m: m, clock: c}
}

// wantUnavailable checks the outcome of a request whose refresh could not
// be made: unavailable, reason network, no cookie change.
func wantUnavailable(t *testing.T, o Outcome) {
	t.Helper()
	if o.State != StateUnavailable || o.Reason != backend.ReasonNetwork || o.Set != (Cookies{}) || o.Delete.Any() {
		t.Fatalf("outcome = %+v, want unavailable (network) without cookie change", o)
	}
}

// TestUnavailableRefreshBackoff: a refresh that failed because the backend
// was unavailable is not tried again for 1s, then 2s, 4s... up to 30s: the
// backend sees one refresh per interval, whatever the number of requests.
// Once the backend answers, the token refreshes at once.
func TestUnavailableRefreshBackoff(t *testing.T) {
	for _, mode := range []string{"503", "429", "hang"} {
		t.Run(mode, func(t *testing.T) {
			e := backoffEnv(t, 1<<20)
			e.f.setMode("refresh", mode)
			in := Input{User: "EXPIRED"}
			ctx := context.Background()
			wantUnavailable(t, e.m.Authenticate(ctx, in))
			if got := e.f.refreshes.Load(); got != 1 {
				t.Fatalf("refresh calls = %d, want 1", got)
			}
			calls := int64(1)
			interval := time.Second
			for range 8 {
				// Many requests within the interval: no call.
				for range 20 {
					wantUnavailable(t, e.m.Authenticate(ctx, in))
				}
				e.clock.Advance(interval - time.Millisecond)
				wantUnavailable(t, e.m.Authenticate(ctx, in))
				if got := e.f.refreshes.Load(); got != calls {
					t.Fatalf("refresh calls before the end of the %v interval = %d, want %d", interval, got, calls)
				}
				// The interval is over: one call, which fails again.
				e.clock.Advance(time.Millisecond)
				wantUnavailable(t, e.m.Authenticate(ctx, in))
				calls++
				if got := e.f.refreshes.Load(); got != calls {
					t.Fatalf("refresh calls after the %v interval = %d, want %d", interval, got, calls)
				}
				interval = min(2*interval, 30*time.Second)
			}
			if interval != 30*time.Second {
				t.Fatalf("interval = %v after 8 failures, want the 30s cap", interval)
			}

			// The backend is back: the next refresh after the interval works.
			e.f.setMode("refresh", "")
			e.clock.Advance(30 * time.Second)
			o := e.m.Authenticate(ctx, in)
			if o.State != StateUser || !o.Refreshed || o.Set.User == "" {
				t.Fatalf("outcome after recovery = %+v, want a refreshed user", o)
			}
			if _, ok := e.m.failure(ctx, Key("EXPIRED")); ok {
				t.Error("the memory of unavailable refreshes outlived the backend's answer")
			}
		})
	}
}

// TestUnavailableRefreshForgottenOnAnswer: any answer of the backend to a
// refresh of the token ends its backoff: the next unavailable refresh waits
// 1s again, not twice the last interval.
func TestUnavailableRefreshForgottenOnAnswer(t *testing.T) {
	e := backoffEnv(t, 1<<20)
	ctx := context.Background()
	in := Input{User: "EXPIRED"}
	e.f.setMode("refresh", "503")
	e.m.Authenticate(ctx, in) // 1s
	e.clock.Advance(time.Second)
	e.m.Authenticate(ctx, in) // 2s
	e.clock.Advance(2 * time.Second)
	e.m.Authenticate(ctx, in) // 4s
	if got := e.f.refreshes.Load(); got != 3 {
		t.Fatalf("refresh calls = %d, want 3", got)
	}
	e.clock.Advance(4 * time.Second)
	e.f.setMode("refresh", "401") // an answer: expired (remembered max(cacheTTL, 1s) = 2s)
	if o := e.m.Authenticate(ctx, in); o.Reason != backend.ReasonExpired {
		t.Fatalf("outcome = %+v, want reason expired", o)
	}
	e.clock.Advance(2 * time.Second)
	e.f.setMode("refresh", "503")
	wantUnavailable(t, e.m.Authenticate(ctx, in))
	if got := e.f.refreshes.Load(); got != 5 {
		t.Fatalf("refresh calls = %d, want 5", got)
	}
	e.clock.Advance(time.Second - time.Millisecond)
	wantUnavailable(t, e.m.Authenticate(ctx, in))
	if got := e.f.refreshes.Load(); got != 5 {
		t.Fatalf("refresh calls within 1s of a new unavailable refresh = %d, want 5", got)
	}
	e.clock.Advance(time.Millisecond) // 1s again, not 8s
	wantUnavailable(t, e.m.Authenticate(ctx, in))
	if got := e.f.refreshes.Load(); got != 6 {
		t.Fatalf("refresh calls 1s after a new unavailable refresh = %d, want 6", got)
	}
}

// TestUnavailableRefreshConcurrent: many concurrent requests with one
// token during an outage make one refresh call, and the requests after it
// none until the interval is over.
func TestUnavailableRefreshConcurrent(t *testing.T) {
	e := backoffEnv(t, 1<<20)
	e.f.setMode("refresh", "503")
	in := Input{User: "EXPIRED"}
	burst := func() {
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() { wantUnavailable(t, e.m.Authenticate(context.Background(), in)) })
		}
		wg.Wait()
	}
	burst()
	first := e.f.refreshes.Load()
	if first < 1 {
		t.Fatalf("refresh calls = %d, want at least 1", first)
	}
	burst()
	if got := e.f.refreshes.Load(); got != first {
		t.Fatalf("refresh calls in the second burst = %d, want 0", got-first)
	}
	// Other tokens are not held back by this one's memory.
	e.m.Authenticate(context.Background(), Input{User: "OTHER"})
	if got := e.f.refreshes.Load(); got != first+1 {
		t.Fatalf("another token's refresh calls = %d, want 1", got-first)
	}
}

// TestRefreshBackoffAndBreaker: with the refresh breaker open, a refresh
// fails at once as unavailable; it counts as an unavailable refresh of the
// token, so its backoff keeps doubling.
func TestRefreshBackoffAndBreaker(t *testing.T) {
	e := backoffEnv(t, 1) // the first unavailable refresh opens the breaker for 1s
	e.f.setMode("refresh", "503")
	ctx := context.Background()
	in := Input{User: "EXPIRED"}
	wantUnavailable(t, e.m.Authenticate(ctx, in))
	other := Input{User: "OTHER"}
	wantUnavailable(t, e.m.Authenticate(ctx, other)) // the breaker is open: no call
	if got := e.f.refreshes.Load(); got != 1 {
		t.Fatalf("refresh calls = %d, want 1 (the breaker is open)", got)
	}
	f, ok := e.m.failure(ctx, Key("OTHER"))
	if !ok || f.Backoff != time.Second {
		t.Fatalf("memory of the refresh refused by the breaker = %+v, %v; want a 1s backoff", f, ok)
	}
}
