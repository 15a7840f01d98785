package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
)

// peers is several Managers (instances) in front of one fake backend
// (single-use refresh credentials: a second use is 409) while Redis is
// down: the shared lock fails, each instance has only its own memory, and
// each reaches the others through an in-process Relay, as store.peers
// does over HTTP.
type peers struct {
	f      *fake
	clock  *clock
	lock   *fakeLock
	down   []*atomic.Bool // per instance: true, it cannot reach the lock (its Redis view)
	ms     []*Manager
	relays []*memRelay
	client string
}

// memRelay is instance self's Relay: it asks the owner its view names
// (owner, -1 for nobody) by calling the owner's Relayed directly, and
// answers for the owner as package peer's handler does when the two are
// asking each other about one token: the smaller index yields.
type memRelay struct {
	p     *peers
	self  int
	asked atomic.Int64
	// waiting is the owner this instance is asking, by key; guarded by mu.
	waiting map[string]int

	mu    sync.Mutex
	owner func(key string) int // guarded by mu
	err   error                // guarded by mu; non-nil: the owner does not answer
	// before, if set, runs before the owner is asked.
	before func() // guarded by mu
	// answer, if set, replaces the owner's answer.
	answer *RelayAnswer // guarded by mu
	errs   []error      // what each owner's Relayed returned; guarded by mu
}

func (r *memRelay) Refresh(ctx context.Context, key, cred, client string) (RelayAnswer, bool, error) {
	r.mu.Lock()
	o, err, before, answer := r.owner(key), r.err, r.before, r.answer
	r.mu.Unlock()
	if o < 0 || o == r.self {
		return RelayAnswer{}, false, nil
	}
	r.asked.Add(1)
	if err != nil {
		return RelayAnswer{}, true, err
	}
	r.mu.Lock()
	r.waiting[key] = o
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.waiting, key)
		r.mu.Unlock()
	}()
	if before != nil {
		before()
	}
	var a RelayAnswer
	if o < r.self && r.p.relays[o].waitingFor(key) == r.self {
		err = errYield
	} else {
		a, err = r.p.ms[o].Relayed(ctx, cred, client)
	}
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
	if answer != nil {
		a = *answer
	}
	return a, true, err
}

// errYield is the owner's answer when it yields (409 between peers).
var errYield = errors.New("the owner yields")

// waitingFor returns the owner this instance is asking about key, or -1.
func (r *memRelay) waitingFor(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o, ok := r.waiting[key]; ok {
		return o
	}
	return -1
}

func (r *memRelay) set(f func(*memRelay)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r)
}

// newPeers starts n instances whose views all name instance ownerIdx as
// the owner of every credential; relay false gives them no Relay (today's
// behaviour without store.peers).
func newPeers(t *testing.T, n, ownerIdx int, relay bool) *peers {
	t.Helper()
	p := &peers{clock: newClock(), lock: newFakeLock(), client: "Mozilla/5.0|192.0.2.1"}
	p.lock.err = errLockDown
	p.f = newFake(t, p.clock)
	p.f.oneUse = true
	for i := range n {
		o := defaults()
		o.SuccessorTTL = 30 * time.Second
		o.Backend = p.f.client(t, 2*time.Second)
		o.Now = p.clock.Now
		down := new(atomic.Bool)
		p.down = append(p.down, down)
		o.RefreshLock = instanceLock{p.lock, down}
		o.RefreshLockTTL = 5 * time.Second
		// The old token is known invalid, so every request goes straight
		// to the refresh.
		o.Cache = NewMemoryCache(100, p.clock.Now)
		o.Cache.Set(context.Background(), Key("OLD"), Entry{Fresh: p.clock.Now().Add(time.Minute)})
		r := &memRelay{p: p, self: i, owner: func(string) int { return ownerIdx }, waiting: map[string]int{}}
		p.relays = append(p.relays, r)
		if relay {
			o.Relay = r
		}
		m, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		p.ms = append(p.ms, m)
	}
	return p
}

// instanceLock is one instance's view of the shared lock: while down, it
// cannot reach it (Redis unavailable to this instance only).
type instanceLock struct {
	l    *fakeLock
	down *atomic.Bool
}

