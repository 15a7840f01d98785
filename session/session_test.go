package session

import (
	"context"
	"errors"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
)

// env is a Manager in front of a fake backend, with an injected clock.
type env struct {
	f     *fake
	m     *Manager
	clock *clock
	cache *MemoryCache
}

// defaults is the default configuration, guests enabled without a cap.
func defaults() Options {
	return Options{
		CacheTTL:      2 * time.Second,
		CacheSize:     100,
		StaleIfError:  30 * time.Second,
		SingleFlight:  true,
		GuestFallback: true,
		GuestEnabled:  true,
	}
}

func setup(t testing.TB, timeout time.Duration, mod func(*Options)) *env {
	t.Helper()
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	c := newClock()
	f := newFake(t, c)
	o := defaults()
	if mod != nil {
		mod(&o)
	}
	e := &env{f: f, clock: c}
	o.Backend = f.client(t, timeout)
	o.Now = c.Now
	if o.Cache == nil {
		e.cache = NewMemoryCache(o.CacheSize, c.Now)
		o.Cache = e.cache
	}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e.m = m
	return e
}

// want describes an Outcome whose new token values are not known in advance.
type want struct {
	state                         State
	reason                        Reason
	refreshed, minted, stale      bool
	setUser, setGuest, setRefresh bool
	del                           CookieSet
	token                         string // "cookie:user", "cookie:guest", "new", or ""
	calls                         [3]int64
}

func check(t *testing.T, in Input, o Outcome, w want, calls [3]int64) {
	t.Helper()
	if o.State != w.state || o.Reason != w.reason {
		t.Errorf("state/reason = %s/%q, want %s/%q", o.State, o.Reason, w.state, w.reason)
	}
	if o.Refreshed != w.refreshed || o.Minted != w.minted || o.Stale != w.stale {
		t.Errorf("refreshed/minted/stale = %v/%v/%v, want %v/%v/%v", o.Refreshed, o.Minted, o.Stale, w.refreshed, w.minted, w.stale)
	}
	if (o.Set.User != "") != w.setUser || (o.Set.Guest != "") != w.setGuest || (o.Set.Refresh != "") != w.setRefresh {
		t.Errorf("set = user:%v guest:%v refresh:%v, want %v/%v/%v", o.Set.User != "", o.Set.Guest != "", o.Set.Refresh != "", w.setUser, w.setGuest, w.setRefresh)
	}
	if o.Delete != w.del {
		t.Errorf("delete = %+v, want %+v", o.Delete, w.del)
	}
	switch w.token {
	case "cookie:user":
		if o.Token != in.User {
			t.Errorf("token = %q, want the user cookie", o.Token)
		}
	case "cookie:guest":
		if o.Token != in.Guest {
			t.Errorf("token = %q, want the guest cookie", o.Token)
		}
	case "new":
		if o.Token == "" || o.Token == in.User || o.Token == in.Guest || (o.Token != o.Set.User && o.Token != o.Set.Guest) {
			t.Errorf("token = %q, want the new token (set %+v)", o.Token, o.Set)
		}
	case "":
		if o.Token != "" {
			t.Errorf("token = %q, want none", o.Token)
		}
	}
	if calls != w.calls {
		t.Errorf("calls (validate, refresh, guest) = %v, want %v", calls, w.calls)
	}
	// Never delete a cookie the request did not carry.
	c := carried(in)
	if (o.Delete.User && !c.User) || (o.Delete.Guest && !c.Guest) || (o.Delete.Refresh && !c.Refresh) {
		t.Errorf("deletes %+v cookies the request did not carry (%+v)", o.Delete, c)
	}
}

