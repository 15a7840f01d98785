package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
)

// fakeLock is an in-memory RefreshLock shared by several Managers, as one
// Redis is by several gateway instances.
type fakeLock struct {
	mu      sync.Mutex
	fence   int64
	held    map[string]int64         // guarded by mu; key => the holder's fencing token
	release map[string]chan struct{} // guarded by mu; closed when key is released
	waiting chan string              // non-nil: gets the key of every Wait that blocks
	err     error                    // guarded by mu; non-nil: TryLock and Wait fail
	waitErr error                    // guarded by mu; non-nil: Wait fails
}

var errLockDown = errors.New("fake lock: redis unavailable")

func newFakeLock() *fakeLock {
	return &fakeLock{held: map[string]int64{}, release: map[string]chan struct{}{}}
}

func (l *fakeLock) TryLock(_ context.Context, key string, ttl time.Duration) (int64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, false, l.err
	}
	if ttl <= 0 {
		return 0, false, fmt.Errorf("fake lock: ttl %v", ttl)
	}
	if f, ok := l.held[key]; ok {
		return f, false, nil
	}
	l.fence++
	l.held[key] = l.fence
	l.release[key] = make(chan struct{})
	return l.fence, true, nil
}

func (l *fakeLock) Unlock(_ context.Context, key string, token int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.held[key]; !ok || f != token {
		return errors.New("fake lock: not held")
	}
	l.free(key)
	return nil
}

// free releases key; the caller holds mu.
func (l *fakeLock) free(key string) {
	delete(l.held, key)
	close(l.release[key])
	delete(l.release, key)
}

// expire releases key as its TTL would: its holder died.
func (l *fakeLock) expire(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.free(key)
}

func (l *fakeLock) Wait(ctx context.Context, key string) error {
	l.mu.Lock()
	err := l.err
	if err == nil {
		err = l.waitErr
	}
	ch, held := l.release[key]
	l.mu.Unlock()
	if err != nil {
		return err
	}
	if !held {
		return nil
	}
	if l.waiting != nil {
		l.waiting <- key
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cluster is several Managers (instances) in front of one fake backend,
// sharing one lock and one set of stores, as gateway instances share Redis.
type cluster struct {
	f      *fake
	clock  *clock
	lock   *fakeLock
	cache  *MemoryCache
	succ   *MemorySuccessors
	ms     []*Manager
	client string
}

// newCluster starts n Managers with the race setup: single-use refresh
// credentials at the backend (a second use is 409), successor records on.
func newCluster(t *testing.T, n int, mod func(*Options)) *cluster {
	t.Helper()
	c := &cluster{clock: newClock(), lock: newFakeLock(), client: "Mozilla/5.0|192.0.2.1"}
	c.f = newFake(t, c.clock)
	c.f.oneUse = true
	c.cache = NewMemoryCache(100, c.clock.Now)
	c.succ = NewMemorySuccessors(100, c.clock.Now)
	failures := NewMemoryFailures(100, c.clock.Now)
	for range n {
		o := defaults()
		o.SuccessorTTL = 30 * time.Second
		o.Backend = c.f.client(t, 2*time.Second)
		o.Now = c.clock.Now
		o.Cache, o.Failures, o.Successors, o.RefreshLock = c.cache, failures, c.succ, c.lock
		if mod != nil {
			mod(&o)
		}
		m, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		c.ms = append(c.ms, m)
	}
	// The old token is known invalid everywhere (shared cache), so every
	// request goes straight to the refresh.
	c.cache.Set(context.Background(), Key("OLD"), Entry{Fresh: c.clock.Now().Add(time.Minute)})
	return c
}

func TestRefreshLockAcrossInstances(t *testing.T) {
	const instances, n = 3, 30
	tests := []struct {
		name         string
		mode         string // the backend's refresh mode
		otherClients bool   // every request from another client
		noGuest      bool
		state        State
		reason       Reason
		validates    int64
	}{
		{name: "same client", state: StateUser, validates: 1},
		{name: "every request from another client", otherClients: true, state: StateUser, validates: 1},
		{name: "refresh failed: expired", mode: "401", otherClients: true, noGuest: true, state: StateExpired, reason: backend.ReasonExpired},
		{name: "refresh failed: reuse", mode: "409", otherClients: true, state: StateExpired, reason: backend.ReasonReuse},
		{name: "backend unavailable", mode: "503", otherClients: true, state: StateUnavailable, reason: backend.ReasonNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, instances, func(o *Options) {
				if tt.noGuest {
					o.GuestFallback, o.GuestEnabled = false, false
				}
			})
			if tt.mode != "" {
				c.f.setMode("refresh", tt.mode)
			}
			gate := make(chan struct{})
			entered := make(chan string, 4*n)
			c.f.mu.Lock()
			c.f.gate, c.f.entered = gate, entered
			c.f.mu.Unlock()
			c.lock.waiting = make(chan string, n)

			joined := make(chan struct{}, 4*n)
			ctx := doneCounter{context.Background(), joined}
			outs := make([]Outcome, n)
			var wg sync.WaitGroup
			for i := range n {
				in := Input{User: "OLD", ClientID: c.client}
				if tt.otherClients {
					in.ClientID = fmt.Sprintf("agent-%d|192.0.2.%d", i, i)
				}
				wg.Go(func() { outs[i] = c.ms[i%instances].Authenticate(ctx, in) })
			}
			// Every request has joined its instance's flight, one refresh
			// is at the backend and the other instances wait for its lock:
			// all n are in flight.
			for range n {
				<-joined
			}
			if ep := <-entered; ep != "refresh" {
				t.Fatalf("first backend call to %s, want refresh", ep)
			}
			for range instances - 1 {
				<-c.lock.waiting
			}
			close(gate)
			wg.Wait()

			for i, o := range outs {
				if o.State != tt.state || o.Reason != tt.reason {
					t.Fatalf("request %d: %s/%q, want %s/%q", i, o.State, o.Reason, tt.state, tt.reason)
				}
			}
			if tt.state == StateUser {
				sameNewToken(t, outs)
			}
			if got := c.f.refreshes.Load(); got != 1 {
				t.Errorf("refresh calls = %d, want 1 across %d instances", got, instances)
			}
			if got := c.f.validates.Load(); got != tt.validates {
				t.Errorf("validate calls = %d, want %d (the new token, once, through the shared cache)", got, tt.validates)
			}
			c.lock.mu.Lock()
			if len(c.lock.held) != 0 {
				t.Errorf("locks still held: %v", c.lock.held)
			}
			c.lock.mu.Unlock()
		})
	}
}

