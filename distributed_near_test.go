package apilayer_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/session"
)

// The near cache of distributed mode (store.redis.nearCacheTTL,
// docs/distributed.md): each instance keeps validation results in memory
// in front of Redis; logouts are published and drop them everywhere.

// withNear enables the built-in auth API (for its logout) and sets the
// near cache's TTL.
func withNear(ttl time.Duration) func(*config.Config) {
	return func(cfg *config.Config) {
		on := true
		cfg.AuthAPI.Enabled = &on
		cfg.Store.Redis.NearCacheTTL = &ttl
	}
}

// nearCluster is newCluster with withNear(ttl) and edit, whose refresh
// calls are not awaited: a logged-out token is refreshed in vain by every
// request that carries it.
func nearCluster(t *testing.T, ttl time.Duration, edit func(*config.Config)) *cluster {
	t.Helper()
	c := newCluster(t, func(cfg *config.Config) {
		withNear(ttl)(cfg)
		if edit != nil {
			edit(cfg)
		}
	})
	go func() {
		for {
			select {
			case <-c.refresh:
			case <-t.Context().Done():
				return
			}
		}
	}()
	return c
}

// logout posts the built-in auth API's logout to instance i with token.
func (c *cluster) logout(i int, token string) error {
	r, err := http.NewRequestWithContext(c.t.Context(), http.MethodPost, c.srvs[i%instances].URL+"/api/auth/logout", strings.NewReader("{}"))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	r.AddCookie(&http.Cookie{Name: "userAuthToken", Value: token})
	res, err := c.client.Do(r)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("logout answered %d", res.StatusCode)
	}
	return nil
}

// signedIn reports whether instance i lets token through to /dashboard
// (200) rather than redirecting to the login page (307).
func (c *cluster) signedIn(i int, token string) (bool, error) {
	st, _, err := c.get(i, "/dashboard", token, "browser")
	switch {
	case err != nil:
		return false, err
	case st == http.StatusOK:
		return true, nil
	case st == http.StatusTemporaryRedirect:
		return false, nil
	}
	return false, fmt.Errorf("/dashboard answered %d", st)
}

// redisGets is the number of GET commands Redis has served.
func redisGets(t *testing.T, rc *redis.Client) int64 {
	t.Helper()
	info, err := rc.Info(t.Context(), "commandstats").Result()
	if err != nil {
		t.Fatalf("INFO: %v", err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_get:calls="); ok {
			n, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
			return n
		}
	}
	return 0
}

// TestDistributedNearCacheHits: with a near cache, requests with a token
// an instance has seen make no Redis read; without one, each does.
func TestDistributedNearCacheHits(t *testing.T) {
	tests := []struct {
		name    string
		ttl     time.Duration
		minGets int64 // for 30 requests
		maxGets int64
	}{
		{"near cache", time.Second, 0, 0},
		{"nearCacheTTL 0", 0, 30, 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := nearCluster(t, tt.ttl, nil)
			rc := redis.NewClient(&redis.Options{Addr: c.redis.Addr()})
			defer rc.Close()
			tok, err := c.backend.Demo().Issue("alice", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			for i := range instances {
				if in, err := c.signedIn(i, tok); err != nil || !in {
					t.Fatalf("instance %d: signed in %v, %v", i, in, err)
				}
			}
			before := redisGets(t, rc)
			for k := range 30 {
				if in, err := c.signedIn(k, tok); err != nil || !in {
					t.Fatalf("request %d: signed in %v, %v", k, in, err)
				}
			}
			gets := redisGets(t, rc) - before
			t.Logf("30 requests over %d instances with a seen token: %d Redis GETs", instances, gets)
			if gets < tt.minGets || gets > tt.maxGets {
				t.Fatalf("Redis GETs = %d, want %d to %d", gets, tt.minGets, tt.maxGets)
			}
		})
	}
}

