package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// chaosPlan is the size and the timeline of a chaos run.
type chaosPlan struct {
	users, visitors int // the main load: users with accounts, visitors without
	hot             float64
	hotThink        time.Duration // mean pause of a hot user's tab
	coldThink       time.Duration
	visitorThink    time.Duration
	ended           int // users whose session the test ends during the soak
	cohort          int // users whose tokens expire inside each outage
	cohortThink     time.Duration
	stormUsers      int // users of the refresh storm, 3 tabs each
	stormThink      time.Duration
	slowClients     int

	warmup, soak, outage, slow, storm time.Duration
	redisDown, redisUp, drainTail     time.Duration
	inflight                          time.Duration // how long the requests in flight at SIGTERM take
	slowDelay                         time.Duration // the backend's answer time in the slow phase
}

// chaosPlanFor is the plan of a full run (about 6 minutes) or a quick one
// (under 2 minutes on 2 cores, compilation included).
func chaosPlanFor(quick bool) chaosPlan {
	if quick {
		return chaosPlan{
			users: 800, visitors: 80, hot: 0.2, hotThink: 2500 * time.Millisecond, coldThink: 12 * time.Second,
			visitorThink: 5 * time.Second, ended: 8, cohort: 40, cohortThink: 1500 * time.Millisecond,
			stormUsers: 100, stormThink: 1200 * time.Millisecond, slowClients: 8,
			warmup: 3 * time.Second, soak: 8 * time.Second, outage: 3500 * time.Millisecond, slow: 3 * time.Second,
			storm: 6 * time.Second, redisDown: 4 * time.Second, redisUp: 1500 * time.Millisecond, drainTail: time.Second,
			inflight: 1500 * time.Millisecond, slowDelay: 300 * time.Millisecond,
		}
	}
	return chaosPlan{
		users: 3000, visitors: 300, hot: 0.2, hotThink: 3 * time.Second, coldThink: 15 * time.Second,
		visitorThink: 5 * time.Second, ended: 30, cohort: 150, cohortThink: 1500 * time.Millisecond,
		stormUsers: 300, stormThink: time.Second, slowClients: 24,
		warmup: 20 * time.Second, soak: 120 * time.Second, outage: 15 * time.Second, slow: 10 * time.Second,
		storm: 20 * time.Second, redisDown: 15 * time.Second, redisUp: 10 * time.Second, drainTail: 10 * time.Second,
		inflight: 3 * time.Second, slowDelay: 300 * time.Millisecond,
	}
}

// chaosRun is one run of the chaos suite: its processes, its load and what
// it found.
type chaosRun struct {
	plan   chaosPlan
	dir    string
	bin    string
	commit string // the commit the binary was built from, read when it was
	logf   func(string, ...any)
	backnd *proc
	upstr  *proc
	redis  *proc
	raddr  string // Redis's address, kept across its restart
	gws    []*gateway
	load   *load
	rec    *recorder
	peers  bool // the binary knows store.peers
	reload bool // the binary reloads on SIGHUP

	mu       sync.Mutex
	notes    []string             // what the run did besides the load, for the report; guarded by mu
	problems []string             // the suite did not exercise what it claims; guarded by mu
	peaks    map[string]resources // per phase, the highest of each figure over the gateways; guarded by mu

	slow       []slowResult
	sigterm    sigtermResult
	reloaded   reloadResult
	rotations  map[string]int // backend rotations by phase
	dups       map[string]int // duplicate refreshes by phase
	baseline   map[string]resources
	final      map[string]resources
	backendEnd backendStats
	lastStats  backendStats // at the last phase change; guarded by mu
	started    time.Time
}

func (c *chaosRun) note(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
	c.logf(format, args...)
}

// problem records that the suite did not do what it claims (a fault that
// nothing met, a pause Redis did not notice): the run then fails.
func (c *chaosRun) problem(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
	c.logf("PROBLEM: "+format, args...)
}