func (l instanceLock) TryLock(ctx context.Context, key string, ttl time.Duration) (int64, bool, error) {
	if l.down.Load() {
		return 0, false, errLockDown
	}
	return l.l.TryLock(ctx, key, ttl)
}

func (l instanceLock) Unlock(ctx context.Context, key string, token int64) error {
	if l.down.Load() {
		return errLockDown
	}
	return l.l.Unlock(ctx, key, token)
}

func (l instanceLock) Wait(ctx context.Context, key string) error {
	if l.down.Load() {
		return errLockDown
	}
	return l.l.Wait(ctx, key)
}

func (p *peers) asked() int64 {
	var n int64
	for _, r := range p.relays {
		n += r.asked.Load()
	}
	return n
}

// A storm of one expired token over three instances while Redis is down:
// without peers each instance refreshes it and the backend sees reuse;
// with them the owner refreshes once and everyone gets its new token.
func TestRelayOneRefreshWhileRedisIsDown(t *testing.T) {
	const instances, n = 3, 30
	for _, relay := range []bool{false, true} {
		t.Run(fmt.Sprintf("relay %v", relay), func(t *testing.T) {
			p := newPeers(t, instances, 1, relay)
			p.f.add("OLD", "user", p.clock.Now().Add(-time.Minute))
			gate := make(chan struct{})
			entered := make(chan string, 4*n)
			p.f.mu.Lock()
			p.f.gate, p.f.entered = gate, entered
			p.f.mu.Unlock()
			asking := make(chan struct{}, n)
			for _, r := range p.relays {
				r.set(func(r *memRelay) { r.before = func() { asking <- struct{}{} } })
			}
			outs := make([]Outcome, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					outs[i] = p.ms[i%instances].Authenticate(context.Background(), Input{User: "OLD", ClientID: p.client})
				})
			}
			// Hold the backend until every instance has a refresh in
			// flight: with relays, the owner's refresh is at the backend
			// and the others are asking the owner; without, each
			// instance's refresh is at the backend.
			want := instances
			if relay {
				want = 1
			}
			seen := 0
			for seen < want {
				if ep := <-entered; ep == "refresh" {
					seen++
				}
			}
			for n := 0; relay && n < instances-1; {
				select {
				case <-asking: // a non-owner is asking the owner
					n++
				case ep := <-entered:
					if ep == "refresh" {
						close(gate)
						wg.Wait()
						t.Fatal("a second refresh reached the backend while the owner's was in flight")
					}
				}
			}
			close(gate)
			wg.Wait()
			refreshes := p.f.refreshes.Load()
			if !relay {
				expired := 0
				for _, o := range outs {
					if o.State != StateUser {
						expired++
					}
				}
				t.Logf("without peers: %d backend refreshes, %d of %d requests lost the session", refreshes, expired, n)
				if refreshes != instances || expired == 0 {
					t.Fatalf("without peers: %d refreshes, %d lost sessions; want %d and some (the race this fixes)", refreshes, expired, instances)
				}
				return
			}
			sameNewToken(t, outs)
			if refreshes != 1 {
				t.Fatalf("backend refreshes = %d, want 1 across %d instances", refreshes, instances)
			}
			if got := p.relays[1].asked.Load(); got != 0 {
				t.Fatalf("the owner asked %d times, want 0", got)
			}
		})
	}
}

