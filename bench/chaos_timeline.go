package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A cohort starts cohortLead before its phase, so that its tokens are
// validated (and cached) before it; they expire cohortExpiry after it
// started, inside the phase.
const (
	cohortLead   = 1500 * time.Millisecond
	cohortExpiry = 3 * time.Second
)

// sigtermResult is what the SIGTERM step saw.
type sigtermResult struct {
	ran      bool
	inflight int           // requests in flight on the instance when it got SIGTERM
	exitErr  string        // "" for exit status 0
	took     time.Duration // from SIGTERM to the exit
	exited   bool
}

// reloadResult is what the SIGHUP step saw.
type reloadResult struct {
	ran         bool
	ok, refused float64 // apilayer_config_reloads_total{result="ok"} and {result="error"} gained
	alive       bool
}

// timeline runs the load and, under it, every step of the run, in order:
// warm-up and baseline, soak (ended sessions, slow-body clients, SIGHUP
// reload), backend 503, hang and reset (each followed by its recovery),
// slow backend, refresh storm, Redis paused then killed and restarted,
// SIGTERM of one instance; then the final measurement.
func (c *chaosRun) timeline(ctx context.Context) error {
	p := c.plan
	const batches = 20
	soakStart := time.Now().Add(p.warmup + 3*time.Second)
	var all, cold []*vuser
	for b := range batches {
		think, hot := p.coldThink, b%int(1/p.hot) == 0
		if hot {
			think = p.hotThink
		}
		// The tokens expire spread over the soak: each user refreshes once.
		exp := soakStart.Add(p.soak * time.Duration(2*b+1) / (2 * batches))
		us, err := c.load.users(ctx, p.users/batches, exp, think, 2)
		if err != nil {
			return err
		}
		all = append(all, us...)
		if !hot {
			cold = append(cold, us...)
		}
	}
	all = append(all, c.load.visitors(p.visitors, p.visitorThink)...)
	c.logf("%d users (%d tabs) and %d visitors; warm-up %s", p.users, tabsOf(all)-p.visitors, p.visitors, p.warmup)

	if err := c.enter(ctx, "warm-up"); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, p.warmup)
	c.load.run(wctx, all)
	cancel()
	var err error
	if c.baseline, err = c.settled(ctx); err != nil {
		return err
	}

	mctx, stopMain := context.WithCancel(ctx)
	waitMain := c.load.start(mctx, all)
	sctx, stopSample := context.WithCancel(ctx)
	var sampler sync.WaitGroup
	sampler.Go(func() { c.sample(sctx) })
	steps := []func(context.Context, []*vuser, []*vuser) error{c.soakStep, c.backendSteps, c.stormStep, c.redisSteps, c.sigtermStep}
	for _, step := range steps {
		if err = step(ctx, all, cold); err != nil {
			break
		}
	}
	stopMain()
	waitMain()
	stopSample()
	sampler.Wait()
	if err != nil {
		return err
	}
	if err := c.enter(ctx, "end"); err != nil {
		return err
	}
	c.final, err = c.settled(ctx)
	return err
}

func tabsOf(us []*vuser) int {
	n := 0
	for _, u := range us {
		n += u.tabs
	}
	return n
}

// enter starts phase name, and counts the backend's rotations and
// duplicate refreshes since the last phase change in the one that ends.
func (c *chaosRun) enter(ctx context.Context, name string) error {
	s, err := c.stats(ctx, "brief=1")
	if err != nil {
		return err
	}
	c.mu.Lock()
	prev := c.rec.current()
	if prev != "" {
		c.rotations[prev] += s.Rotations - c.lastStats.Rotations
		c.dups[prev] += s.Duplicates - c.lastStats.Duplicates
	}
	c.lastStats = s
	c.mu.Unlock()
	c.rec.enter(name)
	c.logf("phase: %s", name)
	return nil
}