// runChaos runs the chaos suite and writes its report to w; the last line
// is the CHAOS line. It fails when a goal is missed or the suite did not
// exercise what it claims.
func runChaos(ctx context.Context, s settings, w io.Writer) (err error) {
	c := &chaosRun{plan: chaosPlanFor(s.quick), rec: newRecorder(), peaks: map[string]resources{},
		rotations: map[string]int{}, dups: map[string]int{},
	}
	started := time.Now()
	c.started = started
	c.logf = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "chaos: %5.1fs "+format+"\n", append([]any{time.Since(started).Seconds()}, args...)...)
	}
	if c.dir, err = os.MkdirTemp("", "apilayer-chaos-"); err != nil {
		return fmt.Errorf("bench: chaos: %w", err)
	}
	defer func() {
		if err == nil {
			os.RemoveAll(c.dir)
		} else {
			fmt.Fprintf(os.Stderr, "chaos: configurations and gateway logs kept in %s\n", c.dir)
		}
	}()
	defer func() {
		if serr := c.stop(); err == nil && serr != nil {
			err = serr
		}
	}()
	if err := c.start(ctx, s.apilayer); err != nil {
		return err
	}
	if err := c.timeline(ctx); err != nil {
		return err
	}
	if c.backendEnd, err = c.stats(ctx, ""); err != nil {
		return err
	}
	if c.rec.total().ended == 0 {
		c.problem("no ended session's cookie was deleted: the logout count saw no deletion")
	}
	res := c.result()
	res.took = time.Since(started)
	fmt.Fprint(w, c.report(res))
	fmt.Fprintln(w, res.line())
	if missed := res.missed(); len(missed) > 0 || len(c.problems) > 0 {
		return fmt.Errorf("bench: chaos: %s", strings.Join(append(missed, c.problems...), "; "))
	}
	return nil
}

// start builds or finds the binary and starts the backend, the web app,
// Redis and three gateway instances.
func (c *chaosRun) start(ctx context.Context, bin string) error {
	c.bin, c.commit = bin, commit()
	if c.bin == "" {
		c.logf("building ./cmd/apilayer")
		var err error
		if c.bin, err = buildGateway(ctx, c.dir); err != nil {
			return err
		}
	}
	var err error
	if c.backnd, err = startServer(ctx, "chaos backend", "chaos-backend"); err != nil {
		return err
	}
	if c.upstr, err = startServer(ctx, "chaos web app", "chaos-upstream"); err != nil {
		return err
	}
	if c.redis, err = startRedis(ctx, c.dir); err != nil {
		if errors.Is(err, errNotInstalled) {
			return fmt.Errorf("bench: chaos needs redis-server: %w", err)
		}
		return err
	}
	c.raddr = strings.TrimPrefix(c.redis.url, "redis://")
	addrs := make([]string, 3)
	for i := range addrs {
		if addrs[i], err = freeAddr(); err != nil {
			return fmt.Errorf("bench: chaos: %w", err)
		}
	}
	cfg := func(i int, peers bool) gwConfig {
		g := gwConfig{listen: addrs[i], backend: fmt.Sprintf("%s/g%d/api/", c.backnd.url, i+1), upstream: c.upstr.url,
			redis: c.redis.url + "/0", maxRequests: 100_000}
		if peers {
			for _, a := range addrs {
				g.peers = append(g.peers, "http://"+a)
			}
			g.peerSecret = "chaos-peer-secret-0123456789abcdef0123"
		}
		return g
	}
	if c.peers = c.knows(ctx, cfg(0, true)); !c.peers {
		c.note("store.peers: not in this build; while Redis is down the load sends each user to one instance (sticky), so refreshes across instances without Redis are not covered")
	}
	if c.reload, err = c.reloads(ctx, cfg(0, false)); err != nil {
		return err
	}
	for i := range addrs {
		g, err := startGateway(ctx, c.bin, c.dir, fmt.Sprintf("gw%d", i+1), cfg(i, c.peers))
		if err != nil {
			return err
		}
		c.gws = append(c.gws, g)
	}
	urls := make([]string, len(c.gws))
	for i, g := range c.gws {
		urls[i] = g.url
	}
	c.load = newLoad(urls, c.backnd.url, c.rec)
	return nil
}

// knows reports whether `apilayer check` accepts cfg (here: whether the
// binary knows store.peers).
func (c *chaosRun) knows(ctx context.Context, cfg gwConfig) bool {
	file := c.dir + "/check.yaml"
	if err := os.WriteFile(file, []byte(cfg.yaml()), 0o600); err != nil {
		return false
	}
	return exec.CommandContext(ctx, c.bin, "check", "--config", file).Run() == nil
}

