package peer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// The schedule of the membership (docs/distributed.md, "Peers").
const (
	// PingInterval is how often every peer is pinged.
	PingInterval = 2 * time.Second
	// LiveFor is how long after its last answer to a ping a peer counts
	// as live.
	LiveFor = 5 * time.Second
	// ResolveInterval is how often a dns:/// target is resolved again.
	ResolveInterval = 10 * time.Second
)

const (
	// pingTimeout bounds one ping. It is longer than PingInterval: an
	// instance under heavy load may take seconds to answer, and counting
	// it as gone would make others refresh its tokens themselves (a reuse
	// for the backend). A round then lasts until its slowest ping.
	pingTimeout = 3 * time.Second
	// dialTimeout bounds connecting to a peer: an owner that does not
	// accept the connection by then is given up on, and the refresh is
	// done locally (a refused connection is given up on at once).
	dialTimeout = 3 * time.Second
	// selfWarnRounds is after how many rounds without finding itself an
	// instance says so.
	selfWarnRounds = 3
)

// Options configures a Set.
type Options struct {
	// Peers are the entries of store.peers: base URLs or dns:///name:port
	// (see ParseTarget). Required.
	Peers []string
	// Secret is store.peerSecret: it signs every request and answer.
	// Required, at least MinSecretLen bytes.
	Secret []byte
	// Transport makes the calls to peers. If nil, a dedicated transport
	// (no environment proxy, dialTimeout to connect), released by Close. A
	// Transport you pass is yours to close.
	Transport http.RoundTripper
	// LookupHost resolves the names of dns:/// targets. If nil,
	// net.DefaultResolver.LookupHost.
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// Now is the clock of liveness and signatures. If nil, time.Now.
	Now func() time.Time
	// Logger receives one line per change of a peer's state (never a
	// token). If nil, none.
	Logger *slog.Logger
}