// soakStep: the steady load, with users whose sessions the test ends,
// slow-body clients a third of the way in and the SIGHUP reloads half-way.
func (c *chaosRun) soakStep(ctx context.Context, all, cold []*vuser) error {
	if err := c.enter(ctx, "soak"); err != nil {
		return err
	}
	end := time.Now().Add(c.plan.soak)
	// The cold users are in batches; one every len/ended is spread over them.
	var ended []*vuser
	for i := 0; i < len(cold) && len(ended) < c.plan.ended; i += len(cold) / c.plan.ended {
		ended = append(ended, cold[i])
	}
	if err := c.load.end(ctx, ended); err != nil {
		return err
	}
	if err := sleep(ctx, c.plan.soak/3); err != nil {
		return err
	}
	if err := c.slowStep(ctx); err != nil {
		return err
	}
	if err := sleep(ctx, time.Until(end.Add(-c.plan.soak/2))); err != nil {
		return err
	}
	if c.reload {
		if err := c.reloadStep(ctx); err != nil {
			return err
		}
	}
	return sleep(ctx, time.Until(end))
}

// slowStep runs the slow-body clients, each with a session of its own.
func (c *chaosRun) slowStep(ctx context.Context) error {
	var sessions []newSession
	u := fmt.Sprintf("%s/_chaos/users?n=%d&exp=%d", c.backnd.url, c.plan.slowClients, time.Now().Add(time.Hour).Unix())
	if err := c.load.control(ctx, u, &sessions); err != nil {
		return err
	}
	cookies := make([]string, len(sessions))
	for i, s := range sessions {
		cookies[i] = userCookie + "=" + s.Token
	}
	var addrs []string
	for _, g := range c.live() {
		addrs = append(addrs, strings.TrimPrefix(g.url, "http://"))
	}
	c.logf("%d slow-body clients", c.plan.slowClients)
	c.slow = slowClients(ctx, c.plan.slowClients, addrs, cookies)
	phase := c.rec.current()
	for _, r := range c.slow {
		a := answer{kind: kindUpload, who: whoUser}
		v := verdict{}
		if !r.ok {
			v = verdict{failed: true, reason: "upload: slow body not ended by bodyIdleTimeout: " + r.outcome}
		}
		c.rec.record(phase, a, v, fmt.Sprintf("%s chunked=%v: %s after %s %s", r.up.path, r.up.chunked, r.outcome, r.after.Round(time.Millisecond), r.err))
	}
	return nil
}

