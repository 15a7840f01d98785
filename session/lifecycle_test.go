package session

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
)

// setupLocal is setup in local mode with the fake verifier.
func setupLocal(t testing.TB, mod func(*Options)) (*env, *verifier) {
	t.Helper()
	v := &verifier{}
	e := setup(t, 0, func(o *Options) {
		o.Local = v
		if mod != nil {
			mod(o)
		}
	})
	v.f = e.f // before any request
	return e, v
}

func TestLocalMode(t *testing.T) {
	t.Run("valid tokens make no backend call", func(t *testing.T) {
		e, v := setupLocal(t, nil)
		e.f.add("L", "user", e.clock.Now().Add(time.Hour))
		for range 10 {
			o := e.m.Authenticate(context.Background(), Input{User: "L", Guest: "G"})
			if o.State != StateUser || o.Token != "L" || !o.Delete.Guest || o.Identity.User["sub"] != "id-L" {
				t.Fatalf("got %+v", o)
			}
		}
		if got := e.f.calls(); got != [3]int64{0, 0, 0} {
			t.Fatalf("calls (validate, refresh, guest) = %v, want none", got)
		}
		if got := v.calls.Load(); got != 1 {
			t.Fatalf("verifier calls = %d, want 1: the verdict is kept for cacheTTL", got)
		}
	})
	t.Run("a local verdict is kept for cacheTTL, never past exp", func(t *testing.T) {
		e, v := setupLocal(t, nil) // cacheTTL 2s
		e.f.add("L", "user", e.clock.Now().Add(3*time.Second))
		auth := func() State { return e.m.Authenticate(context.Background(), Input{User: "L"}).State }
		auth()
		e.clock.Advance(1500 * time.Millisecond)
		auth()
		if got := v.calls.Load(); got != 1 {
			t.Fatalf("verifier calls within cacheTTL = %d, want 1", got)
		}
		e.clock.Advance(time.Second) // past cacheTTL
		auth()
		if got := v.calls.Load(); got != 2 {
			t.Fatalf("verifier calls after cacheTTL = %d, want 2", got)
		}
		e.clock.Advance(time.Second) // past exp, within the new cacheTTL
		if o := e.m.Authenticate(context.Background(), Input{User: "L"}); o.Token == "L" {
			t.Fatalf("a token past its exp was still served from the local verdict: %+v", o)
		}
	})
	t.Run("cacheTTL 0 verifies every request", func(t *testing.T) {
		e, v := setupLocal(t, func(o *Options) { o.CacheTTL = 0 })
		e.f.add("L", "user", e.clock.Now().Add(time.Hour))
		for range 3 {
			e.m.Authenticate(context.Background(), Input{User: "L"})
		}
		if got := v.calls.Load(); got != 3 {
			t.Fatalf("verifier calls = %d, want 3 with cacheTTL 0", got)
		}
	})
	t.Run("a locally invalid token is refreshed and the new one verified locally", func(t *testing.T) {
		e, _ := setupLocal(t, nil)
		o := e.m.Authenticate(context.Background(), Input{User: "X"})
		if o.State != StateUser || !o.Refreshed || o.Set.User == "" || o.Identity.User["sub"] != "id-"+o.Set.User {
			t.Fatalf("got %+v", o)
		}
		if got := e.f.calls(); got != [3]int64{0, 1, 0} {
			t.Fatalf("calls = %v, want one refresh and no validation", got)
		}
	})
	t.Run("an expired guest is replaced", func(t *testing.T) {
		e, _ := setupLocal(t, nil)
		e.f.add("G", "guest", e.clock.Now().Add(time.Minute))
		e.clock.Advance(time.Minute)
		o := e.m.Authenticate(context.Background(), Input{Guest: "G"})
		if o.State != StateGuest || !o.Minted {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("verifier unavailable: no refresh, no guest, no change", func(t *testing.T) {
		e, v := setupLocal(t, nil)
		v.down.Store(true)
		for _, in := range []Input{{User: "L", Guest: "G"}, {Guest: "G"}} {
			o := e.m.Authenticate(context.Background(), in)
			if o.State != StateUnavailable || o.Delete.Any() || o.Set != (Cookies{}) {
				t.Fatalf("%+v: got %+v", in, o)
			}
		}
		if got := e.f.calls(); got != [3]int64{0, 0, 0} {
			t.Fatalf("calls = %v", got)
		}
	})
	t.Run("Validate verifies locally", func(t *testing.T) {
		e, _ := setupLocal(t, nil)
		e.f.add("L", "user", e.clock.Now().Add(time.Hour))
		if id := e.m.Validate(context.Background(), Input{User: "L"}).User(); id == nil || id.Type != "user" {
			t.Fatalf("Validate().User() = %+v", id)
		}
		if got := e.f.calls(); got != [3]int64{0, 0, 0} {
			t.Fatalf("calls = %v", got)
		}
	})
}

func TestLocalRevalidation(t *testing.T) {
	const interval = 10 * time.Second
	revalidating := func(o *Options) {
		o.RevalidateInterval = interval
		o.GuestFallback = false
	}
	auth := func(e *env, in Input) Outcome { return e.m.Authenticate(context.Background(), in) }

	t.Run("at most once per interval; a revoked token stops within it", func(t *testing.T) {
		e, _ := setupLocal(t, revalidating)
		e.f.add("L", "user", e.clock.Now().Add(time.Hour))
		steps := []struct {
			advance   time.Duration
			revoke    bool
			state     State
			validates int64
		}{
			{0, false, StateUser, 1}, // the first request in the process confirms
			{5 * time.Second, false, StateUser, 1},
			{5 * time.Second, false, StateUser, 2}, // one interval later
			{2 * time.Second, true, StateUser, 2},  // revoked at the backend: still within the interval
			{3 * time.Second, false, StateUser, 2},
			{5 * time.Second, false, StateExpired, 3}, // the next confirmation finds it revoked
			{time.Second, false, StateExpired, 3},     // remembered: no call per request
		}
		e.f.setMode("refresh", "403")
		for i, s := range steps {
			e.clock.Advance(s.advance)
			if s.revoke {
				e.f.drop("L")
			}
			o := auth(e, Input{User: "L"})
			if o.State != s.state || e.f.validates.Load() != s.validates {
				t.Fatalf("step %d: state %s with %d validate calls, want %s with %d", i, o.State, e.f.validates.Load(), s.state, s.validates)
			}
		}
	})
	t.Run("backend unavailable keeps the local verdict", func(t *testing.T) {
		e, _ := setupLocal(t, revalidating)
		e.f.add("L", "user", e.clock.Now().Add(time.Hour))
		e.f.setMode("validate", "500")
		for range 3 {
			if o := auth(e, Input{User: "L"}); o.State != StateUser || o.Delete.Any() || o.Set != (Cookies{}) {
				t.Fatalf("got %+v", o)
			}
		}
		if got := e.f.validates.Load(); got != 1 {
			t.Fatalf("validate calls = %d, want 1 (retried after max(CacheTTL, 1s))", got)
		}
		e.clock.Advance(2 * time.Second)
		e.f.setMode("validate", "")
		auth(e, Input{User: "L"})
		e.clock.Advance(9 * time.Second)
		auth(e, Input{User: "L"})
		if got := e.f.validates.Load(); got != 2 {
			t.Fatalf("validate calls = %d, want 2 (confirmed once the backend is back)", got)
		}
	})
	t.Run("a refreshed token counts as confirmed", func(t *testing.T) {
		e, _ := setupLocal(t, revalidating)
		o := auth(e, Input{User: "X"})
		if o.State != StateUser || !o.Refreshed {
			t.Fatalf("got %+v", o)
		}
		if o := auth(e, Input{User: o.Token}); o.State != StateUser {
			t.Fatalf("new token: %+v", o)
		}
		if got := e.f.calls(); got != [3]int64{0, 1, 0} {
			t.Fatalf("calls = %v, want one refresh and no validation", got)
		}
	})
	t.Run("concurrent first requests confirm once", func(t *testing.T) {
		e, _ := setupLocal(t, revalidating)
		e.f.add("L", "user", e.clock.Now().Add(time.Hour))
		gate := make(chan struct{})
		e.f.setGate(gate)
		const n = 20
		joined := make(chan struct{}, 2*n)
		ctx := doneCounter{context.Background(), joined}
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if o := e.m.Authenticate(ctx, Input{User: "L"}); o.State != StateUser {
					t.Errorf("got %+v", o)
				}
			})
		}
		for range n {
			<-joined
		}
		close(gate)
		wg.Wait()
		if got := e.f.validates.Load(); got != 1 {
			t.Fatalf("validate calls = %d, want 1", got)
		}
	})
	t.Run("Forget holds a token invalid for an interval", func(t *testing.T) {
		e, _ := setupLocal(t, revalidating)
		e.f.add("L", "user", e.clock.Now().Add(time.Hour))
		auth(e, Input{User: "L"})
		e.m.Forget("L")
		e.f.setMode("refresh", "401")
		if o := auth(e, Input{User: "L"}); o.State != StateExpired {
			t.Fatalf("a forgotten token was served: %+v", o)
		}
	})
}