// TestDecisionTable covers every row of docs/how-it-works.md#decisions at
// the session level.
func TestDecisionTable(t *testing.T) {
	all := CookieSet{User: true, Guest: true, Refresh: true}
	tests := []struct {
		name  string
		mod   func(*Options)
		modes map[string]string
		in    Input
		want  want
	}{
		{"no token, guest minted", nil, nil, Input{},
			want{state: StateGuest, minted: true, setGuest: true, token: "new", calls: [3]int64{0, 0, 1}}},
		{"no token, guests disabled", func(o *Options) { o.GuestEnabled = false }, nil, Input{},
			want{state: StateAnonymous, calls: [3]int64{0, 0, 0}}},
		{"no token, guest call fails", nil, map[string]string{"guest": "500"}, Input{},
			want{state: StateAnonymous, calls: [3]int64{0, 0, 1}}},
		{"no token, guest answer without token", nil, map[string]string{"guest": "string-data"}, Input{},
			want{state: StateAnonymous, calls: [3]int64{0, 0, 1}}},
		{"refresh cookie alone is no token and is kept", func(o *Options) { o.GuestEnabled = false }, nil, Input{Refresh: "r"},
			want{state: StateAnonymous, calls: [3]int64{0, 0, 0}}},
		{"valid guest", nil, nil, Input{Guest: "G"},
			want{state: StateGuest, token: "cookie:guest", calls: [3]int64{1, 0, 0}}},
		{"valid user", nil, nil, Input{User: "U"},
			want{state: StateUser, token: "cookie:user", calls: [3]int64{1, 0, 0}}},
		{"valid user deletes a carried guest cookie", nil, nil, Input{User: "U", Guest: "G"},
			want{state: StateUser, token: "cookie:user", del: CookieSet{Guest: true}, calls: [3]int64{1, 0, 0}}},
		{"invalid user, refresh ok", nil, nil, Input{User: "X"},
			want{state: StateUser, refreshed: true, setUser: true, token: "new", calls: [3]int64{2, 1, 0}}},
		{"invalid user, refresh ok, rotated, guest carried", func(o *Options) {}, map[string]string{"rotate": "yes"}, Input{User: "X", Guest: "G", Refresh: "r"},
			want{state: StateUser, refreshed: true, setUser: true, setRefresh: true, token: "new", del: CookieSet{Guest: true}, calls: [3]int64{2, 1, 0}}},
		{"refresh reuse: terminal, all carried cookies deleted, no guest", nil, map[string]string{"refresh": "409"}, Input{User: "X", Guest: "G", Refresh: "r"},
			want{state: StateExpired, reason: backend.ReasonReuse, del: all, calls: [3]int64{1, 1, 0}}},
		{"refresh expired without guest fallback: terminal", func(o *Options) { o.GuestFallback = false }, map[string]string{"refresh": "401"}, Input{User: "X", Guest: "G"},
			want{state: StateExpired, reason: backend.ReasonExpired, del: CookieSet{User: true, Guest: true}, calls: [3]int64{1, 1, 0}}},
		{"refresh revoked without guest fallback: terminal", func(o *Options) { o.GuestFallback = false }, map[string]string{"refresh": "403"}, Input{User: "X"},
			want{state: StateExpired, reason: backend.ReasonRevoked, del: CookieSet{User: true}, calls: [3]int64{1, 1, 0}}},
		{"refresh unknown without guest fallback: terminal", func(o *Options) { o.GuestFallback = false }, map[string]string{"refresh": "no-token"}, Input{User: "X"},
			want{state: StateExpired, reason: backend.ReasonUnknown, del: CookieSet{User: true}, calls: [3]int64{1, 1, 0}}},
		{"refresh expired, guest fallback: guest minted, user cookie deleted", nil, map[string]string{"refresh": "401"}, Input{User: "X", Guest: "G", Refresh: "r"},
			want{state: StateGuest, reason: backend.ReasonExpired, minted: true, setGuest: true, token: "new", del: CookieSet{User: true}, calls: [3]int64{1, 1, 1}}},
		{"refresh revoked, guest fallback, guests disabled: all carried deleted", func(o *Options) { o.GuestEnabled = false }, map[string]string{"refresh": "403"}, Input{User: "X", Guest: "G", Refresh: "r"},
			want{state: StateAnonymous, reason: backend.ReasonRevoked, del: all, calls: [3]int64{1, 1, 0}}},
		{"refresh unknown, guest fallback, guest call fails", nil, map[string]string{"refresh": "no-token", "guest": "500"}, Input{User: "X"},
			want{state: StateAnonymous, reason: backend.ReasonUnknown, del: CookieSet{User: true}, calls: [3]int64{1, 1, 1}}},
		{"refresh network: unavailable, no cookie change, no guest", nil, map[string]string{"refresh": "500"}, Input{User: "X", Guest: "G", Refresh: "r"},
			want{state: StateUnavailable, reason: backend.ReasonNetwork, calls: [3]int64{1, 1, 0}}},
		{"refresh network without guest fallback: still no change", func(o *Options) { o.GuestFallback = false }, map[string]string{"refresh": "429"}, Input{User: "X"},
			want{state: StateUnavailable, reason: backend.ReasonNetwork, calls: [3]int64{1, 1, 0}}},
		{"invalid guest: a new one replaces it", nil, nil, Input{Guest: "X"},
			want{state: StateGuest, minted: true, setGuest: true, token: "new", calls: [3]int64{1, 0, 1}}},
		{"invalid guest is never refreshed; guests disabled: deleted", func(o *Options) { o.GuestEnabled = false }, nil, Input{Guest: "X", Refresh: "r"},
			want{state: StateAnonymous, del: CookieSet{Guest: true, Refresh: true}, calls: [3]int64{1, 0, 0}}},
		{"validation unavailable with a user cookie: no refresh, no guest, no change", nil, map[string]string{"validate": "500"}, Input{User: "U", Guest: "G"},
			want{state: StateUnavailable, calls: [3]int64{1, 0, 0}}},
		{"validation unavailable with a guest cookie: no mint", nil, map[string]string{"validate": "503"}, Input{Guest: "G"},
			want{state: StateUnavailable, calls: [3]int64{1, 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, 0, tt.mod)
			e.f.add("U", "user", e.clock.Now().Add(time.Hour))
			e.f.add("G", "guest", e.clock.Now().Add(time.Hour))
			for ep, mode := range tt.modes {
				if ep == "rotate" {
					e.f.rotate = true
					continue
				}
				e.f.setMode(ep, mode)
			}
			o := e.m.Authenticate(context.Background(), tt.in)
			check(t, tt.in, o, tt.want, e.f.calls())
			if o.State == StateGuest && !o.Minted && (o.Identity == nil || o.Identity.Type != "guest") {
				t.Errorf("guest identity = %+v", o.Identity)
			}
			if o.State == StateUser && (o.Identity == nil || o.Identity.Type != "user") {
				t.Errorf("user identity = %+v", o.Identity)
			}
		})
	}
}