func TestRelayAfterTheRefresh(t *testing.T) {
	p := newPeers(t, 3, 1, true)
	p.f.add("OLD", "user", p.clock.Now().Add(-time.Minute))
	ctx := context.Background()
	first := p.ms[0].Authenticate(ctx, Input{User: "OLD", ClientID: p.client})
	if first.State != StateUser || !first.Refreshed {
		t.Fatalf("first: %+v", first)
	}
	// A tab of the same browser still sending the old token, on a third
	// instance: the owner answers its successor record.
	again := p.ms[2].Authenticate(ctx, Input{User: "OLD", ClientID: p.client})
	if again.State != StateUser || again.Token != first.Token {
		t.Fatalf("same client on another instance: %+v, want the new token", again)
	}
	// On the asking instance itself, the successor is now in its own
	// memory: no relay.
	asked := p.asked()
	if o := p.ms[0].Authenticate(ctx, Input{User: "OLD", ClientID: p.client}); o.Token != first.Token {
		t.Fatalf("same client on the first instance again: %+v", o)
	}
	if p.asked() != asked {
		t.Fatal("a relay for a credential whose successor this instance holds")
	}
	if got := p.f.refreshes.Load(); got != 1 {
		t.Fatalf("backend refreshes = %d, want 1", got)
	}
	// Another client holding the old token never gets the relayed answer:
	// the owner's refresh for it meets the backend's reuse detection.
	thief := p.ms[2].Authenticate(ctx, Input{User: "OLD", ClientID: "curl/8|198.51.100.7"})
	if thief.State != StateExpired || thief.Reason != backend.ReasonReuse || thief.Token != "" {
		t.Fatalf("another client: %+v, want a reuse logout", thief)
	}
	// The reuse is remembered by the asking instance: no second relay.
	asked = p.asked()
	if o := p.ms[2].Authenticate(ctx, Input{User: "OLD", ClientID: "curl/8|198.51.100.7"}); o.Reason != backend.ReasonReuse {
		t.Fatalf("the thief again: %+v", o)
	}
	if p.asked() != asked {
		t.Fatal("a remembered failure was relayed again")
	}
}

func TestRelayFallsBackToALocalRefresh(t *testing.T) {
	tests := []struct {
		name  string
		set   func(r *memRelay)
		asked int64
	}{
		{"nobody to ask", func(r *memRelay) { r.owner = func(string) int { return -1 } }, 0},
		{"this instance owns it", func(r *memRelay) { r.owner = func(string) int { return 0 } }, 0},
		{"the owner does not answer", func(r *memRelay) { r.err = errors.New("peer: dial tcp: connection refused") }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPeers(t, 2, 1, true)
			p.f.add("OLD", "user", p.clock.Now().Add(-time.Minute))
			p.relays[0].set(tt.set)
			o := p.ms[0].Authenticate(context.Background(), Input{User: "OLD", ClientID: p.client})
			if o.State != StateUser || !o.Refreshed {
				t.Fatalf("got %+v, want a refresh in this instance", o)
			}
			if got := p.f.refreshes.Load(); got != 1 {
				t.Fatalf("backend refreshes = %d, want 1", got)
			}
			if got := p.asked(); got != tt.asked {
				t.Fatalf("owners asked %d times, want %d", got, tt.asked)
			}
		})
	}
}

// With the lock answering (Redis up), the owner still refreshes, under the
// lock, which also keeps out an instance that cannot reach the owner.
func TestRelayOwnerTakesTheLock(t *testing.T) {
	for _, answers := range []bool{true, false} {
		t.Run(fmt.Sprintf("owner answers %v", answers), func(t *testing.T) {
			p := newPeers(t, 3, 1, true)
			p.lock.err = nil
			if !answers {
				p.relays[0].set(func(r *memRelay) { r.err = errors.New("peer: dial tcp: connection refused") })
			}
			p.f.add("OLD", "user", p.clock.Now().Add(-time.Minute))
			o := p.ms[0].Authenticate(context.Background(), Input{User: "OLD", ClientID: p.client})
			if o.State != StateUser || !o.Refreshed {
				t.Fatalf("got %+v", o)
			}
			if got := p.asked(); got != 1 {
				t.Fatalf("owners asked %d times, want 1", got)
			}
			if got := p.f.refreshes.Load(); got != 1 {
				t.Fatalf("backend refreshes = %d, want 1", got)
			}
			p.lock.mu.Lock()
			fence := p.lock.fence
			p.lock.mu.Unlock()
			if fence != 1 {
				t.Fatalf("the lock was taken %d times, want 1 (by the owner, or by this instance when the owner did not answer)", fence)
			}
		})
	}
}

