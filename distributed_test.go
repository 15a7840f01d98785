package apilayer_test

import (
	"context"
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

// Distributed mode (docs/distributed.md): several gateway
// instances, each its own apilayer.Gateway behind its own test server, on
// one real redis-server and one demo backend (which rotates tokens and
// answers 409 to the reuse of a rotated one, revoking its whole family).

const instances = 3

// cluster is the gateway instances of one test.
type cluster struct {
	t        *testing.T
	redis    *testkit.Redis
	backend  *testkit.Backend
	upstream *testkit.Upstream
	srvs     []*httptest.Server
	client   *http.Client // shared by every instance; does not follow redirects
	refresh  chan struct{}
}

// newCluster starts Redis, the backend, the web app and the instances.
func newCluster(t *testing.T, edit func(*config.Config)) *cluster {
	t.Helper()
	c := &cluster{
		t:        t,
		redis:    testkit.StartRedis(t),
		backend:  testkit.NewBackend(t, demo.BackendOptions{}),
		upstream: testkit.NewUpstream(t),
		refresh:  make(chan struct{}, 64),
	}
	c.client = &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 400},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(c.client.CloseIdleConnections)
	cacheTTL := time.Minute
	for range instances {
		cfg := config.Config{
			Backend:  config.Backend{URL: c.backend.URL(), Timeout: 5 * time.Second},
			Upstream: config.Upstream{URL: c.upstream.URL()},
			Access: config.Access{
				ProtectedRoutes: []string{"/dashboard"},
				AuthRoutes:      []string{"/login"},
			},
			Validation: config.Validate{CacheTTL: &cacheTTL},
			Store: config.Store{Driver: "redis", Redis: config.Redis{
				URL:       c.redis.URL(),
				KeyPrefix: "apilayer:",
				Timeout:   2 * time.Second, // generous under -race: a slow call must not open the breaker
			}},
		}
		if edit != nil {
			edit(&cfg)
		}
		gw, err := apilayer.New(cfg, apilayer.WithTransport(refreshTap{c.refresh}))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		srv := httptest.NewServer(gw.Handler())
		t.Cleanup(func() {
			srv.Close()
			gw.Close()
		})
		c.srvs = append(c.srvs, srv)
	}
	return c
}

// refreshTap reports every refresh call an instance makes to the backend.
type refreshTap struct{ arrived chan<- struct{} }

func (rt refreshTap) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/api/auth/refresh") {
		rt.arrived <- struct{}{}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// get sends GET path to instance i with the user token (if any) and the
// User-Agent ua, and returns the status and the user cookie it set.
func (c *cluster) get(i int, path, token, ua string) (status int, set string, err error) {
	r, err := http.NewRequestWithContext(c.t.Context(), http.MethodGet, c.srvs[i%instances].URL+path, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		r.AddCookie(&http.Cookie{Name: "userAuthToken", Value: token})
	}
	r.Header.Set("User-Agent", ua)
	res, err := c.client.Do(r)
	if err != nil {
		return 0, "", err
	}
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.Name == "userAuthToken" {
			set = ck.Value
		}
	}
	return res.StatusCode, set, nil
}

// result is the answer to one request of a burst.
type result struct {
	status int
	set    string
	err    error
}

// burst sends n concurrent GET path requests with token, request k to
// instance k%3 with the User-Agent ua(k).
func (c *cluster) burst(n int, path, token string, ua func(k int) string) []result {
	out := make([]result, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			out[k].status, out[k].set, out[k].err = c.get(k, path, token, ua(k))
		})
	}
	wg.Wait()
	return out
}

// health returns the "store" field of instance i's health endpoint.
func (c *cluster) health(i int) string {
	c.t.Helper()
	res, err := c.client.Get(c.srvs[i].URL + "/_apilayer/health")
	if err != nil {
		c.t.Fatalf("health: %v", err)
	}
	defer res.Body.Close()
	var body struct{ Status, Store string }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK {
		c.t.Fatalf("health: status %d, %v", res.StatusCode, err)
	}
	return body.Store
}