func TestValidationSingleFlightAndCache(t *testing.T) {
	e := setup(t, 0, nil)
	e.f.add("U", "user", e.clock.Now().Add(time.Hour))
	gate := make(chan struct{})
	e.f.setGate(gate)

	const n = 50
	joined := make(chan struct{}, 4*n)
	ctx := doneCounter{context.Background(), joined}
	var wg sync.WaitGroup
	outs := make([]Outcome, n)
	for i := range n {
		wg.Go(func() { outs[i] = e.m.Authenticate(ctx, Input{User: "U"}) })
	}
	for range n {
		<-joined // every caller waits on the one flight
	}
	close(gate)
	wg.Wait()
	for i, o := range outs {
		if o.State != StateUser || o.Token != "U" {
			t.Fatalf("caller %d: %+v", i, o)
		}
	}
	if got := e.f.validates.Load(); got != 1 {
		t.Fatalf("%d concurrent callers made %d validate calls, want 1", n, got)
	}

	// Within the TTL: served from the cache.
	e.clock.Advance(1900 * time.Millisecond)
	for range n {
		if o := e.m.Authenticate(context.Background(), Input{User: "U"}); o.State != StateUser {
			t.Fatalf("cached: %+v", o)
		}
	}
	if got := e.f.validates.Load(); got != 1 {
		t.Fatalf("within the TTL: %d validate calls, want 1", got)
	}

	// After the TTL: one more call, then cached again.
	e.clock.Advance(200 * time.Millisecond)
	for range 3 {
		e.m.Authenticate(context.Background(), Input{User: "U"})
	}
	if got := e.f.validates.Load(); got != 2 {
		t.Fatalf("after the TTL: %d validate calls, want 2", got)
	}
}

func TestRefreshSingleFlight(t *testing.T) {
	e := setup(t, 0, nil)
	// The old token is known invalid (cached), so every caller goes
	// straight to the refresh flight.
	e.cache.Set(context.Background(), Key("OLD"), Entry{Fresh: e.clock.Now().Add(time.Minute)})
	gate := make(chan struct{})
	e.f.setGate(gate)

	const n = 50
	joined := make(chan struct{}, 4*n)
	ctx := doneCounter{context.Background(), joined}
	var wg sync.WaitGroup
	outs := make([]Outcome, n)
	for i := range n {
		wg.Go(func() { outs[i] = e.m.Authenticate(ctx, Input{User: "OLD"}) })
	}
	for range n {
		<-joined
	}
	close(gate)
	wg.Wait()
	first := outs[0].Token
	for i, o := range outs {
		if o.State != StateUser || !o.Refreshed || o.Token != first || o.Set.User != first || first == "" {
			t.Fatalf("caller %d: %+v, want the shared new token %q", i, o, first)
		}
	}
	if got := e.f.calls(); got != [3]int64{1, 1, 0} {
		t.Fatalf("calls (validate, refresh, guest) = %v, want one validation of the new token and one refresh", got)
	}
}

func TestRefreshWithoutSingleFlight(t *testing.T) {
	e := setup(t, 0, func(o *Options) { o.SingleFlight = false })
	e.cache.Set(context.Background(), Key("OLD"), Entry{Fresh: e.clock.Now().Add(time.Minute)})
	gate := make(chan struct{})
	entered := make(chan string, 8)
	e.f.mu.Lock()
	e.f.gate, e.f.entered = gate, entered
	e.f.mu.Unlock()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { e.m.Authenticate(context.Background(), Input{User: "OLD"}) })
	}
	for range 2 {
		if ep := <-entered; ep != "refresh" {
			t.Fatalf("unexpected call to %s", ep)
		}
	}
	close(gate)
	wg.Wait()
	if got := e.f.refreshes.Load(); got != 2 {
		t.Fatalf("refresh calls = %d, want 2 (no coalescing)", got)
	}
}