func TestRefreshLockAfterTheFlight(t *testing.T) {
	c := newCluster(t, 3, nil)
	first := c.ms[0].Authenticate(context.Background(), Input{User: "OLD", ClientID: c.client})
	if first.State != StateUser || !first.Refreshed {
		t.Fatalf("first refresh: %+v", first)
	}
	// The refresh has finished: the same client on another instance gets
	// the successor record, without a second refresh.
	again := c.ms[1].Authenticate(context.Background(), Input{User: "OLD", ClientID: c.client})
	if again.State != StateUser || again.Token != first.Token {
		t.Fatalf("same client on another instance: %+v, want the successor", again)
	}
	if got := c.f.refreshes.Load(); got != 1 {
		t.Fatalf("refresh calls = %d, want 1", got)
	}
	// Another client never gets the flight record of a finished refresh:
	// its refresh meets the backend's reuse detection.
	thief := c.ms[2].Authenticate(context.Background(), Input{User: "OLD", ClientID: "curl/8|198.51.100.7"})
	if thief.State != StateExpired || thief.Reason != backend.ReasonReuse || thief.Token != "" {
		t.Fatalf("another client after the flight: %+v, want a reuse logout", thief)
	}
	if got := c.f.refreshes.Load(); got != 2 {
		t.Fatalf("refresh calls = %d, want 2", got)
	}
}

