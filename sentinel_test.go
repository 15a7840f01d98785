package apilayer_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/redisstore"
)

// Redis high availability (docs/distributed.md): a primary, a replica and
// three sentinels on loopback; three gateway instances with the Sentinel
// form of store.redis.url; a refresh storm; then the primary is killed
// under load and the sentinels promote the replica.

// haUser is one user: several tabs share its cookie jar (its token).
type haUser struct {
	ua string
	mu sync.Mutex
	// token is the user cookie the browser holds; guarded by mu.
	token string
}

func (u *haUser) get() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.token
}

// set stores a new user cookie.
func (u *haUser) set(tok string) {
	u.mu.Lock()
	u.token = tok
	u.mu.Unlock()
}

// haLoad is the gateways of the test and what their answers showed.
type haLoad struct {
	t      *testing.T
	srvs   []*httptest.Server
	client *http.Client

	mu       sync.Mutex
	failures []time.Time // when each failed request was sent; guarded by mu
	logouts  int         // guarded by mu
	requests atomic.Int64
}

// send sends GET path for u to instance i and records the outcome: a
// failure (a transport error or a status other than 200) or a logout (the
// user cookie deleted, or a redirect to the login page).
func (h *haLoad) send(u *haUser, i int, path string) {
	at := time.Now()
	tok := u.get()
	r, err := http.NewRequest(http.MethodGet, h.srvs[i%len(h.srvs)].URL+path, nil)
	if err != nil {
		h.t.Error(err)
		return
	}
	r.AddCookie(&http.Cookie{Name: "userAuthToken", Value: tok})
	r.Header.Set("User-Agent", u.ua)
	res, err := h.client.Do(r)
	h.requests.Add(1)
	if err != nil {
		h.fail(at, false)
		return
	}
	res.Body.Close()
	logout := res.StatusCode == http.StatusTemporaryRedirect
	for _, c := range res.Cookies() {
		if c.Name != "userAuthToken" {
			continue
		}
		if c.MaxAge < 0 || c.Value == "" {
			logout = true
		} else {
			u.set(c.Value)
		}
	}
	if res.StatusCode != http.StatusOK || logout {
		h.fail(at, logout)
	}
}

func (h *haLoad) fail(at time.Time, logout bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures = append(h.failures, at)
	if logout {
		h.logouts++
	}
}

// storm sends, for every user at once, one request per tab, each tab to
// another instance, all with the token the jar holds now.
func (h *haLoad) storm(users []*haUser, tabs int) {
	var wg sync.WaitGroup
	for k, u := range users {
		for tab := range tabs {
			wg.Go(func() { h.send(u, k*tabs+tab, "/dashboard") })
		}
	}
	wg.Wait()
}

// store returns the "store" of instance i's health endpoint.
func (h *haLoad) store(i int) string {
	res, err := h.client.Get(h.srvs[i].URL + "/_apilayer/health")
	if err != nil {
		return "error"
	}
	defer res.Body.Close()
	var b struct{ Store string }
	if err := json.NewDecoder(res.Body).Decode(&b); err != nil {
		return "error"
	}
	return b.Store
}

// waitFor polls cond every 20ms for at most d; it reports whether cond held.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// refreshCalls returns the backend's refresh calls by credential.
func refreshCalls(be *testkit.Backend) map[string]int {
	out := map[string]int{}
	for _, r := range be.Requests() {
		if strings.HasSuffix(r.Path, "/auth/refresh") {
			out[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]++
		}
	}
	return out
}