func TestRefreshFailureReasons(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		reason Reason
		state  State
	}{
		{"reuse via 409", "409", backend.ReasonReuse, StateExpired},
		{"reuse via code", "reuse-code", backend.ReasonReuse, StateExpired},
		{"401 expired", "401", backend.ReasonExpired, StateExpired},
		{"403 revoked", "403", backend.ReasonRevoked, StateExpired},
		{"500 network", "500", backend.ReasonNetwork, StateUnavailable},
		{"timeout network", "hang", backend.ReasonNetwork, StateUnavailable},
		{"2xx without token", "no-token", backend.ReasonUnknown, StateExpired},
		{"2xx not json", "nonjson", backend.ReasonUnknown, StateExpired},
		{"new token fails validation", "new-invalid", backend.ReasonUnknown, StateExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, 100*time.Millisecond, func(o *Options) { o.GuestFallback = false })
			e.f.setMode("refresh", tt.mode)
			in := Input{User: "X", Guest: "G"}
			o := e.m.Authenticate(context.Background(), in)
			if o.State != tt.state || o.Reason != tt.reason {
				t.Fatalf("state/reason = %s/%s, want %s/%s", o.State, o.Reason, tt.state, tt.reason)
			}
			if tt.state == StateUnavailable && (o.Delete.Any() || o.Set != (Cookies{})) {
				t.Fatalf("network failure changed cookies: %+v", o)
			}
			if tt.state == StateExpired && o.Delete != (CookieSet{User: true, Guest: true}) {
				t.Fatalf("delete = %+v", o.Delete)
			}
			// A failed refresh is remembered, network failures too (for 1s
			// at first: TestUnavailableRefreshBackoff).
			e.m.Authenticate(context.Background(), in)
			wantRefreshes := int64(1)
			if got := e.f.refreshes.Load(); got != wantRefreshes {
				t.Fatalf("refresh calls after a repeat = %d, want %d", got, wantRefreshes)
			}
			// ... for max(CacheTTL, 1s).
			e.clock.Advance(2 * time.Second)
			e.m.Authenticate(context.Background(), in)
			if got := e.f.refreshes.Load(); got != wantRefreshes+1 {
				t.Fatalf("refresh calls after the memory expired = %d, want %d", got, wantRefreshes+1)
			}
		})
	}
}

func TestFailedRefreshMemoryAtLeastOneSecond(t *testing.T) {
	e := setup(t, 0, func(o *Options) { o.CacheTTL = 0; o.GuestEnabled = false })
	e.f.setMode("refresh", "401")
	in := Input{User: "X"}
	e.m.Authenticate(context.Background(), in)
	e.clock.Advance(900 * time.Millisecond)
	if o := e.m.Authenticate(context.Background(), in); o.Reason != backend.ReasonExpired {
		t.Fatalf("remembered outcome = %+v", o)
	}
	if got := e.f.calls(); got != [3]int64{2, 1, 0} {
		t.Fatalf("calls = %v, want 2 validations (no cache) and 1 refresh", got)
	}
}

func TestBackendUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/api/"
	ln.Close()
	tests := []struct {
		name, mode string
		refused    bool
	}{
		{"500", "500", false},
		{"429", "429", false},
		{"hang past the timeout", "hang", false},
		{"connection refused", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, 100*time.Millisecond, nil)
			if tt.refused {
				c, err := backend.New(backend.Options{URL: refused, Timeout: time.Second})
				if err != nil {
					t.Fatal(err)
				}
				e.m.be = c
			}
			e.f.setMode("validate", tt.mode)
			e.f.setMode("guest", tt.mode)
			for _, in := range []Input{{User: "U", Guest: "G", Refresh: "r"}, {Guest: "G"}} {
				o := e.m.Authenticate(context.Background(), in)
				if o.State != StateUnavailable || o.Set != (Cookies{}) || o.Delete.Any() || o.Stale || o.Token != "" {
					t.Fatalf("%+v: got %+v, want Unavailable with no cookie change", in, o)
				}
			}
			if got := e.f.refreshes.Load() + e.f.guests.Load(); got != 0 {
				t.Fatalf("%d refresh/guest calls while the backend was unavailable", got)
			}
		})
	}
}

func TestStaleIfError(t *testing.T) {
	e := setup(t, 0, nil)
	e.f.add("U", "user", e.clock.Now().Add(time.Hour))
	if o := e.m.Authenticate(context.Background(), Input{User: "U"}); o.State != StateUser || o.Stale {
		t.Fatalf("first: %+v", o)
	}
	e.f.setMode("validate", "500")
	e.clock.Advance(10 * time.Second) // past the TTL, within staleIfError
	o := e.m.Authenticate(context.Background(), Input{User: "U", Guest: "G"})
	if o.State != StateUser || !o.Stale || o.Identity == nil || o.Token != "U" || o.Delete.Any() || o.Set != (Cookies{}) {
		t.Fatalf("stale: %+v", o)
	}
	e.clock.Advance(21 * time.Second) // 31s after the last good validation
	if o := e.m.Authenticate(context.Background(), Input{User: "U"}); o.State != StateUnavailable || o.Stale {
		t.Fatalf("past staleIfError: %+v", o)
	}
	if got := e.f.refreshes.Load(); got != 0 {
		t.Fatalf("refresh calls = %d, want 0", got)
	}
}

func TestStaleNeverPastExp(t *testing.T) {
	e := setup(t, 0, nil)
	e.f.add("U", "user", e.clock.Now().Add(5*time.Second))
	e.m.Authenticate(context.Background(), Input{User: "U"})
	e.f.setMode("validate", "500")
	e.clock.Advance(6 * time.Second)
	if o := e.m.Authenticate(context.Background(), Input{User: "U"}); o.State != StateUnavailable {
		t.Fatalf("served past exp: %+v", o)
	}
}

