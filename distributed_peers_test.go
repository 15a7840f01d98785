package apilayer_test

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/peer"
	"github.com/apilayer/apilayer/redisstore"
)

// Refresh ownership without Redis (store.peers, docs/distributed.md): three
// instances that list each other as peers; while Redis is down, the
// refresh of a token is done by its owner among them and the others ask
// it, so tabs of one browser on different instances are not logged out
// by the backend's reuse detection.

const (
	peerSecret   = "peer-secret-for-tests-0123456789abcdef"
	peerCacheTTL = time.Second // validate.cacheTTL of the instances
)

// peerFleet is three gateway instances on one Redis that list each other
// in store.peers; each logs everything (DEBUG) to its own buffer.
type peerFleet struct {
	*haLoad
	redis    *testkit.Redis
	backend  *testkit.Backend
	logs     []*syncBuffer
	relayed  atomic.Int64 // POST /_apilayer/peer/refresh received, all instances
	upstream *testkit.Upstream

	outMu sync.Mutex
	out   map[*haUser]bool // the users logged out; guarded by outMu
}

// newPeerFleet starts Redis, the backend and three instances; peers false
// leaves store.peers unset (the behaviour before it existed).
func newPeerFleet(t *testing.T, peers bool, bo demo.BackendOptions) *peerFleet {
	t.Helper()
	redisstore.SetDriverLogger(nil) // the driver would report every failed dial on stderr
	f := &peerFleet{
		haLoad: &haLoad{t: t, client: &http.Client{
			Transport:     &http.Transport{MaxIdleConnsPerHost: 1000},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}},
		redis:    testkit.StartRedis(t),
		backend:  testkit.NewBackend(t, bo),
		upstream: testkit.NewUpstream(t),
		out:      map[*haUser]bool{},
	}
	t.Cleanup(f.client.CloseIdleConnections)
	var urls []string
	for range 3 {
		srv := httptest.NewUnstartedServer(nil)
		f.srvs = append(f.srvs, srv)
		urls = append(urls, "http://"+srv.Listener.Addr().String())
	}
	for i, srv := range f.srvs {
		cacheTTL := peerCacheTTL
		cfg := config.Config{
			Backend:    config.Backend{URL: f.backend.URL(), Timeout: 5 * time.Second},
			Upstream:   config.Upstream{URL: f.upstream.URL()},
			Access:     config.Access{ProtectedRoutes: []string{"/dashboard"}, AuthRoutes: []string{"/login"}},
			Validation: config.Validate{CacheTTL: &cacheTTL},
			Store: config.Store{Driver: "redis", Redis: config.Redis{
				URL: f.redis.URL(), KeyPrefix: "apilayer:",
				Timeout: 2 * time.Second, // generous under -race: a slow call must not open the breaker
			}},
			Log: config.Log{Level: "debug"},
		}
		if peers {
			cfg.Store.Peers, cfg.Store.PeerSecret = urls, peerSecret
		}
		buf := &syncBuffer{}
		f.logs = append(f.logs, buf)
		gw, err := apilayer.New(cfg, apilayer.WithLogger(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		h := gw.Handler()
		srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == peer.RefreshPath {
				f.relayed.Add(1)
			}
			h.ServeHTTP(w, r)
		})
		srv.Start()
		t.Cleanup(func() {
			srv.Close()
			gw.Close()
		})
	}
	if peers {
		// Every instance has seen all three answer its pings, itself
		// among them.
		for i, l := range f.logs {
			if !waitFor(10*time.Second, func() bool { return strings.Count(l.String(), `msg="peer: answering"`) >= 3 }) {
				t.Fatalf("instance %d does not see its peers:\n%s", i, l.String())
			}
		}
	}
	return f
}

// sendAs sends GET path for u to instance i and records the outcome as
// haLoad.send does, and the users it logged out.
func (f *peerFleet) sendAs(u *haUser, i int, path string) {
	r, err := http.NewRequest(http.MethodGet, f.srvs[i].URL+path, nil)
	if err != nil {
		f.t.Error(err)
		return
	}
	r.AddCookie(&http.Cookie{Name: "userAuthToken", Value: u.get()})
	r.Header.Set("User-Agent", u.ua)
	res, err := f.client.Do(r)
	f.requests.Add(1)
	if err != nil {
		f.fail(time.Now(), false)
		return
	}
	res.Body.Close()
	logout := res.StatusCode == http.StatusTemporaryRedirect
	for _, c := range res.Cookies() {
		switch {
		case c.Name != "userAuthToken":
		case c.MaxAge < 0 || c.Value == "":
			logout = true
		default:
			u.set(c.Value)
		}
	}
	if res.StatusCode != http.StatusOK || logout {
		f.fail(time.Now(), logout)
	}
	if logout {
		f.outMu.Lock()
		f.out[u] = true
		f.outMu.Unlock()
	}
}

// stormRun is what one storm measured.
type stormRun struct {
	requests, failed, logouts int64 // logouts: answers that logged the user out
	usersOut                  int   // users logged out at least once
	tokens, refreshes, maxPer int
	relayed                   int64
	took                      time.Duration
}

func (r stormRun) String() string {
	return fmt.Sprintf("%d requests in %v, %d failed, %d users logged out (%d logout answers); %d backend refreshes for %d tokens (at most %d per token); %d refreshes relayed to their owner",
		r.requests, r.took.Round(10*time.Millisecond), r.failed, r.usersOut, r.logouts, r.refreshes, r.tokens, r.maxPer, r.relayed)
}