// TestSentinelFailover: 150 users with 3 tabs each refresh through 3
// instances on a Sentinel-managed Redis (one refresh per user); the primary
// is then killed under load. The sentinels promote the replica, the
// instances serve from per-instance state meanwhile and are on the new
// primary within seconds; a second storm there again makes one refresh per
// user. No request fails and nobody is logged out.
func TestSentinelFailover(t *testing.T) {
	const (
		nUsers    = 150
		tabs      = 3
		master    = "apilayer"
		instances = 3
	)
	began := time.Now()
	redisstore.SetDriverLogger(nil) // the driver would report every failed dial on stderr
	primary := testkit.StartRedis(t)
	replica := testkit.StartRedisReplica(t, primary)
	var sentinels []*testkit.Redis
	for range 3 {
		sentinels = append(sentinels, testkit.StartSentinel(t, master, primary, 2))
	}
	ctx := t.Context()
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr()})
	defer rc.Close()
	// The replica is in sync, and every sentinel knows it and the others.
	if !waitFor(20*time.Second, func() bool {
		info, _ := rc.Info(ctx, "replication").Result()
		return strings.Contains(info, "master_link_status:up")
	}) {
		t.Fatal("the replica never synchronised")
	}
	for _, s := range sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr()})
		defer sc.Close()
		if !waitFor(20*time.Second, func() bool {
			m, err := sc.Master(ctx, master).Result()
			return err == nil && m["num-slaves"] == "1" && m["num-other-sentinels"] == "2"
		}) {
			m, err := sc.Master(ctx, master).Result()
			t.Fatalf("sentinel %s never saw the replica and the other sentinels: %v %v", s.Addr(), m, err)
		}
	}
	setupTook := time.Since(began)

	clock := testkit.NewClock(time.Now())
	be := testkit.NewBackend(t, demo.BackendOptions{Now: clock.Now, AccessTTL: time.Hour})
	upstream := testkit.NewUpstream(t)
	url := fmt.Sprintf("redis://%s/0?master_name=%s&addr=%s&addr=%s",
		sentinels[0].Addr(), master, sentinels[1].Addr(), sentinels[2].Addr())
	h := &haLoad{t: t, client: &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 500},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	t.Cleanup(h.client.CloseIdleConnections)
	cacheTTL := time.Second
	for range instances {
		cfg := config.Config{
			Backend:    config.Backend{URL: be.URL(), Timeout: 5 * time.Second},
			Upstream:   config.Upstream{URL: upstream.URL()},
			Access:     config.Access{ProtectedRoutes: []string{"/dashboard"}},
			Validation: config.Validate{CacheTTL: &cacheTTL},
			Store: config.Store{Driver: "redis", Redis: config.Redis{
				// Generous under -race on a busy machine: a slow call must not
				// open the store's breaker (a dead primary fails at once).
				URL: url, KeyPrefix: "ha:", Timeout: 2 * time.Second,
			}},
		}
		gw, err := apilayer.New(cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		srv := httptest.NewServer(gw.Handler())
		t.Cleanup(func() {
			srv.Close()
			gw.Close()
		})
		h.srvs = append(h.srvs, srv)
	}
	for i := range instances {
		if !waitFor(10*time.Second, func() bool { return h.store(i) == "redis" }) {
			t.Fatalf("instance %d: store %q, want redis through the sentinels", i, h.store(i))
		}
	}

	users := make([]*haUser, nUsers)
	for k := range users {
		tok, err := be.Demo().Issue("alice", -time.Minute) // expired: every user refreshes
		if err != nil {
			t.Fatal(err)
		}
		users[k] = &haUser{ua: fmt.Sprintf("browser-%d", k), token: tok}
	}

	// 1. A refresh storm on the primary: one refresh per user.
	h.storm(users, tabs)
	calls := refreshCalls(be)
	if len(calls) != nUsers || h.requests.Load() != nUsers*tabs {
		t.Fatalf("storm 1: %d tokens refreshed for %d users", len(calls), nUsers)
	}

	// 2. Steady load; the primary is killed in the middle of it.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 12 {
		wg.Go(func() {
			for k := w; ; k += 12 {
				select {
				case <-stop:
					return
				default:
				}
				path := "/about"
				if k%2 == 0 {
					path = "/dashboard"
				}
				h.send(users[k%nUsers], k, path)
			}
		})
	}
	before := h.requests.Load()
	waitFor(10*time.Second, func() bool { return h.requests.Load() > before+300 })
	primary.Kill()
	killed := time.Now()
	var promoted time.Duration
	back := make([]time.Duration, instances)
	sawDown := make([]bool, instances) // the instance said "store":"unavailable"
	if !waitFor(30*time.Second, func() bool {
		if promoted == 0 {
			if role, err := rc.Do(ctx, "ROLE").Slice(); err == nil && len(role) > 0 && role[0] == "master" {
				promoted = time.Since(killed)
			}
		}
		done := promoted != 0
		for i := range instances {
			if back[i] != 0 {
				continue
			}
			switch h.store(i) {
			case "unavailable":
				sawDown[i] = true
			case "redis":
				if promoted != 0 {
					back[i] = time.Since(killed)
				}
			}
			done = done && back[i] != 0
		}
		return done
	}) {
		t.Fatalf("after the kill: replica promoted after %v, instances back after %v", promoted, back)
	}
	windowEnd := killed.Add(max(back[0], back[1], back[2]))
	during := h.requests.Load()
	waitFor(10*time.Second, func() bool { return h.requests.Load() > during+300 })
	close(stop)
	wg.Wait()

	// 3. Every token expires; a second storm on the new primary.
	clock.Advance(2 * time.Hour)
	time.Sleep(cacheTTL) // the validation caches' verdicts run out
	h.storm(users, tabs)
	calls = refreshCalls(be)
	duplicates := 0
	for _, n := range calls {
		duplicates += n - 1
	}

	h.mu.Lock()
	failures, logouts := h.failures, h.logouts
	h.mu.Unlock()
	inWindow, outside := 0, 0
	for _, at := range failures {
		if !at.Before(killed) && at.Before(windowEnd) {
			inWindow++
		} else {
			outside++
		}
	}
	keys, err := rc.DBSize(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sentinel failover: %d requests (%d users x %d tabs, 2 storms); replica promoted %v after the kill, instances on it after %v (on per-instance state meanwhile: %v); "+
		"failed %d in the failover window, %d outside; %d logouts; %d refresh calls for %d tokens (%d duplicates); "+
		"%d keys on the new primary; setup %v, total %v",
		h.requests.Load(), nUsers, tabs, promoted.Round(time.Millisecond), []time.Duration{back[0].Round(time.Millisecond),
			back[1].Round(time.Millisecond), back[2].Round(time.Millisecond)}, sawDown,
		inWindow, outside, logouts, len(calls), 2*nUsers, duplicates, keys, setupTook.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	if outside != 0 || logouts != 0 {
		t.Errorf("%d failed requests outside the failover window and %d logouts, want 0 and 0", outside, logouts)
	}
	if len(calls) != 2*nUsers || duplicates != 0 {
		t.Errorf("%d tokens refreshed with %d duplicate calls, want %d with none", len(calls), duplicates, 2*nUsers)
	}
	if keys == 0 {
		t.Error("the new primary holds no key: the instances did not write to it")
	}
}