func TestStaleEndsWhenBackendSaysInvalid(t *testing.T) {
	e := setup(t, 0, func(o *Options) { o.GuestEnabled = false })
	e.f.add("U", "user", e.clock.Now().Add(time.Hour))
	e.m.Authenticate(context.Background(), Input{User: "U"})
	e.f.drop("U")
	e.f.setMode("refresh", "500")
	e.clock.Advance(3 * time.Second)
	// Invalid, then the refresh is unavailable: not served stale.
	if o := e.m.Authenticate(context.Background(), Input{User: "U"}); o.State != StateUnavailable || o.Stale || o.Reason != backend.ReasonNetwork {
		t.Fatalf("got %+v", o)
	}
	e.f.setMode("validate", "500")
	e.clock.Advance(3 * time.Second)
	if o := e.m.Authenticate(context.Background(), Input{User: "U"}); o.Stale {
		t.Fatalf("a token the backend answered invalid was served stale: %+v", o)
	}
}

func TestCacheNeverOutlivesExp(t *testing.T) {
	e := setup(t, 0, nil)
	e.f.add("U", "user", e.clock.Now().Add(time.Second)) // exp before the 2s TTL
	e.m.Authenticate(context.Background(), Input{User: "U"})
	e.clock.Advance(500 * time.Millisecond)
	e.m.Authenticate(context.Background(), Input{User: "U"})
	if got := e.f.validates.Load(); got != 1 {
		t.Fatalf("validate calls = %d, want 1 before exp", got)
	}
	e.clock.Advance(500 * time.Millisecond)
	ent, ok, _ := e.cache.Get(context.Background(), Key("U"))
	if ok && e.clock.Now().Before(ent.Fresh) {
		t.Fatalf("entry fresh until %v, past exp %v", ent.Fresh, e.clock.Now())
	}
	// At exp the backend is asked again: invalid, so the token is refreshed
	// (and the new token validated).
	o := e.m.Authenticate(context.Background(), Input{User: "U"})
	if got := e.f.validates.Load(); got != 3 || o.State != StateUser || !o.Refreshed {
		t.Fatalf("at exp: %d validate calls, outcome %+v", got, o)
	}
}

func TestInvalidAnswersCached(t *testing.T) {
	e := setup(t, 0, func(o *Options) { o.GuestEnabled = false })
	e.f.setMode("refresh", "401")
	for range 5 {
		e.m.Authenticate(context.Background(), Input{User: "random"})
		e.m.Authenticate(context.Background(), Input{Guest: "random-guest"})
	}
	if got := e.f.calls(); got != [3]int64{2, 1, 0} {
		t.Fatalf("calls (validate, refresh, guest) = %v, want [2 1 0]", got)
	}
	e.clock.Advance(2 * time.Second)
	e.m.Authenticate(context.Background(), Input{Guest: "random-guest"})
	if got := e.f.validates.Load(); got != 3 {
		t.Fatalf("after the TTL: %d validate calls, want 3", got)
	}
}

func TestCacheSizeBound(t *testing.T) {
	e := setup(t, 0, func(o *Options) { o.CacheSize = 10 })
	for i := range 40 {
		tok := "U" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		e.f.add(tok, "user", e.clock.Now().Add(time.Hour))
		if o := e.m.Authenticate(context.Background(), Input{User: tok}); o.State != StateUser {
			t.Fatalf("%s: %+v", tok, o)
		}
		if n := e.cache.Len(); n > 10 {
			t.Fatalf("cache holds %d entries, bound 10", n)
		}
	}
	if n := e.cache.Len(); n != 10 {
		t.Fatalf("cache holds %d entries, want 10", n)
	}
}

func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	e := setup(t, 0, nil)
	e.f.add("U", "user", e.clock.Now().Add(time.Hour))
	gate := make(chan struct{})
	e.f.setGate(gate)
	joined := make(chan struct{}, 8)
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	resA, resB := make(chan Outcome, 1), make(chan Outcome, 1)
	go func() { resA <- e.m.Authenticate(doneCounter{ctxA, joined}, Input{User: "U"}) }()
	go func() { resB <- e.m.Authenticate(doneCounter{context.Background(), joined}, Input{User: "U"}) }()
	<-joined
	<-joined
	cancelA()
	if o := <-resA; o.State != StateUnavailable || o.Delete.Any() {
		t.Fatalf("cancelled caller: %+v", o)
	}
	close(gate)
	if o := <-resB; o.State != StateUser {
		t.Fatalf("other caller: %+v", o)
	}
	if got := e.f.validates.Load(); got != 1 {
		t.Fatalf("validate calls = %d, want 1", got)
	}
}

func TestBadBackendAnswers(t *testing.T) {
	for _, mode := range []string{"nonjson", "string-data", "huge"} {
		t.Run(mode, func(t *testing.T) {
			e := setup(t, 0, func(o *Options) { o.GuestEnabled = false })
			e.f.setMode("validate", mode)
			e.f.setMode("refresh", mode)
			o := e.m.Authenticate(context.Background(), Input{User: "U"})
			if o.State != StateAnonymous || o.Reason != backend.ReasonUnknown || !o.Delete.User {
				t.Fatalf("got %+v", o)
			}
		})
	}
}