// Set is this instance's view of its peers: which answer, which one is
// itself, and who owns a token. Create it with New; Close stops it.
type Set struct {
	id      string
	targets []Target
	sig     *signer
	client  *http.Client
	own     *http.Transport // built by New (nil if Options.Transport was given)
	lookup  func(ctx context.Context, host string) ([]string, error)
	now     func() time.Time
	log     *slog.Logger

	// Used by the loop only (a round at a time).
	resolved map[Target]resolution
	rounds   int
	warned   bool

	mu      sync.Mutex
	members map[string]*member                 // by base URL; guarded by mu
	relays  map[string]map[*relayCall]struct{} // in flight, by owner URL; guarded by mu

	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// resolution is what a dns:/// target resolved to, and when.
type resolution struct {
	urls []string
	at   time.Time
}

// relayCall is a relayed refresh waiting for its owner's answer.
type relayCall struct {
	key string // the token's SHA-256, in hex
}

// member is one instance of the targets.
type member struct {
	id     string    // what it answered to its last ping ("" before)
	seen   time.Time // when it last answered a ping
	live   bool      // as last logged
	silent bool      // "never answered" logged
}

// Member is a peer as Members reports it.
type Member struct {
	URL  string // its base URL
	ID   string // its id, "" if it never answered
	Live bool   // it answered a ping within LiveFor
	Self bool   // it is this instance (it answered with this Set's id)
}

// New checks o, starts pinging the peers (at once, then every
// PingInterval) and returns the Set. Close stops it.
func New(o Options) (*Set, error) {
	s, err := newSet(o)
	if err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go s.run()
	return s, nil
}

// newSet builds a Set without starting its loop.
func newSet(o Options) (*Set, error) {
	var errs []error
	if len(o.Peers) == 0 {
		errs = append(errs, errors.New("peer: no peers"))
	}
	if len(o.Secret) < MinSecretLen {
		errs = append(errs, fmt.Errorf("peer: the secret must be at least %d bytes (got %d)", MinSecretLen, len(o.Secret)))
	}
	var targets []Target
	for _, p := range o.Peers {
		t, err := ParseTarget(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("peer: %q: %w", p, err))
			continue
		}
		if !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var id [16]byte
	rand.Read(id[:]) // never fails (crypto/rand)
	s := &Set{
		id:       hex.EncodeToString(id[:]),
		targets:  targets,
		sig:      &signer{key: slices.Clone(o.Secret), now: o.Now},
		lookup:   o.LookupHost,
		now:      o.Now,
		log:      o.Logger,
		resolved: make(map[Target]resolution),
		members:  make(map[string]*member),
		relays:   make(map[string]map[*relayCall]struct{}),
	}
	if s.now == nil {
		s.now = time.Now
		s.sig.now = time.Now
	}
	if s.lookup == nil {
		s.lookup = net.DefaultResolver.LookupHost
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	rt := o.Transport
	if rt == nil {
		s.own = &http.Transport{
			Proxy:               nil, // instances talk directly
			DialContext:         (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: dialTimeout,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		}
		rt = s.own
	}
	s.client = &http.Client{
		Transport: rt,
		// A peer never redirects; one that does is not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// ID returns this instance's random id, what it answers to pings.
func (s *Set) ID() string { return s.id }

// Close stops the pings and waits for them, and releases the transport New
// built. It is idempotent.
func (s *Set) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		if s.own != nil {
			s.own.CloseIdleConnections()
		}
	})
	return nil
}

// run pings every peer now and then every PingInterval, until Close.
func (s *Set) run() {
	defer s.wg.Done()
	t := time.NewTicker(PingInterval)
	defer t.Stop()
	for {
		s.round(s.ctx)
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// round pings every peer once, in parallel, and logs what changed.
func (s *Set) round(ctx context.Context) {
	urls := s.resolve(ctx)
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Go(func() { s.ping(ctx, u) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	s.settle(urls)
}

// resolve returns the base URLs of every target, resolving the dns:///
// ones again every ResolveInterval. A name that does not resolve keeps its
// last addresses.
func (s *Set) resolve(ctx context.Context) []string {
	var urls []string
	now := s.now()
	for _, t := range s.targets {
		if t.URL != "" {
			urls = append(urls, t.URL)
			continue
		}
		r, ok := s.resolved[t]
		if !ok || now.Sub(r.at) >= ResolveInterval {
			lctx, cancel := context.WithTimeout(ctx, pingTimeout)
			addrs, err := s.lookup(lctx, t.Name)
			cancel()
			switch {
			case err != nil:
				if ctx.Err() == nil {
					s.log.Warn("peer: name not resolved", slog.String("peer", t.String()), slog.Any("error", err))
				}
				r.at = now // try again at the next interval
			default:
				r = resolution{at: now}
				for _, a := range addrs {
					r.urls = append(r.urls, "http://"+net.JoinHostPort(a, t.Port))
				}
				slices.Sort(r.urls)
			}
			s.resolved[t] = r
		}
		urls = append(urls, r.urls...)
	}
	slices.Sort(urls)
	return slices.Compact(urls)
}

// settle forgets the members no longer targeted and logs the changes of
// the others.
//
// A relay already waiting for an owner that stops answering pings is not
// ended: an owner that is only slow (overloaded, paused for a while) still
// completes the refresh it was asked for, and a refresh here meanwhile
// would be a reuse for the backend. It waits for as long as a lock
// holder's waiters do (the caller's deadline: 3 x backend.timeout); new
// relays go to the next owner once this one is no longer live.
func (s *Set) settle(urls []string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for u := range s.members {
		if !slices.Contains(urls, u) {
			delete(s.members, u)
		}
	}
	s.rounds++
	self := false
	for _, u := range urls {
		m := s.members[u]
		if m == nil {
			m = &member{}
			s.members[u] = m
		}
		if m.id == "" && !m.silent && s.rounds >= selfWarnRounds {
			m.silent = true
			s.log.Warn("peer: never answered", slog.String("peer", u))
		}
		live := m.id != "" && now.Sub(m.seen) <= LiveFor
		self = self || (live && m.id == s.id)
		if live == m.live {
			continue
		}
		m.live = live
		if live {
			s.log.Info("peer: answering", slog.String("peer", u), slog.Bool("self", m.id == s.id))
		} else {
			s.log.Warn("peer: not answering", slog.String("peer", u))
		}
	}
	if !self && !s.warned && s.rounds >= selfWarnRounds {
		s.warned = true
		s.log.Warn("peer: this instance is not among store.peers (no peer answered with its id): it refreshes for itself when it must, and owns no token")
	}
	if self {
		s.warned = false
	}
}

// ping asks the peer at base for its id.
func (s *Set) ping(ctx context.Context, base string) {
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	var a struct {
		ID string `json:"id"`
	}
	if status, err := s.call(pctx, http.MethodGet, base, PingPath, nil, &a); err != nil || status != http.StatusOK {
		return
	}
	if len(a.ID) != 32 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.members[base]
	if m == nil {
		m = &member{}
		s.members[base] = m
	}
	m.id, m.seen = a.ID, s.now()
}

// Members returns every peer of the last round, by URL.
func (s *Set) Members() []Member {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Member, 0, len(s.members))
	for u, m := range s.members {
		out = append(out, Member{URL: u, ID: m.id, Live: m.id != "" && now.Sub(m.seen) <= LiveFor, Self: m.id == s.id})
	}
	slices.SortFunc(out, func(a, b Member) int {
		if a.URL < b.URL {
			return -1
		}
		if a.URL > b.URL {
			return 1
		}
		return 0
	})
	return out
}

// Owner returns the base URL of the owner of key (a token's SHA-256, in
// hex) among the live peers, and whether it is this instance; ok is false
// when no peer is live. Rendezvous hashing over the peers' ids: every
// instance that sees the same live peers names the same owner.
func (s *Set) Owner(key string) (url string, self, ok bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids, urls []string
	for u, m := range s.members {
		if m.id != "" && now.Sub(m.seen) <= LiveFor {
			ids, urls = append(ids, m.id), append(urls, u)
		}
	}
	i := owner(ids, key)
	if i < 0 {
		return "", false, false
	}
	// An instance reachable under two URLs: the smallest URL, so the
	// choice does not depend on the map's order.
	for j, id := range ids {
		if id == ids[i] && urls[j] < urls[i] {
			i = j
		}
	}
	return urls[i], ids[i] == s.id, true
}

// track registers a relay of key to the owner at url (relayingTo), until
// done is called.
func (s *Set) track(url, key string) (done func()) {
	c := &relayCall{key: key}
	s.mu.Lock()
	if s.relays[url] == nil {
		s.relays[url] = make(map[*relayCall]struct{})
	}
	s.relays[url][c] = struct{}{}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.relays[url], c)
		if len(s.relays[url]) == 0 {
			delete(s.relays, url)
		}
		s.mu.Unlock()
	}
}

// relayingTo reports whether this instance is waiting for the answer of
// the instance with id about key.
func (s *Set) relayingTo(key, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for u, calls := range s.relays {
		if m := s.members[u]; m == nil || m.id != id {
			continue
		}
		for c := range calls {
			if c.key == key {
				return true
			}
		}
	}
	return false
}

// answered records a signed answer of the peer at url other than a ping's:
// it is live.
func (s *Set) answered(url string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.members[url]; m != nil && m.id != "" {
		m.seen = now
	}
}

// tokenKey is the key of a token: its SHA-256, in lowercase hex.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