func TestRefreshLockUnavailable(t *testing.T) {
	t.Run("TryLock fails: each instance refreshes itself", func(t *testing.T) {
		c := newCluster(t, 2, nil)
		c.lock.err = errLockDown
		o := c.ms[0].Authenticate(context.Background(), Input{User: "OLD", ClientID: c.client})
		if o.State != StateUser || !o.Refreshed {
			t.Fatalf("got %+v, want a refresh despite the lock", o)
		}
		// The stores still work: the same client elsewhere gets the successor.
		if o2 := c.ms[1].Authenticate(context.Background(), Input{User: "OLD", ClientID: c.client}); o2.Token != o.Token {
			t.Fatalf("other instance: %+v", o2)
		}
		if got := c.f.refreshes.Load(); got != 1 {
			t.Fatalf("refresh calls = %d, want 1", got)
		}
	})
	t.Run("Wait fails: the waiter refreshes itself", func(t *testing.T) {
		c := newCluster(t, 1, nil)
		if _, ok, _ := c.lock.TryLock(context.Background(), Key("OLD"), time.Minute); !ok {
			t.Fatal("could not take the lock")
		}
		c.lock.waitErr = errLockDown
		o := c.ms[0].Authenticate(context.Background(), Input{User: "OLD", ClientID: c.client})
		if o.State != StateUser || !o.Refreshed {
			t.Fatalf("got %+v, want a refresh despite the lock", o)
		}
	})
}

func TestRefreshLockHolderDied(t *testing.T) {
	c := newCluster(t, 1, nil)
	// Another instance took the lock and died before refreshing.
	if _, ok, _ := c.lock.TryLock(context.Background(), Key("OLD"), time.Minute); !ok {
		t.Fatal("could not take the lock")
	}
	c.lock.waiting = make(chan string, 1)
	done := make(chan Outcome, 1)
	go func() {
		done <- c.ms[0].Authenticate(context.Background(), Input{User: "OLD", ClientID: "other|192.0.2.9"})
	}()
	<-c.lock.waiting
	c.lock.expire(Key("OLD")) // its TTL ends: no flight record, no successor
	o := <-done
	if o.State != StateUser || !o.Refreshed {
		t.Fatalf("got %+v, want the waiter to refresh after the dead holder's lock expired", o)
	}
	if got := c.f.refreshes.Load(); got != 1 {
		t.Fatalf("refresh calls = %d, want 1", got)
	}
}

func TestFlightRecordSealed(t *testing.T) {
	const fence = 42
	tok := Tokens{Access: "NEW-ACCESS", Refresh: "NEW-REFRESH"}
	fk := flightKey(Key("OLD"), fence)
	if len(fk) != 64 || fk == Key("OLD") || fk == flightKey(Key("OLD"), fence+1) {
		t.Fatalf("flight key %q: want a SHA-256 hex digest per acquisition", fk)
	}
	raw, err := sealFlight("OLD", fk, fence, tok, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tok.Access, tok.Refresh, "OLD"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("the record contains %q in clear", secret)
		}
	}
	tests := []struct {
		name, cred, key string
		fence           int64
		ok              bool
	}{
		{"holder of the old token who saw the lock", "OLD", fk, fence, true},
		{"another token", "OTHER", fk, fence, false},
		{"another acquisition", "OLD", fk, fence + 1, false},
		{"moved to another key", "OLD", flightKey(Key("OLD"), fence+1), fence, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, err := openFlight(tt.cred, tt.key, tt.fence, raw)
			if (err == nil) != tt.ok {
				t.Fatalf("open: err = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && (got != tok || reason != "") {
				t.Fatalf("opened %+v/%q, want %+v", got, reason, tok)
			}
		})
	}
	if _, _, err := openFlight("OLD", fk, fence, raw[:10]); err == nil {
		t.Fatal("a truncated record opened")
	}
	failed, err := sealFlight("OLD", fk, fence, Tokens{}, backend.ReasonExpired)
	if err != nil {
		t.Fatal(err)
	}
	if _, reason, err := openFlight("OLD", fk, fence, failed); err != nil || reason != backend.ReasonExpired {
		t.Fatalf("failure record: %q, %v", reason, err)
	}
}

func TestRefreshLockTTLMustNotBeNegative(t *testing.T) {
	c := newClock()
	_, err := New(Options{Backend: newFake(t, c).client(t, time.Second), RefreshLockTTL: -time.Second})
	if err == nil {
		t.Fatal("New accepted a negative RefreshLockTTL")
	}
}