// dual is the dual-token configuration with rotated refresh tokens.
func setupDual(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	e := setup(t, 0, func(o *Options) {
		o.DualToken = true
		if mod != nil {
			mod(o)
		}
	})
	e.f.rotate = true
	e.f.add("U", "user", e.clock.Now().Add(time.Hour))
	e.f.add("G", "guest", e.clock.Now().Add(time.Hour))
	return e
}

func TestDualToken(t *testing.T) {
	all := CookieSet{User: true, Guest: true, Refresh: true}
	tests := []struct {
		name  string
		mod   func(*Options)
		mode  string // of the refresh endpoint
		in    Input
		want  want
		creds []string // the credentials of the refresh calls
	}{
		{"valid access token: no refresh, refresh cookie kept", nil, "", Input{User: "U", Refresh: "R0"},
			want{state: StateUser, token: "cookie:user", calls: [3]int64{1, 0, 0}}, nil},
		{"invalid access token: refreshed with the refresh cookie, rotated", nil, "", Input{User: "X", Guest: "G", Refresh: "R0"},
			want{state: StateUser, refreshed: true, setUser: true, setRefresh: true, token: "new", del: CookieSet{Guest: true}, calls: [3]int64{2, 1, 0}}, []string{"R0"}},
		{"access cookie missing: the refresh cookie is refreshed at once", nil, "", Input{Refresh: "R0"},
			want{state: StateUser, refreshed: true, setUser: true, setRefresh: true, token: "new", calls: [3]int64{1, 1, 0}}, []string{"R0"}},
		{"access cookie missing, guest carried: the refresh cookie comes first", nil, "", Input{Guest: "G", Refresh: "R0"},
			want{state: StateUser, refreshed: true, setUser: true, setRefresh: true, token: "new", del: CookieSet{Guest: true}, calls: [3]int64{1, 1, 0}}, []string{"R0"}},
		{"invalid access token, no refresh cookie: no refresh, guest fallback", nil, "", Input{User: "X"},
			want{state: StateGuest, minted: true, setGuest: true, token: "new", del: CookieSet{User: true}, calls: [3]int64{1, 0, 1}}, nil},
		{"invalid access token, no refresh cookie, guests disabled: carried deleted", func(o *Options) { o.GuestEnabled = false }, "", Input{User: "X", Guest: "G"},
			want{state: StateAnonymous, del: CookieSet{User: true, Guest: true}, calls: [3]int64{1, 0, 0}}, nil},
		{"refresh expired: guest, access and refresh cookies deleted", nil, "401", Input{User: "X", Refresh: "R0"},
			want{state: StateGuest, reason: backend.ReasonExpired, minted: true, setGuest: true, token: "new", del: CookieSet{User: true, Refresh: true}, calls: [3]int64{1, 1, 1}}, []string{"R0"}},
		{"refresh revoked, refresh cookie alone: deleted", nil, "403", Input{Refresh: "R0"},
			want{state: StateGuest, reason: backend.ReasonRevoked, minted: true, setGuest: true, token: "new", del: CookieSet{Refresh: true}, calls: [3]int64{0, 1, 1}}, []string{"R0"}},
		{"refresh expired, guests disabled: all carried deleted", func(o *Options) { o.GuestEnabled = false }, "401", Input{Refresh: "R0", Guest: "G"},
			want{state: StateAnonymous, reason: backend.ReasonExpired, del: CookieSet{Guest: true, Refresh: true}, calls: [3]int64{0, 1, 0}}, []string{"R0"}},
		{"refresh unknown: the refresh cookie is kept", nil, "no-token", Input{User: "X", Refresh: "R0"},
			want{state: StateGuest, reason: backend.ReasonUnknown, minted: true, setGuest: true, token: "new", del: CookieSet{User: true}, calls: [3]int64{1, 1, 1}}, []string{"R0"}},
		{"refresh reuse: all deleted", nil, "409", Input{User: "X", Guest: "G", Refresh: "R0"},
			want{state: StateExpired, reason: backend.ReasonReuse, del: all, calls: [3]int64{1, 1, 0}}, []string{"R0"}},
		{"refresh network: nothing changes", nil, "500", Input{Refresh: "R0", Guest: "G"},
			want{state: StateUnavailable, reason: backend.ReasonNetwork, calls: [3]int64{0, 1, 0}}, []string{"R0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setupDual(t, tt.mod)
			e.f.setMode("refresh", tt.mode)
			o := e.m.Authenticate(context.Background(), tt.in)
			check(t, tt.in, o, tt.want, e.f.calls())
			if got := e.f.usedCreds(); fmt.Sprint(got) != fmt.Sprint(tt.creds) {
				t.Errorf("refresh credentials = %q, want %q", got, tt.creds)
			}
			if o.Set.Refresh != "" && !strings.HasPrefix(o.Set.Refresh, "r-") {
				t.Errorf("Set.Refresh = %q, want the rotated refresh token", o.Set.Refresh)
			}
		})
	}
}