// While Redis flaps, instances disagree about it: the owner cannot reach
// it and refreshes by itself, while another instance still can. That
// instance asks the owner too, rather than taking the lock the owner is
// not using: one refresh, no reuse.
func TestRelayWhileInstancesDisagreeAboutRedis(t *testing.T) {
	p := newPeers(t, 2, 0, true)
	p.lock.err = nil
	p.down[0].Store(true) // the owner's view: Redis is unavailable
	p.f.add("OLD", "user", p.clock.Now().Add(-time.Minute))
	gate := make(chan struct{})
	entered := make(chan string, 8)
	p.f.mu.Lock()
	p.f.gate, p.f.entered = gate, entered
	p.f.mu.Unlock()
	asking := make(chan struct{}, 1)
	p.relays[1].set(func(r *memRelay) { r.before = func() { asking <- struct{}{} } })
	outs := make([]Outcome, 2)
	var wg sync.WaitGroup
	wg.Go(func() { outs[0] = p.ms[0].Authenticate(context.Background(), Input{User: "OLD", ClientID: p.client}) })
	for ep := range entered {
		if ep == "refresh" { // the owner's refresh is at the backend
			break
		}
	}
	wg.Go(func() { outs[1] = p.ms[1].Authenticate(context.Background(), Input{User: "OLD", ClientID: p.client}) })
	select {
	case <-asking:
	case ep := <-entered:
		close(gate)
		wg.Wait()
		t.Fatalf("instance 1 called %s itself while the owner's refresh was in flight (refreshes: %d)", ep, p.f.refreshes.Load())
	}
	close(gate)
	wg.Wait()
	sameNewToken(t, outs)
	if got := p.f.refreshes.Load(); got != 1 {
		t.Fatalf("backend refreshes = %d, want 1", got)
	}
}

func TestRelayFailures(t *testing.T) {
	tests := []struct {
		name   string
		mode   string       // the backend's refresh mode
		answer *RelayAnswer // replaces the owner's answer
		state  State
		reason Reason
		calls  int64 // backend refreshes
	}{
		// Guest fallback is on: the session goes on as a guest.
		{name: "expired", mode: "401", state: StateGuest, reason: backend.ReasonExpired, calls: 1},
		{name: "revoked", mode: "403", state: StateGuest, reason: backend.ReasonRevoked, calls: 1},
		{name: "backend unavailable", mode: "503", state: StateUnavailable, reason: backend.ReasonNetwork, calls: 1},
		{name: "an unknown reason", answer: &RelayAnswer{Reason: "weird"}, state: StateGuest, reason: backend.ReasonUnknown, calls: 1},
		// The owner refreshed (the backend saw the credential once), but
		// its answer does not open here: a refresh here would be reuse.
		{name: "answer not readable", answer: &RelayAnswer{Sealed: []byte("garbage, not a sealed record")}, state: StateUnavailable, reason: backend.ReasonNetwork, calls: 1},
		{name: "empty answer", answer: &RelayAnswer{}, state: StateUnavailable, reason: backend.ReasonNetwork, calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPeers(t, 2, 1, true)
			p.f.add("OLD", "user", p.clock.Now().Add(-time.Minute))
			if tt.mode != "" {
				p.f.setMode("refresh", tt.mode)
			}
			p.relays[0].set(func(r *memRelay) { r.answer = tt.answer })
			in := Input{User: "OLD", ClientID: p.client}
			o := p.ms[0].Authenticate(context.Background(), in)
			if o.State != tt.state || o.Reason != tt.reason || o.Refreshed {
				t.Fatalf("got %s/%q (refreshed %v), want %s/%q", o.State, o.Reason, o.Refreshed, tt.state, tt.reason)
			}
			if got := p.f.refreshes.Load(); got != tt.calls {
				t.Fatalf("backend refreshes = %d, want %d", got, tt.calls)
			}
			if tt.reason == backend.ReasonNetwork && tt.mode == "" {
				return // not remembered: the next request asks the owner again
			}
			// Remembered here as if this instance had refreshed: the next
			// request is answered without asking the owner.
			asked := p.asked()
			if o2 := p.ms[0].Authenticate(context.Background(), in); o2.Reason != tt.reason {
				t.Fatalf("again: %+v", o2)
			}
			if p.asked() != asked {
				t.Fatal("the failure was not remembered: the owner was asked again")
			}
		})
	}
}