func TestIdentityHasNoTokens(t *testing.T) {
	e := setup(t, 0, nil)
	e.f.add("U", "user", e.clock.Now().Add(time.Hour))
	e.f.setMode("validate", "leaky")
	o := e.m.Authenticate(context.Background(), Input{User: "U"})
	if o.State != StateUser {
		t.Fatalf("got %+v", o)
	}
	if s := string(o.Identity.UserJSON); strings.Contains(s, "LEAK") || !strings.Contains(s, "u@example.com") {
		t.Fatalf("UserJSON = %s", s)
	}
	for k, v := range o.Identity.User {
		if s, ok := v.(string); ok && strings.Contains(s, "LEAK") {
			t.Fatalf("user[%s] carries a token", k)
		}
	}
}

func TestGuestCap(t *testing.T) {
	e := setup(t, 0, func(o *Options) { o.GuestMaxPerMinute = 2 })
	mint := func(client string) bool {
		return e.m.Authenticate(context.Background(), Input{Client: client}).Minted
	}
	first, second := mint("a"), mint("a") // two calls, on purpose
	if !first || !second {
		t.Fatal("the first two mints of client a were refused")
	}
	if mint("a") {
		t.Fatal("the third mint of client a within a minute was allowed")
	}
	if o := e.m.Authenticate(context.Background(), Input{Client: "a"}); o.State != StateAnonymous || o.Delete.Any() {
		t.Fatalf("capped: %+v, want Anonymous as if guests were disabled", o)
	}
	if !mint("b") {
		t.Fatal("client b was capped by client a")
	}
	e.clock.Advance(30 * time.Second) // 2 per minute: one more every 30s
	if !mint("a") {
		t.Fatal("client a's bucket did not refill")
	}
	if got := e.f.guests.Load(); got != 4 {
		t.Fatalf("guest calls = %d, want 4", got)
	}
}

// The guest-mint cap counts an IPv6 client by its prefix (guest.maxPerMinute
// with rateLimit.ipv6PrefixLength): one subscriber's /64 holds more
// addresses than any cap.
func TestGuestCapIPv6Prefix(t *testing.T) {
	for _, c := range []struct {
		name   string
		prefix int
		first  string // minted twice, reaching the cap of 2
		then   string
		capped bool // the mint for then is refused
	}{
		{"same /64 by default", 0, "2001:db8:1:2::100", "2001:db8:1:2::105", true},
		{"same /64", 64, "2001:db8:1:2::100", "2001:db8:1:2::105", true},
		{"another /64", 64, "2001:db8:1:2::100", "2001:db8:1:3::1", false},
		{"prefix 128 is per address", 128, "2001:db8:1:2::100", "2001:db8:1:2::105", false},
		{"IPv4 and its mapped form", 64, "192.0.2.4", "::ffff:192.0.2.4", true},
		{"IPv4 per address", 64, "192.0.2.4", "192.0.2.5", false},
		{"not an address: as is", 64, "client-a", "client-a", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := setup(t, 0, func(o *Options) { o.GuestMaxPerMinute, o.GuestIPv6Prefix = 2, c.prefix })
			mint := func(client string) bool {
				return e.m.Authenticate(context.Background(), Input{Client: client}).Minted
			}
			first, second := mint(c.first), mint(c.first) // two calls, on purpose
			if !first || !second {
				t.Fatalf("the first two mints of %s were refused", c.first)
			}
			if got := mint(c.then); got == c.capped {
				t.Fatalf("mint for %s after two for %s: minted = %v, want %v", c.then, c.first, got, !c.capped)
			}
		})
	}
}

// keyLimiter records the keys of the guest cap.
type keyLimiter struct {
	mu   sync.Mutex
	keys []string
}

func (l *keyLimiter) Allow(_ context.Context, key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, key)
	return true
}