func TestDualTokenForcedRefresh(t *testing.T) {
	e := setupDual(t, nil)
	o := e.m.Refresh(context.Background(), Input{Refresh: "R0"})
	if o.State != StateUser || !o.Refreshed || o.Set.Refresh == "" || o.Set.User == "" {
		t.Fatalf("got %+v", o)
	}
	// No refresh cookie: the valid access token is kept, nothing refreshed.
	if o := e.m.Refresh(context.Background(), Input{User: "U"}); o.State != StateUser || o.Refreshed || o.Token != "U" {
		t.Fatalf("without a refresh cookie: %+v", o)
	}
	if got := e.f.usedCreds(); fmt.Sprint(got) != "[R0]" {
		t.Fatalf("refresh credentials = %q", got)
	}
}

func TestProactiveRefresh(t *testing.T) {
	tests := []struct {
		name  string
		exp   time.Duration // of the user token, from now
		mode  string        // of the refresh endpoint
		guest bool          // the token is a guest token
		want  want
	}{
		{"inside the window: refreshed", time.Minute, "",
			false, want{state: StateUser, refreshed: true, setUser: true, token: "new", del: CookieSet{Guest: true}, calls: [3]int64{2, 1, 0}}},
		{"outside the window: kept", 3 * time.Minute, "",
			false, want{state: StateUser, token: "cookie:user", del: CookieSet{Guest: true}, calls: [3]int64{1, 0, 0}}},
		{"a guest token is not refreshed", time.Minute, "",
			true, want{state: StateGuest, token: "cookie:user", calls: [3]int64{1, 0, 0}}},
		{"expired failure keeps the still-valid token", time.Minute, "401",
			false, want{state: StateUser, token: "cookie:user", del: CookieSet{Guest: true}, calls: [3]int64{1, 1, 0}}},
		{"network failure keeps the still-valid token", time.Minute, "500",
			false, want{state: StateUser, token: "cookie:user", del: CookieSet{Guest: true}, calls: [3]int64{1, 1, 0}}},
		{"reuse is a terminal logout", time.Minute, "409",
			false, want{state: StateExpired, reason: backend.ReasonReuse, del: CookieSet{User: true, Guest: true}, calls: [3]int64{1, 1, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, 0, func(o *Options) { o.Proactive, o.ProactiveWindow = true, 2*time.Minute })
			typ := "user"
			if tt.guest {
				typ = "guest"
			}
			e.f.add("P", typ, e.clock.Now().Add(tt.exp))
			e.f.setMode("refresh", tt.mode)
			in := Input{User: "P", Guest: "G"}
			o := e.m.Authenticate(context.Background(), in)
			check(t, in, o, tt.want, e.f.calls())
		})
	}
	t.Run("local mode, dual token: the refresh cookie is used", func(t *testing.T) {
		e, _ := setupLocal(t, func(o *Options) {
			o.Proactive, o.ProactiveWindow, o.DualToken = true, 2*time.Minute, true
		})
		e.f.rotate = true
		e.f.add("P", "user", e.clock.Now().Add(time.Minute))
		o := e.m.Authenticate(context.Background(), Input{User: "P", Refresh: "R0"})
		if o.State != StateUser || !o.Refreshed || o.Set.Refresh == "" {
			t.Fatalf("got %+v", o)
		}
		if c := e.f.usedCreds(); fmt.Sprint(c) != "[R0]" || e.f.validates.Load() != 0 {
			t.Fatalf("credentials %q, %d validate calls", c, e.f.validates.Load())
		}
	})
}