// storm runs users x tabs for d: each tab sends requests to random
// instances (every third to the protected /dashboard) with the token its
// browser holds now, a pause of 100 to 400 ms between them. At half time
// the tabs pause, the backend's clock jumps by two hours and, once the
// gateways' cached verdicts ran out, the tabs go on: every token has
// expired at once again.
func (f *peerFleet) storm(users []*haUser, tabs int, d time.Duration, clock *testkit.Clock) stormRun {
	start := time.Now()
	phase := func(d time.Duration) {
		stop := time.Now().Add(d)
		var wg sync.WaitGroup
		for _, u := range users {
			for range tabs {
				wg.Go(func() {
					for k := 0; time.Now().Before(stop); k++ {
						path := "/about"
						if k%3 == 0 {
							path = "/dashboard"
						}
						f.sendAs(u, rand.IntN(len(f.srvs)), path)
						time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
					}
				})
			}
		}
		wg.Wait()
	}
	phase(d / 2)
	clock.Advance(2 * time.Hour)
	time.Sleep(peerCacheTTL)
	phase(d / 2)
	r := stormRun{requests: f.requests.Load(), took: time.Since(start), relayed: f.relayed.Load()}
	f.mu.Lock()
	r.failed, r.logouts = int64(len(f.failures)), int64(f.logouts)
	f.mu.Unlock()
	f.outMu.Lock()
	r.usersOut = len(f.out)
	f.outMu.Unlock()
	calls := refreshCalls(f.backend)
	r.tokens = len(calls)
	for _, n := range calls {
		r.refreshes += n
		r.maxPer = max(r.maxPer, n)
	}
	return r
}

// noTokenLogged fails if a log line of any instance holds a token the
// backend issued or was asked to refresh, or a piece of one.
func (f *peerFleet) noTokenLogged(t *testing.T, users []*haUser) {
	t.Helper()
	s := secrets{}
	for _, u := range users {
		s.add(u.get())
	}
	s.fromRecorded(f.backend.Requests())
	s.fromRecorded(f.upstream.Requests())
	lines := 0
	for i, l := range f.logs {
		out := l.String()
		lines += strings.Count(out, "\n")
		for tok := range s {
			if strings.Contains(out, tok) {
				t.Fatalf("instance %d logged a token (or a piece of one)", i)
			}
		}
	}
	if lines == 0 {
		t.Fatal("no log line at all: was logging on?")
	}
}

// TestPeersRefreshStorm: 300 users x 3 tabs, each request to a random
// instance, every token expired at the start and all of them again at
// half time (the backend's clock jumps), the backend 300 ms slow to
// refresh and detecting reuse (409, the token family revoked). With Redis
// killed and store.peers set, nobody is logged out and no token is
// refreshed twice (without peers, nearly every user is); with Redis up
// the Redis lock decides as before and no refresh is relayed.
func TestPeersRefreshStorm(t *testing.T) {
	const (
		nUsers = 300
		tabs   = 3
		run    = 5 * time.Second
	)
	tests := []struct {
		name      string
		peers     bool
		killRedis bool
		run       time.Duration
	}{
		// What store.peers fixes: each instance refreshes by itself (a
		// short run shows it).
		{"redis killed, no peers", false, true, run / 2},
		{"redis killed, peers", true, true, run},
		{"redis up, peers", true, false, run},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			clock := testkit.NewClock(time.Now())
			f := newPeerFleet(t, tt.peers, demo.BackendOptions{Now: clock.Now, AccessTTL: time.Hour})
			f.backend.SetFault("auth/refresh", testkit.Delay(300*time.Millisecond))
			if tt.killRedis {
				f.redis.Kill()
			}
			users := make([]*haUser, nUsers)
			for k := range users {
				// Expired: the run starts with a storm of every token.
				tok, err := f.backend.Demo().Issue("alice", -time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				users[k] = &haUser{ua: fmt.Sprintf("browser-%d", k), token: tok}
			}
			r := f.storm(users, tabs, tt.run, clock)
			t.Logf("%s: %v (total with setup %v)", tt.name, r, time.Since(began).Round(10*time.Millisecond))
			f.noTokenLogged(t, users)
			if !tt.peers {
				if r.usersOut == 0 || r.maxPer < 2 {
					t.Errorf("without peers: %d users logged out, up to %d refreshes per token; want the race store.peers fixes", r.usersOut, r.maxPer)
				}
				return
			}
			if r.usersOut != 0 || r.logouts != 0 || r.failed != 0 {
				t.Errorf("%d users logged out (%d answers) and %d failed requests, want 0, 0 and 0", r.usersOut, r.logouts, r.failed)
			}
			if r.maxPer != 1 || r.tokens != 2*nUsers {
				t.Errorf("%d tokens refreshed, up to %d times each; want %d tokens (two per user), each once", r.tokens, r.maxPer, 2*nUsers)
			}
			if r.relayed == 0 {
				t.Error("no refresh relayed to its owner")
			}
			if tt.killRedis {
				for i := range f.srvs {
					if got := f.store(i); got != "unavailable" {
						t.Errorf("instance %d: health store %q, want unavailable", i, got)
					}
				}
			}
		})
	}
}
