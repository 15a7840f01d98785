package session_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/session"
)

// arrivals is a transport that reports each backend call's path.
type arrivals struct {
	base http.RoundTripper
	ch   chan<- string
}

func (a arrivals) RoundTrip(r *http.Request) (*http.Response, error) {
	a.ch <- r.URL.Path
	return a.base.RoundTrip(r)
}

// TestRefreshLockOnRedis: three Managers, each with its own connection to
// one real Redis, as three gateway instances. Requests from many clients
// that all arrive while the one refresh is in flight all get its result.
func TestRefreshLockOnRedis(t *testing.T) {
	const instances, n = 3, 30
	r := testkit.StartRedis(t)
	be := testkit.NewBackend(t, demo.BackendOptions{})
	arrived := make(chan string, 8*n)

	var ms []*session.Manager
	for range instances {
		s, err := redisstore.New(t.Context(), redisstore.Options{
			URL: r.URL(), KeyPrefix: "it:", Timeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		bc, err := backend.New(backend.Options{
			URL: be.URL(), Timeout: 5 * time.Second,
			WrapTransport: func(rt http.RoundTripper) http.RoundTripper { return arrivals{rt, arrived} },
		})
		if err != nil {
			t.Fatal(err)
		}
		m, err := session.New(session.Options{
			Backend:        bc,
			CacheTTL:       time.Minute,
			SingleFlight:   true,
			SuccessorTTL:   30 * time.Second,
			Cache:          redisstore.CacheWithFallback(s.Cache(), session.NewMemoryCache(100, nil)),
			Failures:       redisstore.FailuresWithFallback(s.Failures(), session.NewMemoryFailures(100, nil)),
			Successors:     redisstore.SuccessorsWithFallback(s.Successors(), session.NewMemorySuccessors(100, nil)),
			RefreshLock:    s.Locks(),
			RefreshLockTTL: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		ms = append(ms, m)
	}

	old, err := be.Demo().Issue("alice", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The old token's invalid verdict is in the shared cache first, so
	// every request goes straight to the refresh.
	if ms[0].Validate(t.Context(), session.Input{User: old}).User() != nil {
		t.Fatal("the expired token validated")
	}
	<-arrived // that validation

	release := make(chan struct{})
	be.SetFault("auth/refresh", testkit.Block(release))
	outs := make([]session.Outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		in := session.Input{User: old, ClientID: fmt.Sprintf("agent-%d|127.0.0.1", i)}
		wg.Go(func() { outs[i] = ms[i%instances].Authenticate(context.Background(), in) })
	}
	// Every request waits on its instance's refresh flight, the one
	// refresh is at the backend, the other instances wait for its lock.
	if err := testkit.WaitParked(n, "session.(*Manager).refresh(", "session.(*Manager).shared("); err != nil {
		t.Fatal(err)
	}
	if p := <-arrived; !strings.HasSuffix(p, "/auth/refresh") {
		t.Fatalf("backend call to %s, want the refresh", p)
	}
	if err := testkit.WaitParked(instances-1, "redisstore.(*Locks).Wait("); err != nil {
		t.Fatal(err)
	}
	close(release)
	wg.Wait()

	tok := outs[0].Token
	for i, o := range outs {
		if o.State != session.StateUser || !o.Refreshed || o.Token != tok || o.Set.User != tok || tok == "" || tok == old {
			t.Fatalf("request %d: %v, want the one new token", i, o)
		}
	}
	if got := be.Calls("auth/refresh"); got != 1 {
		t.Errorf("refresh calls = %d, want 1", got)
	}
	if got := be.Calls("auth/me"); got != 2 {
		t.Errorf("validate calls = %d, want 2 (the old token and the new one, once each)", got)
	}

	// Redis holds no raw token: neither the old nor the new one.
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer c.Close()
	keys, err := c.Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	flights := 0
	for _, k := range keys {
		v, _ := c.Get(t.Context(), k).Result() // "" for the non-string keys
		for _, secret := range []string{old, tok} {
			if strings.Contains(k, secret) || strings.Contains(v, secret) {
				t.Fatalf("Redis key %q holds a raw token", k)
			}
		}
		if strings.HasPrefix(k, "it:succ:") && k != "it:succ:"+session.Key(old) {
			flights++
		}
	}
	if flights != 1 {
		t.Errorf("%d flight records in Redis (%v), want 1", flights, keys)
	}
}

// TestUnavailableRefreshBackoffOnRedis: the memory of unavailable refreshes
// is shared through Redis, so two instances together make one refresh call
// per interval for a token while the backend's refresh endpoint fails.
func TestUnavailableRefreshBackoffOnRedis(t *testing.T) {
	r := testkit.StartRedis(t)
	be := testkit.NewBackend(t, demo.BackendOptions{})
	clock := testkit.NewClock(time.Now())
	var ms []*session.Manager
	for range 2 {
		s, err := redisstore.New(t.Context(), redisstore.Options{
			URL: r.URL(), KeyPrefix: "bo:", Timeout: 2 * time.Second, Now: clock.Now, Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		bc, err := backend.New(backend.Options{URL: be.URL(), Timeout: 5 * time.Second, Now: clock.Now,
			Breaker: backend.BreakerOptions{Failures: 1 << 20}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := session.New(session.Options{
			Backend:      bc,
			CacheTTL:     time.Minute,
			SingleFlight: true,
			Cache:        redisstore.CacheWithFallback(s.Cache(), session.NewMemoryCache(100, clock.Now)),
			Failures:     redisstore.FailuresWithFallback(s.Failures(), session.NewMemoryFailures(100, clock.Now)),
			Now:          clock.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		ms = append(ms, m)
	}
	old, err := be.Demo().Issue("alice", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	be.SetFault("auth/refresh", testkit.Status(503))
	in := session.Input{User: old}
	auth := func(i int) {
		t.Helper()
		if o := ms[i].Authenticate(t.Context(), in); o.State != session.StateUnavailable || o.Set != (session.Cookies{}) || o.Delete.Any() {
			t.Fatalf("instance %d: %v, want unavailable without cookie change", i, o)
		}
	}
	wantCalls := func(n int64) {
		t.Helper()
		if got := be.Calls("auth/refresh"); got != n {
			t.Fatalf("refresh calls = %d, want %d", got, n)
		}
	}
	auth(0)
	auth(1)
	wantCalls(1)
	clock.Advance(time.Second)
	auth(1)
	auth(0)
	wantCalls(2)
	clock.Advance(2*time.Second - time.Millisecond)
	auth(0)
	auth(1)
	wantCalls(2)
	clock.Advance(time.Millisecond)
	auth(0)
	auth(1)
	wantCalls(3)

	// The backend answers again: the token is refreshed once its interval
	// (4s) is over, on either instance.
	be.SetFault("auth/refresh", testkit.None)
	clock.Advance(4 * time.Second)
	if o := ms[1].Authenticate(t.Context(), in); o.State != session.StateUser || !o.Refreshed {
		t.Fatalf("after recovery: %v, want a refreshed user", o)
	}
	wantCalls(4)
}