// The keys a shared GuestLimiter sees: an IPv4 client's is its address, as
// it always was; an IPv6 client's its prefix.
func TestGuestCapKeys(t *testing.T) {
	l := &keyLimiter{}
	e := setup(t, 0, func(o *Options) { o.GuestMaxPerMinute, o.GuestLimiter = 2, l })
	for _, c := range []string{"192.0.2.3", "::ffff:192.0.2.4", "2001:db8:1:2::100", "client-a"} {
		e.m.Authenticate(context.Background(), Input{Client: c})
	}
	want := []string{"192.0.2.3", "192.0.2.4", "2001:db8:1:2::/64", "client-a"}
	if !slices.Equal(l.keys, want) {
		t.Fatalf("guest cap keys = %q, want %q", l.keys, want)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		c := newClock()
		f := newFake(t, c)
		defer f.srv.Close()
		f.add("U", "user", c.Now().Add(time.Hour))
		// The backend's own timeout would end a hung call only after an
		// hour: only Close can end it within the test.
		bc, err := backend.New(backend.Options{URL: f.srv.URL + "/api/", Timeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer bc.CloseIdleConnections()
		o := defaults()
		o.Backend, o.Now, o.GuestMaxPerMinute = bc, c.Now, 5
		m, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { m.Authenticate(context.Background(), Input{User: "U", Client: "c"}) })
			wg.Go(func() { m.Authenticate(context.Background(), Input{Client: "c"}) })
		}
		wg.Wait()

		// A flight still in the backend when Close is called is cancelled.
		entered, gate := make(chan string, 4), make(chan struct{}) // the backend holds the call until gate closes
		f.mu.Lock()
		f.entered, f.gate = entered, gate
		f.mu.Unlock()
		res := make(chan Outcome, 1)
		go func() { res <- m.Authenticate(context.Background(), Input{User: "V"}) }()
		<-entered // the backend has the validation
		closed := make(chan error, 1)
		go func() { closed <- m.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second): // a bound for a hang, not a speed
			close(gate) // lets the held call, Close and the server end
			t.Fatal("Close did not cancel the validation in flight")
		}
		if o := <-res; o.State != StateUnavailable {
			t.Fatalf("in flight at Close: %+v", o)
		}
		if err := m.Close(); err != nil {
			t.Fatal("second Close:", err)
		}
		if o := m.Authenticate(context.Background(), Input{User: "U"}); o.State != StateUnavailable {
			t.Fatalf("after Close: %+v", o)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // bounded wait for exiting goroutines, not for state
	}
}

func TestNew(t *testing.T) {
	be, _ := backend.New(backend.Options{URL: "http://127.0.0.1:1/"})
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"ok", Options{Backend: be}, true},
		{"no backend", Options{}, false},
		{"negative ttl", Options{Backend: be, CacheTTL: -1}, false},
		{"negative size", Options{Backend: be, CacheSize: -1}, false},
		{"negative stale", Options{Backend: be, StaleIfError: -1}, false},
		{"negative cap", Options{Backend: be, GuestMaxPerMinute: -1}, false},
		{"negative revalidate interval", Options{Backend: be, RevalidateInterval: -1}, false},
		{"negative proactive window", Options{Backend: be, ProactiveWindow: -1}, false},
		{"negative successor ttl", Options{Backend: be, SuccessorTTL: -1}, false},
		{"negative IPv6 prefix", Options{Backend: be, GuestIPv6Prefix: -1}, false},
		{"IPv6 prefix over 128", Options{Backend: be, GuestIPv6Prefix: 129}, false},
		{"IPv6 prefix 128", Options{Backend: be, GuestIPv6Prefix: 128}, true},
		{"full lifecycle", Options{Backend: be, Local: mapVerifier{}, RevalidateInterval: time.Minute,
			DualToken: true, Proactive: true, ProactiveWindow: time.Minute, SuccessorTTL: time.Second}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.o)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "session: ") {
				t.Errorf("error %q is not package-prefixed", err)
			}
			if m != nil {
				m.Close()
			}
		})
	}
}

// erring is a Cache whose every call fails (a Redis that is down).
type erring struct{}

var errDown = errors.New("store down")

func (erring) Get(context.Context, string) (Entry, bool, error) { return Entry{}, false, errDown }
func (erring) Set(context.Context, string, Entry) error         { return errDown }
func (erring) Delete(context.Context, string) error             { return errDown }

func TestStoreErrorsNeverFailRequests(t *testing.T) {
	e := setup(t, 0, func(o *Options) { o.Cache = erring{} })
	e.f.add("U", "user", e.clock.Now().Add(time.Hour))
	for range 3 {
		if o := e.m.Authenticate(context.Background(), Input{User: "U"}); o.State != StateUser {
			t.Fatalf("got %+v", o)
		}
	}
	if got := e.f.validates.Load(); got != 3 {
		t.Fatalf("validate calls = %d, want 3 (no cache)", got)
	}
}

func TestForcedRefresh(t *testing.T) {
	tests := []struct {
		name string
		mode string
		in   Input
		want want
	}{
		{"valid token refreshed", "", Input{User: "U", Guest: "G"},
			want{state: StateUser, refreshed: true, setUser: true, token: "new", del: CookieSet{Guest: true}, calls: [3]int64{1, 1, 0}}},
		{"no user cookie", "", Input{Guest: "G"},
			want{state: StateAnonymous, calls: [3]int64{0, 0, 0}}},
		{"reuse is terminal", "409", Input{User: "U", Refresh: "r"},
			want{state: StateExpired, reason: backend.ReasonReuse, del: CookieSet{User: true, Refresh: true}, calls: [3]int64{0, 1, 0}}},
		{"network changes nothing", "500", Input{User: "U"},
			want{state: StateUnavailable, reason: backend.ReasonNetwork, calls: [3]int64{0, 1, 0}}},
		{"expired refresh keeps a still-valid token and says why", "401", Input{User: "U"},
			want{state: StateUser, reason: backend.ReasonExpired, token: "cookie:user", calls: [3]int64{1, 1, 0}}},
		{"expired refresh of an invalid token falls back to a guest", "401", Input{User: "X"},
			want{state: StateGuest, reason: backend.ReasonExpired, minted: true, setGuest: true, token: "new", del: CookieSet{User: true}, calls: [3]int64{1, 1, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, 0, nil)
			e.f.add("U", "user", e.clock.Now().Add(time.Hour))
			e.f.add("G", "guest", e.clock.Now().Add(time.Hour))
			e.f.setMode("refresh", tt.mode)
			o := e.m.Refresh(context.Background(), tt.in)
			check(t, tt.in, o, tt.want, e.f.calls())
		})
	}
}