// reloadStep reloads gw1 mid-load: a valid change (rateLimit.maxRequests),
// then a broken file, which must leave the running config in place; a
// cohort of users with three tabs has tokens expiring as it happens.
func (c *chaosRun) reloadStep(ctx context.Context) error {
	g := c.gws[0]
	const metric = "apilayer_config_reloads_total"
	count := func(result string) float64 {
		m, err := g.metrics(ctx, metric)
		if err != nil {
			return -1
		}
		return m[metric+`{result="`+result+`"}`]
	}
	ok0, err0 := count("ok"), count("error")
	hup := func(cfg gwConfig, result string, before float64) (float64, error) {
		if err := os.WriteFile(g.file, []byte(cfg.yaml()), 0o600); err != nil {
			return 0, err
		}
		if err := g.signal(syscall.SIGHUP); err != nil {
			return 0, err
		}
		for range 50 {
			if n := count(result); n > before {
				return n - before, nil
			}
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}
	// A cohort whose tokens expire as the reload swaps the config: their
	// refreshes are in flight across it.
	users, stop, err := c.cohort(ctx, c.plan.cohort, time.Now().Add(cohortExpiry), c.plan.stormThink, 3)
	if err != nil {
		return err
	}
	defer stop()
	if err := sleep(ctx, cohortExpiry); err != nil {
		return err
	}
	c.logf("SIGHUP gw1: a valid change, then a broken file")
	cfg := g.cfg
	cfg.maxRequests++
	c.reloaded.ran = true
	if c.reloaded.ok, err = hup(cfg, "ok", ok0); err != nil {
		return err
	}
	g.cfg = cfg
	broken := cfg
	broken.broken = true
	if c.reloaded.refused, err = hup(broken, "error", err0); err != nil {
		return err
	}
	if err := os.WriteFile(g.file, []byte(cfg.yaml()), 0o600); err != nil {
		return err
	}
	_, herr := g.health(ctx)
	exited, _ := g.wait(0)
	c.reloaded.alive = herr == nil && !exited
	if c.reloaded.ok != 1 || c.reloaded.refused != 1 || !c.reloaded.alive {
		c.problem("SIGHUP reload of gw1: %v reloads ok (want 1), %v refused (want 1), serving after: %v", c.reloaded.ok, c.reloaded.refused, c.reloaded.alive)
	}
	if err := sleep(ctx, 3*time.Second); err != nil {
		return err
	}
	stop()
	return c.once(ctx, "SIGHUP reload", users)
}

// backendSteps: the backend answers 503, hangs, resets connections, each
// for plan.outage with a cohort of users whose tokens expire inside it;
// after each, the run waits for every breaker to close. Then the backend
// is slow (answers after plan.slowDelay) with another cohort.
func (c *chaosRun) backendSteps(ctx context.Context, all, cold []*vuser) error {
	p := c.plan
	for _, kind := range []string{fault503, faultHang, faultReset} {
		_, stop, err := c.cohort(ctx, p.cohort, time.Now().Add(cohortExpiry), p.cohortThink, 0)
		if err != nil {
			return err
		}
		if err := sleep(ctx, cohortLead); err != nil {
			return err
		}
		if err := c.enter(ctx, "backend "+kind); err != nil {
			return err
		}
		at := time.Now()
		gate, fw := c.load.gate.open(at), c.load.fault.open(at)
		if err := c.fault(ctx, kind, 0); err != nil {
			return err
		}
		if err := sleep(ctx, p.outage*3/4); err != nil {
			return err
		}
		if !c.anyHealth(ctx, func(h health) bool { return h.Backend == "unavailable" }) {
			c.problem("backend %s: no gateway said backend unavailable %s into the outage", kind, p.outage*3/4)
		}
		if err := sleep(ctx, p.outage/4); err != nil {
			return err
		}
		if err := c.fault(ctx, faultOK, 0); err != nil {
			return err
		}
		c.load.fault.close(fw, time.Now())
		if err := c.enter(ctx, "backend "+kind+" recovery"); err != nil {
			return err
		}
		c.note("backend %s for %s: breakers closed %s after the backend recovered", kind, p.outage, c.waitClosed(ctx).Round(100*time.Millisecond))
		c.load.gate.close(gate, time.Now())
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
		stop()
	}
	_, stop, err := c.cohort(ctx, p.cohort, time.Now().Add(cohortExpiry), p.cohortThink, 0)
	if err != nil {
		return err
	}
	defer stop()
	if err := sleep(ctx, cohortLead); err != nil {
		return err
	}
	if err := c.enter(ctx, "backend slow"); err != nil {
		return err
	}
	if err := c.fault(ctx, faultSlow, p.slowDelay); err != nil {
		return err
	}
	if err := sleep(ctx, p.slow); err != nil {
		return err
	}
	return c.fault(ctx, faultOK, 0)
}

// anyHealth reports whether some live gateway's health satisfies f.
func (c *chaosRun) anyHealth(ctx context.Context, f func(health) bool) bool {
	for _, g := range c.live() {
		if h, err := g.health(ctx); err == nil && f(h) {
			return true
		}
	}
	return false
}

// waitClosed waits, at most 45 s, until every live gateway says the
// backend is ok with the validate and guest breakers closed and the
// refresh breaker not open (half-open: the next refresh probes), nudging
// half-open guest breakers; it returns how long that took.
func (c *chaosRun) waitClosed(ctx context.Context) time.Duration {
	start := time.Now()
	for {
		var open []string
		for _, g := range c.live() {
			h, err := g.health(ctx)
			if err != nil {
				open = append(open, g.name+": "+err.Error())
				continue
			}
			if h.Backend != "ok" {
				open = append(open, g.name+" backend "+h.Backend)
			}
			for _, ep := range []string{"validate", "refresh", "guest"} {
				st := h.Endpoints[ep]
				if st == "closed" || (ep == "refresh" && st == "half-open") {
					continue
				}
				open = append(open, g.name+" "+ep+" "+st)
				if ep == "guest" {
					c.nudge(ctx, g)
				}
			}
		}
		if len(open) == 0 {
			return time.Since(start)
		}
		if time.Since(start) > 45*time.Second || sleep(ctx, 200*time.Millisecond) != nil {
			c.problem("breakers still not closed 45 s after the backend recovered: %s", strings.Join(open, ", "))
			return time.Since(start)
		}
	}
}

// stormStep: users with three tabs each, every token expiring in the same
// second, each request to a random instance. Each user must be refreshed
// exactly once.
func (c *chaosRun) stormStep(ctx context.Context, all, cold []*vuser) error {
	p := c.plan
	users, stop, err := c.cohort(ctx, p.stormUsers, time.Now().Add(cohortExpiry), p.stormThink, 3)
	if err != nil {
		return err
	}
	if err := c.enter(ctx, "refresh storm"); err != nil {
		stop()
		return err
	}
	err = sleep(ctx, p.storm)
	stop()
	if err != nil {
		return err
	}
	return c.once(ctx, "refresh storm", users)
}

// redisSteps: Redis stalling (stopped for 300 ms every 700 ms), then
// paused (SIGSTOP) and resumed (SIGCONT), then killed (SIGKILL) and started
// again, empty, on the same port; each time with a cohort of users whose
// tokens expire while Redis is away.
func (c *chaosRun) redisSteps(ctx context.Context, all, cold []*vuser) error {
	p := c.plan
	c.load.router.sticky.Store(!c.peers)
	defer c.load.router.sticky.Store(false)
	for _, how := range []string{"stalls", "paused", "killed"} {
		// Three tabs each, every request to a random instance (with
		// peers): the refreshes race across instances.
		users, stop, err := c.cohort(ctx, p.cohort, time.Now().Add(cohortExpiry), p.stormThink, 3)
		if err != nil {
			return err
		}
		if err := sleep(ctx, cohortLead); err != nil {
			stop()
			return err
		}
		if err := c.enter(ctx, "redis "+how); err != nil {
			stop()
			return err
		}
		err = c.redisAway(ctx, how)
		if err == nil {
			err = sleep(ctx, p.redisUp)
		}
		stop()
		if err != nil {
			return err
		}
		if err := c.once(ctx, "redis "+how, users); err != nil {
			return err
		}
	}
	return nil
}

// once notes how many of users (made in one call, so with consecutive
// ids) were refreshed, with how many backend calls. Fewer than 80% of them
// refreshed means the step did not exercise what it claims (a user who
// made no request after its token expired is not refreshed); more calls
// than rotations are duplicates, which the goals count.
func (c *chaosRun) once(ctx context.Context, what string, users []*vuser) error {
	s, err := c.stats(ctx, fmt.Sprintf("brief=1&from=%d&to=%d", users[0].id, users[len(users)-1].id))
	if err != nil {
		return err
	}
	c.note("%s: %d users with expired tokens: %d refreshed, with %d backend refresh calls", what, len(users), s.RangeRotations, s.RangeCalls)
	if s.RangeRotations*5 < len(users)*4 {
		c.problem("%s: only %d of %d users refreshed", what, s.RangeRotations, len(users))
	}
	return nil
}

// redisAway takes Redis away for plan.redisDown and brings it back:
// "stalls" stops it for 300 ms every 700 ms (a Redis that answers late:
// each stall is longer than store.redis.timeout), "paused" stops it,
// "killed" kills it and starts a new, empty one on the same port.
func (c *chaosRun) redisAway(ctx context.Context, how string) error {
	p := c.plan
	proc := c.redis.cmd.Process
	switch how {
	case "stalls":
		noticed := false
		for end := time.Now().Add(p.redisDown); time.Now().Before(end); {
			proc.Signal(syscall.SIGSTOP)
			err := sleep(ctx, 300*time.Millisecond)
			noticed = noticed || c.anyHealth(ctx, func(h health) bool { return h.Store == "unavailable" })
			proc.Signal(syscall.SIGCONT)
			if err == nil {
				err = sleep(ctx, 400*time.Millisecond)
			}
			if err != nil {
				return err
			}
		}
		if !noticed {
			c.problem("redis stalls: no gateway said store unavailable during a stall")
		}
	case "paused", "killed":
		if how == "paused" {
			proc.Signal(syscall.SIGSTOP)
		} else {
			proc.Kill()
			c.redis.cmd.Wait()
		}
		if err := sleep(ctx, p.redisDown/2); err != nil {
			return err
		}
		if !c.anyHealth(ctx, func(h health) bool { return h.Store == "unavailable" }) {
			c.problem("redis %s: no gateway said store unavailable %s later", how, p.redisDown/2)
		}
		if err := sleep(ctx, p.redisDown-p.redisDown/2); err != nil {
			return err
		}
		if how == "paused" {
			proc.Signal(syscall.SIGCONT)
		} else {
			r, err := startRedisAt(ctx, c.dir, c.raddr)
			if err != nil {
				return err
			}
			c.redis = r
		}
	}
	back := map[string]string{"stalls": "redis after stalls", "paused": "redis resumed", "killed": "redis restarted"}[how]
	if err := c.enter(ctx, back); err != nil {
		return err
	}
	start := time.Now()
	for !c.allHealth(ctx, func(h health) bool { return h.Store == "redis" }) {
		if time.Since(start) > 30*time.Second {
			c.problem("%s: the gateways did not say store redis within 30 s", back)
			return nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	c.note("redis %s for %s: every instance back on Redis %s after it returned", how, p.redisDown, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// allHealth reports whether every live gateway's health satisfies f.
func (c *chaosRun) allHealth(ctx context.Context, f func(health) bool) bool {
	for _, g := range c.live() {
		if h, err := g.health(ctx); err != nil || !f(h) {
			return false
		}
	}
	return true
}

// sigtermStep: slow requests in flight on gw3, which the load balancer
// (the load) then takes out of rotation, as a Kubernetes preStop or an
// upstream change does, and which then gets SIGTERM: the requests in
// flight must finish, the process must exit 0, the others keep serving.
func (c *chaosRun) sigtermStep(ctx context.Context, all, cold []*vuser) error {
	const victim = 2
	g := c.gws[victim]
	if err := c.enter(ctx, "SIGTERM gw3"); err != nil {
		return err
	}
	var users []*vuser
	for _, u := range all {
		u.mu.Lock()
		ok := u.who() == whoUser
		u.mu.Unlock()
		if ok && len(users) < 8 {
			users = append(users, u)
		}
	}
	var inflight sync.WaitGroup
	q := fmt.Sprintf("ms=%d", c.plan.inflight.Milliseconds())
	for _, u := range users {
		inflight.Go(func() { c.load.one(ctx, u, kindSlowPage, victim, q) })
		inflight.Go(func() { c.load.one(ctx, u, kindSlowAPI, victim, q) })
	}
	c.sigterm = sigtermResult{ran: true, inflight: 2 * len(users)}
	if err := sleep(ctx, 100*time.Millisecond); err != nil {
		return err
	}
	c.load.router.remove(victim)
	if err := sleep(ctx, 200*time.Millisecond); err != nil {
		return err
	}
	sent := time.Now()
	if err := g.signal(syscall.SIGTERM); err != nil {
		return err
	}
	inflight.Wait()
	exited, err := g.wait(chaosShutdown + 5*time.Second)
	c.sigterm.exited, c.sigterm.took = exited, time.Since(sent)
	switch {
	case !exited:
		c.sigterm.exitErr = "still running"
		c.problem("SIGTERM gw3: still running %s later", c.sigterm.took.Round(time.Second))
	case err != nil:
		c.sigterm.exitErr = err.Error()
		c.problem("SIGTERM gw3: %v", err)
	}
	return sleep(ctx, c.plan.drainTail)
}