// reloads reports whether `apilayer serve` reloads its config on SIGHUP:
// an instance started for the question gets one; a binary without reload
// exits on it (SIGHUP's default).
func (c *chaosRun) reloads(ctx context.Context, cfg gwConfig) (bool, error) {
	addr, err := freeAddr()
	if err != nil {
		return false, err
	}
	cfg.listen, cfg.peers = addr, nil
	g, err := startGateway(ctx, c.bin, c.dir, "sighup-probe", cfg)
	if err != nil {
		return false, err
	}
	defer g.stop()
	g.signal(syscall.SIGHUP)
	if exited, _ := g.wait(2 * time.Second); exited {
		c.note("SIGHUP reload: NOT COVERED: this apilayer exits on SIGHUP (no reload in this build); the reload step (chaosRun.reloadStep) runs once `apilayer serve` handles SIGHUP")
		return false, nil
	}
	return true, nil
}

// stop ends every process of the run.
func (c *chaosRun) stop() error {
	var errs []error
	for _, g := range c.gws {
		errs = append(errs, g.stop())
	}
	for _, p := range []*proc{c.redis, c.upstr, c.backnd} {
		if p != nil {
			p.cmd.Process.Signal(syscall.SIGCONT) // a paused Redis cannot stop
			errs = append(errs, p.stop())
		}
	}
	return errors.Join(errs...)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// live are the gateways in the load balancer's rotation.
func (c *chaosRun) live() []*gateway {
	c.load.router.mu.Lock()
	defer c.load.router.mu.Unlock()
	out := make([]*gateway, 0, len(c.load.router.live))
	for _, i := range c.load.router.live {
		out = append(out, c.gws[i])
	}
	return out
}

// ports are the backend's and the web app's ports, and Redis's.
func (c *chaosRun) ports() (http []int, redis int) {
	for _, u := range []string{c.backnd.url, c.upstr.url} {
		http = append(http, portOf(strings.TrimPrefix(u, "http://")))
	}
	return http, portOf(c.raddr)
}

// settled measures the live gateways once the load's connections are gone.
func (c *chaosRun) settled(ctx context.Context) (map[string]resources, error) {
	c.load.client.CloseIdleConnections()
	hp, rp := c.ports()
	return settle(ctx, c.live(), hp, rp)
}

// sample records, every 2 s until ctx is done, the highest goroutines, fds
// and RSS of any gateway in the current phase.
func (c *chaosRun) sample(ctx context.Context) {
	hp, rp := c.ports()
	for sleep(ctx, 2*time.Second) == nil {
		phase := c.rec.current()
		live := c.live()
		for _, g := range live {
			r, err := measure(ctx, g, hp, rp, listenPorts(live))
			if err != nil {
				continue
			}
			c.mu.Lock()
			p := c.peaks[phase]
			p.goroutines, p.fds, p.rss = max(p.goroutines, r.goroutines), max(p.fds, r.fds), max(p.rss, r.rss)
			c.peaks[phase] = p
			c.mu.Unlock()
		}
	}
}

// stats reads the backend's counts; with a user range from..to (ids,
// inclusive), also the rotations of those users.
func (c *chaosRun) stats(ctx context.Context, query string) (backendStats, error) {
	var s backendStats
	err := c.load.getJSON(ctx, c.backnd.url+"/_chaos/stats?"+query, &s)
	return s, err
}

// fault switches the backend's fault.
func (c *chaosRun) fault(ctx context.Context, kind string, delay time.Duration) error {
	return c.load.control(ctx, fmt.Sprintf("%s/_chaos/fault?kind=%s&delay=%s", c.backnd.url, kind, delay), nil)
}

// cohort starts n users with 1 to 3 tabs whose tokens all expire at exp;
// stop ends their tabs.
func (c *chaosRun) cohort(ctx context.Context, n int, exp time.Time, think time.Duration, tabs int) (users []*vuser, stop func(), err error) {
	users, err = c.load.users(ctx, n, exp, think, 2)
	if err != nil {
		return nil, nil, err
	}
	if tabs > 0 {
		for _, u := range users {
			u.tabs = tabs
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	wait := c.load.start(cctx, users)
	return users, func() { cancel(); wait() }, nil
}

// nudge sends, without counting it, a request without a token to g, so
// that a half-open guest breaker gets its probe.
func (c *chaosRun) nudge(ctx context.Context, g *gateway) {
	req, err := newGet(ctx, g.url+"/api/data")
	if err != nil {
		return
	}
	req.Header.Set("X-Forwarded-For", userIP(250, rand.IntN(1<<16)))
	req.Header.Set("Accept", "application/json")
	if res, err := probeClient.Do(req); err == nil {
		res.Body.Close()
	}
}