// waitHealth polls instance i's health endpoint (bounded) until its store
// is want: the breaker opens and recovers by itself, on its own schedule.
func (c *cluster) waitHealth(i int, want string) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.health(i) != want {
		if time.Now().After(deadline) {
			c.t.Fatalf("health store = %q after 10s, want %q", c.health(i), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noRawTokens fails if any Redis key or value contains one of tokens.
func (c *cluster) noRawTokens(t *testing.T, tokens ...string) {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: c.redis.Addr()})
	defer rc.Close()
	ctx := context.Background()
	n := 0
	iter := rc.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		n++
		typ, err := rc.Type(ctx, k).Result()
		if err != nil {
			t.Fatalf("TYPE %q: %v", k, err)
		}
		var v string
		switch typ {
		case "string":
			v, err = rc.Get(ctx, k).Result()
		case "hash":
			var h map[string]string
			h, err = rc.HGetAll(ctx, k).Result()
			v = fmt.Sprint(h)
		case "none": // expired meanwhile
		default:
			t.Fatalf("Redis key %q of unexpected type %s", k, typ)
		}
		if err != nil && err != redis.Nil {
			t.Fatalf("read %q: %v", k, err)
		}
		for _, tok := range tokens {
			if tok != "" && (strings.Contains(k, tok) || strings.Contains(v, tok)) {
				t.Errorf("Redis key %q holds a raw token", k)
			}
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	if n == 0 {
		t.Error("Redis holds no key at all: was the shared store used?")
	}
}

// TestDistributedRefresh: 300 concurrent requests spread over 3 instances
// with one expired token make exactly one backend refresh and all succeed
// with the same new token, whether they come from one client (late ones
// get the successor record) or from 300 clients that all arrive while the
// refresh is in flight (they get the flight record,
// docs/distributed.md#refresh-coordination).
func TestDistributedRefresh(t *testing.T) {
	const n = 300
	tests := []struct {
		name string
		ua   func(k int) string
		hold bool // hold the backend refresh until all n are waiting
	}{
		{"same client", func(int) string { return "tab" }, false},
		{"same client, all in flight", func(int) string { return "tab" }, true},
		{"300 clients, all in flight", func(k int) string { return fmt.Sprintf("client-%d", k) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, nil)
			old, err := c.backend.Demo().Issue("alice", -time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			var release chan struct{}
			if tt.hold {
				release = make(chan struct{})
				c.backend.SetFault("auth/refresh", testkit.Block(release))
				go func() {
					defer close(release)
					<-c.refresh // the one refresh is held at the backend
					// Every request waits on its instance's flight, the
					// other instances wait for the lock.
					err := testkit.WaitParked(n, "session.(*Manager).refresh(", "session.(*Manager).shared(")
					if err == nil {
						err = testkit.WaitParked(instances-1, "redisstore.(*Locks).Wait(")
					}
					if err != nil {
						t.Error(err)
					}
				}()
			}
			rs := c.burst(n, "/about", old, tt.ua)
			failed, tok := 0, rs[0].set
			for k, r := range rs {
				if r.err != nil || r.status != http.StatusOK || r.set == "" || r.set != tok || r.set == old {
					failed++
					if failed <= 3 {
						t.Errorf("request %d: status %d, err %v, new token set %v (same as the others: %v)",
							k, r.status, r.err, r.set != "", r.set == tok)
					}
				}
			}
			refreshes, validations := c.backend.Calls("auth/refresh"), c.backend.Calls("auth/me")
			t.Logf("%d requests over %d instances: %d backend refresh, %d validations, %d failed",
				n, instances, refreshes, validations, failed)
			if failed != 0 {
				t.Errorf("%d failed requests, want 0", failed)
			}
			if refreshes != 1 {
				t.Errorf("backend refresh calls = %d, want 1", refreshes)
			}
			// The old token at most once per instance (its single-flight),
			// the new one once (the others read the shared cache).
			if validations < 2 || validations > instances+1 {
				t.Errorf("validation calls = %d, want 2 to %d", validations, instances+1)
			}
			// The new token is simply valid on every instance.
			for i := range instances {
				if st, set, err := c.get(i, "/dashboard", tok, "tab"); err != nil || st != http.StatusOK || set != "" {
					t.Errorf("instance %d with the new token: %d, %v, set %v", i, st, err, set != "")
				}
			}
			c.noRawTokens(t, old, tok)
		})
	}
}

// TestDistributedRateLimit: a limit of 10 requests a minute holds across
// the instances: 10 allowed in total, not 10 per instance.
func TestDistributedRateLimit(t *testing.T) {
	c := newCluster(t, func(cfg *config.Config) {
		cfg.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 10, Window: time.Minute}
	})
	rs := c.burst(60, "/about", "", func(int) string { return "client" })
	allowed, limited := 0, 0
	for k, r := range rs {
		switch {
		case r.err != nil:
			t.Fatalf("request %d: %v", k, r.err)
		case r.status == http.StatusOK:
			allowed++
		case r.status == http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("request %d: status %d", k, r.status)
		}
	}
	t.Logf("60 requests over %d instances, limit 10/min: %d allowed, %d limited", instances, allowed, limited)
	// The GCRA runs on each instance's clock: a request that read its time
	// a moment before the one that started the bucket, but reached Redis
	// after it, finds a few milliseconds less credit. So a concurrent
	// burst gets 9 or 10, never more: the limit holds across instances.
	if allowed < 9 || allowed > 10 || allowed+limited != 60 {
		t.Fatalf("%d allowed and %d limited, want 10 (or 9) allowed of 60", allowed, limited)
	}
	if got := len(c.upstream.Requests()); got != allowed {
		t.Fatalf("the web app received %d requests, want the %d allowed", got, allowed)
	}
}

// TestDistributedValidation: the validation cache is shared, so one token
// is validated once for all instances; a cold concurrent burst makes at
// most one call per instance (single-flight is per process),
// then none.
func TestDistributedValidation(t *testing.T) {
	c := newCluster(t, nil)
	t.Run("sequential", func(t *testing.T) {
		tok, err := c.backend.Demo().Issue("alice", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		before := c.backend.Calls("auth/me")
		for k := range 3 * instances {
			if st, _, err := c.get(k, "/dashboard", tok, "ua"); err != nil || st != http.StatusOK {
				t.Fatalf("request %d: %d, %v", k, st, err)
			}
		}
		got := c.backend.Calls("auth/me") - before
		t.Logf("%d sequential requests over %d instances: %d validation", 3*instances, instances, got)
		if got != 1 {
			t.Fatalf("validation calls = %d, want 1", got)
		}
		c.noRawTokens(t, tok)
	})
	t.Run("cold concurrent burst", func(t *testing.T) {
		tok, err := c.backend.Demo().Issue("admin", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		before := c.backend.Calls("auth/me")
		for k, r := range c.burst(90, "/dashboard", tok, func(int) string { return "ua" }) {
			if r.err != nil || r.status != http.StatusOK {
				t.Fatalf("request %d: %d, %v", k, r.status, r.err)
			}
		}
		burst := c.backend.Calls("auth/me") - before
		for k, r := range c.burst(30, "/dashboard", tok, func(int) string { return "ua" }) {
			if r.err != nil || r.status != http.StatusOK {
				t.Fatalf("request %d after the burst: %d, %v", k, r.status, r.err)
			}
		}
		after := c.backend.Calls("auth/me") - before - burst
		t.Logf("cold burst of 90 over %d instances: %d validations; 30 more: %d", instances, burst, after)
		if burst < 1 || burst > instances {
			t.Fatalf("validation calls in the burst = %d, want 1 to %d", burst, instances)
		}
		if after != 0 {
			t.Fatalf("validation calls after the burst = %d, want 0", after)
		}
		c.noRawTokens(t, tok)
	})
}

// TestDistributedRedisOutage: Redis is killed in the middle of a load run
// on one instance. No request fails; the health endpoint says
// "store":"unavailable" while Redis is down and "redis" again once it is
// back, without a restart of the gateway.
func TestDistributedRedisOutage(t *testing.T) {
	redisstore.SetDriverLogger(nil) // the driver would report every failed dial on stderr
	c := newCluster(t, func(cfg *config.Config) {
		cfg.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 1_000_000, Window: time.Minute}
		cfg.Store.Redis.Timeout = 200 * time.Millisecond
	})
	tok, err := c.backend.Demo().Issue("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c.health(0) != "redis" {
		t.Fatalf("health store = %q at start, want redis", c.health(0))
	}

	var (
		done, failed atomic.Int64
		stop         = make(chan struct{})
		wg           sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				path := "/about"
				if k%2 == 1 {
					path = "/dashboard" // protected: needs the session
				}
				st, _, err := c.get(0, path, tok, fmt.Sprintf("worker-%d", w))
				if err != nil || st != http.StatusOK {
					failed.Add(1)
				}
				done.Add(1)
			}
		})
	}
	// waitDone waits (bounded) until the workers have made n more requests.
	waitDone := func(n int64) {
		t.Helper()
		target := done.Load() + n
		deadline := time.Now().Add(10 * time.Second)
		for done.Load() < target {
			if time.Now().After(deadline) {
				t.Fatalf("load run stalled at %d requests", done.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}

	waitDone(100)
	c.redis.Kill() // as a crash, in the middle of the run
	killedAt := done.Load()
	c.waitHealth(0, "unavailable")
	waitDone(200)
	// A refresh during the outage works on one instance alone.
	expired, err := c.backend.Demo().Issue("admin", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if st, set, err := c.get(0, "/dashboard", expired, "browser"); err != nil || st != http.StatusOK || set == "" {
		t.Errorf("refresh during the outage: %d, %v, new token %v", st, err, set != "")
	}
	if c.health(0) != "unavailable" {
		t.Errorf("health store = %q during the outage, want unavailable", c.health(0))
	}
	outage := done.Load() - killedAt

	c.redis.Restart()
	c.waitHealth(0, "redis")
	waitDone(100)
	close(stop)
	wg.Wait()
	t.Logf("load run on one instance: %d requests, %d during the outage, %d failed", done.Load(), outage, failed.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed, want 0", failed.Load(), done.Load())
	}
	// Back on Redis: the shared stores are written again.
	c.noRawTokens(t, tok, expired)
}

// TestDistributedRefreshRaceDuringOutage documents what a refresh race
// does while Redis is down: the instances cannot coordinate, so each one
// refreshes the same expired token itself (one backend call per
// instance). The backend rotates it for the first call; the next one is
// reuse (409): that request is logged out, and the demo backend, like most
// rotating backends, revokes the whole token family, so the calls after it
// fail as revoked (403: the user cookie is deleted) and the token the
// first call created dies too, whether or not its request kept it. In the
// end the user has no session. docs/distributed.md quotes this.
func TestDistributedRefreshRaceDuringOutage(t *testing.T) {
	redisstore.SetDriverLogger(nil)
	c := newCluster(t, nil)
	c.redis.Kill()
	old, err := c.backend.Demo().Issue("alice", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	c.backend.SetFault("auth/refresh", testkit.Block(release))
	go func() {
		for range instances { // every instance refreshes for itself
			<-c.refresh
		}
		close(release)
	}()
	rs := c.burst(instances, "/about", old, func(int) string { return "tab" })
	var kept []string
	var keptBy []int // the instance that issued each kept token
	reuse, dropped := 0, 0
	for k, r := range rs {
		switch {
		case r.err != nil:
			t.Fatalf("request %d: %v", k, r.err)
		case r.status == http.StatusTemporaryRedirect:
			reuse++ // reuse: redirect to login, every auth cookie deleted
		case r.status == http.StatusOK && r.set != "":
			kept = append(kept, r.set) // the first refresh, validated before the revocation
			keptBy = append(keptBy, k%instances)
		case r.status == http.StatusOK:
			dropped++ // revoked (or its new token already revoked): guest fallback, cookie deleted
		default:
			t.Fatalf("request %d: status %d", k, r.status)
		}
	}
	t.Logf("refresh race on %d instances during the outage: %d backend refreshes; %d logged out by reuse, %d dropped as revoked, %d kept a new token (revoked at once)",
		instances, c.backend.Calls("auth/refresh"), reuse, dropped, len(kept))
	if got := c.backend.Calls("auth/refresh"); got != instances {
		t.Errorf("backend refresh calls = %d, want %d (one per instance)", got, instances)
	}
	if reuse < 1 || len(kept) > 1 {
		t.Fatalf("%d reuse logouts and %d new tokens kept, want at least 1 and at most 1", reuse, len(kept))
	}
	// Each instance saw its Redis calls fail and says so.
	for i := range instances {
		if got := c.health(i); got != "unavailable" {
			t.Errorf("instance %d: health store = %q, want unavailable", i, got)
		}
	}
	// The reuse revoked the family: a new token the first refresh kept is
	// dead too, for every instance that asks the backend about it (the one
	// that issued it may serve it from its cache for validate.cacheTTL).
	for i, tok := range kept {
		other := (keptBy[i] + 1) % instances
		if st, _, err := c.get(other, "/dashboard", tok, "tab"); err != nil || st != http.StatusTemporaryRedirect {
			t.Fatalf("the new token after the reuse, on instance %d: %d, %v; want a login redirect", other, st, err)
		}
	}
}