// Two instances that each name the other as owner (their views of the
// live peers differ for a moment) do not wait for each other: the owner
// with the smaller index refuses at once (package peer's handler does so
// by id), the other refreshes, and the request it was asked joins that
// refresh: one backend call, one new token for both.
func TestRelayCycleYields(t *testing.T) {
	p := newPeers(t, 2, 0, true)
	p.f.add("OLD", "user", p.clock.Now().Add(-time.Minute))
	var arrived sync.WaitGroup
	arrived.Add(2)
	for i, r := range p.relays {
		r.set(func(r *memRelay) {
			r.owner = func(string) int { return 1 - i }
			// Both relays are in flight before either reaches its owner.
			r.before = func() {
				arrived.Done()
				arrived.Wait()
			}
		})
	}
	outs := make([]Outcome, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { outs[i] = p.ms[i].Authenticate(context.Background(), Input{User: "OLD", ClientID: p.client}) })
	}
	wg.Wait()
	sameNewToken(t, outs)
	if got := p.f.refreshes.Load(); got != 1 {
		t.Fatalf("backend refreshes = %d, want 1", got)
	}
	// One owner yielded at once; the other answered. Neither relay ended
	// by its timeout.
	var errs []error
	for _, r := range p.relays {
		r.mu.Lock()
		errs = append(errs, r.errs...)
		r.mu.Unlock()
	}
	yields, others := 0, 0
	for _, err := range errs {
		switch {
		case errors.Is(err, errYield):
			yields++
		case err != nil:
			others++
		}
	}
	if len(errs) != 2 || yields != 1 || others != 0 {
		t.Fatalf("the owners answered %v, want one yield and one answer", errs)
	}
}

func TestRelayedAfterClose(t *testing.T) {
	p := newPeers(t, 1, 0, true)
	p.ms[0].Close()
	if _, err := p.ms[0].Relayed(context.Background(), "OLD", p.client); !errors.Is(err, ErrClosed) {
		t.Fatalf("Relayed after Close: %v, want ErrClosed", err)
	}
	if _, err := newPeers(t, 1, 0, true).ms[0].Relayed(context.Background(), "", p.client); err == nil {
		t.Fatal("Relayed without a credential")
	}
}

// hidingSuccessors is a Successors whose next Get misses once hide is
// set: a record written just after a request looked for it.
type hidingSuccessors struct {
	*MemorySuccessors
	hide atomic.Bool
}

func (h *hidingSuccessors) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if h.hide.CompareAndSwap(true, false) {
		return nil, false, nil
	}
	return h.MemorySuccessors.Get(ctx, key)
}

// While the lock cannot be used, a refresh that finished just after a
// request looked for a successor record (so the request starts a flight
// of its own) is not repeated: the flight finds the record, and the
// request of the same client gets the successor, as without a lock. On
// the owner, every relayed request for a token meets this case.
func TestUnlockedRefreshFindsASuccessorJustWritten(t *testing.T) {
	for _, relayed := range []bool{false, true} {
		t.Run(fmt.Sprintf("relayed %v", relayed), func(t *testing.T) {
			c := newClock()
			f := newFake(t, c)
			f.oneUse = true
			f.add("OLD", "user", c.Now().Add(-time.Minute))
			lock := newFakeLock()
			lock.err = errLockDown
			succ := &hidingSuccessors{MemorySuccessors: NewMemorySuccessors(100, c.Now)}
			o := defaults()
			o.SuccessorTTL = 30 * time.Second
			o.Backend = f.client(t, 2*time.Second)
			o.Now = c.Now
			o.RefreshLock, o.Successors = lock, succ
			m, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			const client = "Mozilla/5.0|192.0.2.1"
			first := m.Authenticate(context.Background(), Input{User: "OLD", ClientID: client})
			if first.State != StateUser || !first.Refreshed {
				t.Fatalf("first: %+v", first)
			}
			succ.hide.Store(true)
			var tok string
			if relayed {
				a, err := m.Relayed(context.Background(), "OLD", client)
				if err != nil || a.Reason != "" {
					t.Fatalf("relayed: %+v, %v", a, err)
				}
				tk, err := openSuccessor("OLD", Key("OLD"), client, a.Sealed)
				if err != nil {
					t.Fatal(err)
				}
				tok = tk.Access
			} else {
				again := m.Authenticate(context.Background(), Input{User: "OLD", ClientID: client})
				tok = again.Token
			}
			if tok != first.Token {
				t.Fatalf("got %q, want the successor %q", tok, first.Token)
			}
			if got := f.refreshes.Load(); got != 1 {
				t.Fatalf("backend refreshes = %d, want 1", got)
			}
		})
	}
}