func TestForget(t *testing.T) {
	e := setup(t, 0, nil)
	e.f.add("U", "user", e.clock.Now().Add(time.Hour))
	e.m.Authenticate(context.Background(), Input{User: "U"})
	e.m.Forget("U")
	e.f.setMode("validate", "500")
	if o := e.m.Authenticate(context.Background(), Input{User: "U"}); o.State != StateUnavailable || o.Stale {
		t.Fatalf("a forgotten token was served: %+v", o)
	}
	if got := e.f.validates.Load(); got != 2 {
		t.Fatalf("validate calls = %d, want 2", got)
	}
}

func TestValidateNeitherRefreshesNorMints(t *testing.T) {
	e := setup(t, 0, nil)
	e.f.add("U", "user", e.clock.Now().Add(time.Hour))
	e.f.add("G", "guest", e.clock.Now().Add(time.Hour))
	e.f.add("GU", "guest", e.clock.Now().Add(time.Hour))
	ctx := context.Background()
	if id := e.m.Validate(ctx, Input{User: "U"}).User(); id == nil || id.Type != "user" {
		t.Fatalf("Validate(valid user).User() = %+v, want the user", id)
	}
	for _, in := range []Input{{User: "dead"}, {}, {Guest: "G"}, {User: "GU"}, {Refresh: "r"}} {
		if id := e.m.Validate(ctx, in).User(); id != nil {
			t.Errorf("Validate(%+v).User() = %+v, want nil", in, id)
		}
	}
	if c := e.f.calls(); c[1] != 0 || c[2] != 0 {
		t.Fatalf("calls = %v: Validate must never refresh nor mint", c)
	}
}

// Finish(Validate(in)) is Authenticate, with one validation call.
func TestValidateThenFinishValidatesOnce(t *testing.T) {
	e := setup(t, 0, nil)
	e.f.add("U", "user", e.clock.Now().Add(time.Hour))
	ctx := context.Background()
	v := e.m.Validate(ctx, Input{User: "U", Guest: "G"})
	o := e.m.Finish(ctx, v)
	if o.State != StateUser || !o.Delete.Guest || o.Token != "U" {
		t.Fatalf("Finish = %+v, want the user, the guest cookie deleted", o)
	}
	if c := e.f.calls(); c != [3]int64{1, 0, 0} {
		t.Fatalf("calls = %v, want one validation", c)
	}
	// With an invalid token, Finish refreshes it without validating again.
	e.f.setMode("refresh", "")
	v = e.m.Validate(ctx, Input{User: "X"})
	if o := e.m.Finish(ctx, v); o.State != StateUser || !o.Refreshed {
		t.Fatalf("Finish = %+v, want a refreshed user", o)
	}
	if c := e.f.calls(); c[0] != 3 || c[1] != 1 { // X once, then the new token once
		t.Fatalf("calls = %v, want 3 validations in all and 1 refresh", c)
	}
}

// cacheTTL 0 disables the cache: a token with an exp is still asked about
// on every request (an unset freshness must not become "until exp").
func TestZeroCacheTTLAsksEveryTime(t *testing.T) {
	e := setup(t, 0, func(o *Options) { o.CacheTTL = 0; o.StaleIfError = 0 })
	e.f.add("U", "user", e.clock.Now().Add(time.Hour))
	for range 3 {
		if o := e.m.Authenticate(context.Background(), Input{User: "U"}); o.State != StateUser {
			t.Fatalf("state %v, want user", o.State)
		}
	}
	if got := e.f.validates.Load(); got != 3 {
		t.Fatalf("validate calls = %d, want 3 with cacheTTL 0", got)
	}
}

// A reuse detection ends the session everywhere: the access token's cached
// validation is dropped, so no request (on this instance or, through the
// shared cache and its invalidations, another) is served from it.
func TestReuseForgetsTheAccessToken(t *testing.T) {
	e := setup(t, 0, func(o *Options) { o.Proactive, o.ProactiveWindow = true, time.Hour })
	e.f.add("U", "user", e.clock.Now().Add(time.Minute)) // valid, due for a proactive refresh
	ctx := context.Background()
	if o := e.m.Validate(ctx, Input{User: "U"}).User(); o == nil {
		t.Fatal("U does not validate")
	}
	e.f.setMode("refresh", "409")
	if o := e.m.Authenticate(ctx, Input{User: "U"}); o.State != StateExpired || o.Reason != backend.ReasonReuse {
		t.Fatalf("Authenticate = %+v, want expired by reuse", o)
	}
	before := e.f.validates.Load()
	e.m.Validate(ctx, Input{User: "U"})
	if got := e.f.validates.Load() - before; got != 1 {
		t.Errorf("%d validate calls after the reuse, want 1: the cached verdict was kept", got)
	}
}