// TestDistributedLogoutInvalidatesNearCaches: a logout on one instance is
// seen by the two others within 100 ms, measured from the logout's
// response to the moment both redirect the token to the login page, over
// 200 logouts. The near TTL is a minute, so only the invalidation can
// have dropped the entries. The invalidation messages carry token keys
// (SHA-256), never a token.
func TestDistributedLogoutInvalidatesNearCaches(t *testing.T) {
	c := nearCluster(t, time.Minute, nil)
	rc := redis.NewClient(&redis.Options{Addr: c.redis.Addr()})
	defer rc.Close()
	sub := rc.Subscribe(t.Context(), "apilayer:invalidate")
	defer sub.Close()
	if _, err := sub.Receive(t.Context()); err != nil {
		t.Fatal(err)
	}
	msgs := sub.Channel()

	const n = 200
	took := make([]time.Duration, n)
	tokens := make([]string, n)
	for k := range n {
		tok, err := c.backend.Demo().Issue("alice", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		tokens[k] = tok
		for i := range instances {
			if in, err := c.signedIn(i, tok); err != nil || !in {
				t.Fatalf("logout %d: instance %d before: signed in %v, %v", k, i, in, err)
			}
		}
		a := k % instances
		if err := c.logout(a, tok); err != nil {
			t.Fatalf("logout %d: %v", k, err)
		}
		loggedOut := time.Now()
		var wg sync.WaitGroup
		seen := make([]time.Duration, instances)
		for i := range instances {
			if i == a {
				continue
			}
			wg.Go(func() {
				for {
					in, err := c.signedIn(i, tok)
					if err != nil {
						t.Errorf("logout %d: instance %d: %v", k, i, err)
						return
					}
					if !in {
						seen[i] = time.Since(loggedOut)
						return
					}
					if time.Since(loggedOut) > 10*time.Second {
						t.Errorf("logout %d: instance %d still signed in after 10s", k, i)
						return
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		took[k] = slices.Max(seen)
	}
	slices.Sort(took)
	p50, p99 := took[n/2], took[n*99/100]
	t.Logf("logout on one instance -> redirected by both others, %d logouts: p50 %v, p99 %v, max %v", n, p50, p99, took[n-1])
	if p99 > 100*time.Millisecond {
		t.Errorf("p99 %v, want at most 100ms", p99)
	}
	// A minute is the near TTL: any logout seen later was not invalidated.
	if took[n-1] > time.Second {
		t.Errorf("slowest logout seen after %v", took[n-1])
	}

	// Every logout was published once (the probes' invalid verdicts are
	// published too), as a key, never as a token.
	keys := map[string]bool{}
	deadline := time.After(5 * time.Second)
	for len(keys) < n {
		select {
		case m := <-msgs:
			for _, tok := range tokens {
				if strings.Contains(m.Payload, tok) {
					t.Fatal("an invalidation message carries a token")
				}
			}
			keys[m.Payload] = true
		case <-deadline:
			t.Fatalf("%d distinct invalidation messages, want %d", len(keys), n)
		}
	}
	for k, tok := range tokens {
		if !keys[session.Key(tok)] {
			t.Fatalf("logout %d was not published under the token's key", k)
		}
	}
}

// TestDistributedNearCacheMissedInvalidation: an invalidation that never
// arrives (the shared entry deleted without a message, the token revoked
// at the backend) stops authenticating on every instance once nearCacheTTL
// has passed: every request that started later is refused.
func TestDistributedNearCacheMissedInvalidation(t *testing.T) {
	const ttl = 300 * time.Millisecond
	c := nearCluster(t, ttl, nil)
	rc := redis.NewClient(&redis.Options{Addr: c.redis.Addr()})
	defer rc.Close()
	tok, err := c.backend.Demo().Issue("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := range instances {
		if in, err := c.signedIn(i, tok); err != nil || !in {
			t.Fatalf("instance %d: signed in %v, %v", i, in, err)
		}
	}
	c.backend.Demo().Revoke(tok)
	if err := rc.Del(t.Context(), "apilayer:cache:"+session.Key(tok)).Err(); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	expectRefused(t, c, tok, deleted, ttl, 0, 1, 2)
}

// expectRefused probes token on the instances insts until bound (and a
// little more) has passed since from, and fails if a probe that started
// after from+bound was let through. It logs when each instance first
// refused.
func expectRefused(t *testing.T, c *cluster, token string, from time.Time, bound time.Duration, insts ...int) {
	t.Helper()
	var wg sync.WaitGroup
	refused := make([]time.Duration, len(insts)) // by position in insts
	for n, i := range insts {
		wg.Go(func() {
			refused[n] = -1
			for {
				start := time.Now()
				if start.Sub(from) > bound+200*time.Millisecond {
					return
				}
				in, err := c.signedIn(i, token)
				switch {
				case err != nil:
					t.Errorf("instance %d: %v", i, err)
					return
				case in && start.Sub(from) > bound:
					t.Errorf("instance %d authenticated a request started %v after the invalidation was missed (bound %v)",
						i, start.Sub(from), bound)
					return
				case !in && refused[n] < 0:
					refused[n] = start.Sub(from)
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	t.Logf("bound %v: first refusal after %v by instances %v", bound, refused, insts)
}

// TestDistributedNearCacheRedisPauseRestart: Redis hangs (SIGSTOP), a
// logout happens on one instance meanwhile (the invalidation cannot be
// published), then Redis is killed and started again, empty, on the same
// port. Under load on every instance, no request fails; once the instances
// are back on Redis, the logged-out token is refused everywhere at once
// (their near caches were emptied: invalidations may have been lost); and
// invalidations are delivered again (the instances resubscribed by
// themselves). The near TTL is a minute: only the emptying can explain a
// refusal.
func TestDistributedNearCacheRedisPauseRestart(t *testing.T) {
	redisstore.SetDriverLogger(nil) // the driver would report every failed dial on stderr
	c := nearCluster(t, time.Minute, func(cfg *config.Config) {
		cfg.Store.Redis.Timeout = 200 * time.Millisecond
		// Each request counts in Redis: its outage shows at once.
		cfg.RateLimit = config.RateLimit{Enabled: true, MaxRequests: 1_000_000, Window: time.Minute}
	})
	demo := c.backend.Demo()
	stay, err := demo.Issue("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := demo.Issue("admin", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := range instances {
		for _, tok := range []string{stay, gone} {
			if in, err := c.signedIn(i, tok); err != nil || !in {
				t.Fatalf("instance %d: signed in %v, %v", i, in, err)
			}
		}
	}

	var (
		done, failed atomic.Int64
		stop         = make(chan struct{})
		wg           sync.WaitGroup
	)
	for w := range 6 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if in, err := c.signedIn(w, stay); err != nil || !in {
					failed.Add(1)
				}
				done.Add(1)
			}
		})
	}
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
	c.redis.Pause()
	for i := range instances {
		c.waitHealth(i, "unavailable")
	}
	if err := c.logout(0, gone); err != nil {
		t.Fatalf("logout while Redis hangs: %v", err)
	}
	// The other instances go on serving the logged-out token from their
	// near caches and their own memory while Redis is away
	// (docs/distributed.md).
	for i := 1; i < instances; i++ {
		if in, err := c.signedIn(i, gone); err != nil || !in {
			t.Fatalf("instance %d during the outage: signed in %v, %v; want served from memory", i, in, err)
		}
	}
	waitDone(100)
	c.redis.Kill()
	c.redis.Restart()
	for i := range instances {
		c.waitHealth(i, "redis")
	}
	back := time.Now()
	// Invalidations were lost: each instance emptied its near cache when
	// its breaker closed, before its health said "redis". Instance 0 is
	// not asked: it would
	// find the token invalid and announce it to the others.
	expectRefused(t, c, gone, back, 50*time.Millisecond, 1, 2)
	waitDone(100)

	// Subscribed again: a logout on one instance reaches the others.
	tok, err := demo.Issue("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := range instances {
		if in, err := c.signedIn(i, tok); err != nil || !in {
			t.Fatalf("instance %d after the restart: signed in %v, %v", i, in, err)
		}
	}
	if err := c.logout(0, tok); err != nil {
		t.Fatal(err)
	}
	loggedOut := time.Now()
	for i := 1; i < instances; i++ {
		for {
			in, err := c.signedIn(i, tok)
			if err != nil {
				t.Fatal(err)
			}
			if !in {
				break
			}
			if time.Since(loggedOut) > 10*time.Second {
				t.Fatalf("instance %d: a logout after the restart not seen (not resubscribed?)", i)
			}
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("load on %d instances: %d requests, %d failed", instances, done.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed, want 0", failed.Load(), done.Load())
	}
	c.noRawTokens(t, stay, gone, tok)
}