// setupRace is the issue-4 race: refresh tokens are single-use at the
// backend (a second use answers 409), successor records are on.
func setupRace(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	e := setup(t, 0, func(o *Options) {
		o.SuccessorTTL = 30 * time.Second
		if mod != nil {
			mod(o)
		}
	})
	e.f.oneUse = true
	return e
}

// tabs runs n tabs of per requests each, all carrying in, concurrently.
func tabs(e *env, n, per int, in Input) []Outcome {
	outs := make([]Outcome, n*per)
	var wg sync.WaitGroup
	for tab := range n {
		wg.Go(func() {
			var inner sync.WaitGroup
			for i := range per {
				inner.Go(func() { outs[tab*per+i] = e.m.Authenticate(context.Background(), in) })
			}
			inner.Wait()
		})
	}
	wg.Wait()
	return outs
}

// sameNewToken fails unless every outcome is the one refresh to a new user
// token.
func sameNewToken(t *testing.T, outs []Outcome) string {
	t.Helper()
	tok := outs[0].Set.User
	for i, o := range outs {
		if o.State != StateUser || !o.Refreshed || o.Token != tok || o.Set.User != tok || tok == "" || o.Delete.Any() {
			t.Fatalf("request %d: %+v, want the shared new token %q", i, o, tok)
		}
	}
	return tok
}

func TestThreeTabsRace(t *testing.T) {
	client := "Mozilla/5.0|192.0.2.1"
	t.Run("concurrent", func(t *testing.T) {
		for range 20 { // many interleavings: joined flights and successor records
			e := setupRace(t, nil)
			outs := tabs(e, 3, 5, Input{User: "OLD", ClientID: client})
			sameNewToken(t, outs)
			if got := e.f.refreshes.Load(); got != 1 {
				t.Fatalf("refresh calls = %d, want 1", got)
			}
		}
	})
	t.Run("concurrent, all joining one flight", func(t *testing.T) {
		e := setupRace(t, nil)
		e.cache.Set(context.Background(), Key("OLD"), Entry{Fresh: e.clock.Now().Add(time.Minute)})
		gate := make(chan struct{})
		e.f.setGate(gate)
		joined := make(chan struct{}, 64)
		ctx := doneCounter{context.Background(), joined}
		outs := make([]Outcome, 15)
		var wg sync.WaitGroup
		for i := range outs {
			wg.Go(func() { outs[i] = e.m.Authenticate(ctx, Input{User: "OLD", ClientID: client}) })
		}
		for range outs {
			<-joined
		}
		close(gate)
		wg.Wait()
		sameNewToken(t, outs)
		if got := e.f.refreshes.Load(); got != 1 {
			t.Fatalf("refresh calls = %d, want 1", got)
		}
	})
	t.Run("sequential waves: later tabs get the successor", func(t *testing.T) {
		e := setupRace(t, nil)
		var outs []Outcome
		for range 3 {
			outs = append(outs, tabs(e, 1, 5, Input{User: "OLD", ClientID: client})...)
			e.clock.Advance(5 * time.Second)
		}
		tok := sameNewToken(t, outs)
		if got := e.f.refreshes.Load(); got != 1 {
			t.Fatalf("refresh calls = %d, want 1", got)
		}
		// The new token itself is simply valid.
		if o := e.m.Authenticate(context.Background(), Input{User: tok, ClientID: client}); o.State != StateUser || o.Refreshed {
			t.Fatalf("new token: %+v", o)
		}
	})
	t.Run("another client gets no successor: the backend sees reuse", func(t *testing.T) {
		e := setupRace(t, nil)
		sameNewToken(t, tabs(e, 1, 5, Input{User: "OLD", ClientID: client}))
		thief := Input{User: "OLD", ClientID: "curl/8|198.51.100.7"}
		for _, o := range tabs(e, 2, 3, thief) {
			if o.State != StateExpired || o.Reason != backend.ReasonReuse || o.Set != (Cookies{}) {
				t.Fatalf("thief: %+v", o)
			}
		}
		if got := e.f.refreshes.Load(); got != 2 {
			t.Fatalf("refresh calls = %d, want 2 (the thief's reaches the backend once)", got)
		}
		// The legitimate client still gets its successor.
		sameNewToken(t, tabs(e, 1, 2, Input{User: "OLD", ClientID: client}))
	})
	t.Run("no client id: no successor", func(t *testing.T) {
		e := setupRace(t, nil)
		sameNewToken(t, tabs(e, 1, 1, Input{User: "OLD"}))
		if o := e.m.Authenticate(context.Background(), Input{User: "OLD"}); o.State != StateExpired {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("past SuccessorTTL the backend is asked", func(t *testing.T) {
		e := setupRace(t, nil)
		sameNewToken(t, tabs(e, 1, 1, Input{User: "OLD", ClientID: client}))
		e.clock.Advance(30 * time.Second)
		if o := e.m.Authenticate(context.Background(), Input{User: "OLD", ClientID: client}); o.State != StateExpired || o.Reason != backend.ReasonReuse {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("successors disabled: the second wave meets reuse", func(t *testing.T) {
		e := setupRace(t, func(o *Options) { o.SuccessorTTL = 0 })
		sameNewToken(t, tabs(e, 1, 1, Input{User: "OLD", ClientID: client}))
		if o := e.m.Authenticate(context.Background(), Input{User: "OLD", ClientID: client}); o.State != StateExpired {
			t.Fatalf("got %+v", o)
		}
	})
	t.Run("dual token: the rotated refresh token's successor", func(t *testing.T) {
		e := setupRace(t, func(o *Options) { o.DualToken = true })
		e.f.rotate = true
		outs := tabs(e, 3, 5, Input{Refresh: "R0", ClientID: client})
		sameNewToken(t, outs)
		e.clock.Advance(5 * time.Second)
		outs = append(outs, tabs(e, 1, 3, Input{User: "EXPIRED", Refresh: "R0", ClientID: client})...)
		sameNewToken(t, outs)
		for i, o := range outs {
			if o.Set.Refresh != outs[0].Set.Refresh || o.Set.Refresh == "" {
				t.Fatalf("request %d: refresh cookie %q, want %q", i, o.Set.Refresh, outs[0].Set.Refresh)
			}
		}
		if got := e.f.refreshes.Load(); got != 1 {
			t.Fatalf("refresh calls = %d, want 1", got)
		}
	})
}

func TestSuccessorEncrypted(t *testing.T) {
	client := "Mozilla/5.0|192.0.2.1"
	e := setupRace(t, nil)
	e.f.rotate = true
	o := e.m.Authenticate(context.Background(), Input{User: "OLD", ClientID: client})
	if o.State != StateUser || o.Set.User == "" || o.Set.Refresh == "" {
		t.Fatalf("got %+v", o)
	}
	store := e.m.successors.(*MemorySuccessors)
	raw, ok, _ := store.Get(context.Background(), Key("OLD"))
	if !ok {
		t.Fatal("no successor record under Key(old token)")
	}
	for _, secret := range []string{o.Set.User, o.Set.Refresh, "OLD", client, Key(client)} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("the stored record contains %q in clear", secret)
		}
	}
	tests := []struct {
		name, cred, key, client string
		ok                      bool
	}{
		{"holder of the old token, same client", "OLD", Key("OLD"), client, true},
		{"another client", "OLD", Key("OLD"), "curl/8|198.51.100.7", false},
		{"another token", "OTHER", Key("OLD"), client, false},
		{"moved to another key", "OLD", Key("OTHER"), client, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := openSuccessor(tt.cred, tt.key, tt.client, raw)
			if (err == nil) != tt.ok {
				t.Fatalf("open: err = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && (got.Access != o.Set.User || got.Refresh != o.Set.Refresh) {
				t.Fatalf("opened %q/%q, want %q/%q", got.Access, got.Refresh, o.Set.User, o.Set.Refresh)
			}
		})
	}
	if _, err := openSuccessor("OLD", Key("OLD"), client, raw[:10]); err == nil {
		t.Fatal("a truncated record opened")
	}
}

func TestLifecycleStoresBounded(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s := NewMemorySuccessors(3, c.Now)
	r := NewMemoryRevalidations(3, c.Now)
	for i := range 10 {
		k := fmt.Sprint("k", i)
		s.Set(ctx, k, []byte("x"), time.Minute)
		r.Confirm(ctx, k, true, c.Now().Add(time.Minute))
		if s.Len() > 3 || r.Len() > 3 {
			t.Fatalf("stores hold %d and %d entries, bound 3", s.Len(), r.Len())
		}
	}
	if _, ok, _ := s.Get(ctx, "k9"); !ok {
		t.Fatal("the newest successor was evicted")
	}
	if _, ok, _ := r.Confirmed(ctx, "k0"); ok {
		t.Fatal("the oldest confirmation was kept")
	}
	c.Advance(time.Minute)
	if _, ok, _ := s.Get(ctx, "k9"); ok {
		t.Fatal("a successor outlived its TTL")
	}
	if _, ok, _ := r.Confirmed(ctx, "k9"); ok {
		t.Fatal("a confirmation outlived its time")
	}
	s.Sweep()
	r.Sweep()
	if s.Len()+r.Len() != 0 {
		t.Fatalf("Sweep left %d entries", s.Len()+r.Len())
	}
}

func TestManagerStoresBounded(t *testing.T) {
	e, _ := setupLocal(t, func(o *Options) {
		o.CacheSize, o.RevalidateInterval, o.SuccessorTTL = 5, time.Minute, time.Minute
	})
	for i := range 20 {
		tok := fmt.Sprint("L", i)
		e.f.add(tok, "user", e.clock.Now().Add(time.Hour))
		e.m.Authenticate(context.Background(), Input{User: tok})
		e.m.Authenticate(context.Background(), Input{User: fmt.Sprint("X", i), ClientID: "c"})
	}
	if n, s := e.m.revals.(*MemoryRevalidations).Len(), e.m.successors.(*MemorySuccessors).Len(); n != 5 || s != 5 {
		t.Fatalf("revalidations %d, successors %d; want 5 each", n, s)
	}
}
