package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// setup is one server under load with one kind of request.
type setup struct {
	name string
	what string // one line for the table
	ref  string // the setup its throughput is compared with; "" for a baseline
	proc *proc
	side *proc    // a server the setup relies on (redis-server), whose CPU is reported too; or nil
	ts   []target // one per user; connection i sends ts[i%len(ts)]

	samples []sample // one per round
}

// sample is what one throughput run of a setup measured.
type sample struct {
	rps      float64
	p50, p99 time.Duration
	calls    float64       // backend calls (validate, refresh, guest) per request
	cpu      time.Duration // CPU time of the server's process per request
	sideCPU  time.Duration // CPU time of the setup's side process per request
	errors   int64
	firstErr string
}

// env is the set of role processes of a run.
type env struct {
	s        settings
	backend  *proc
	upstream *proc
	redis    *proc   // redis-server of the redis and redis3 setups; nil when missing
	redis3   []*proc // the three gateways of the redis3 setup
	caddy    *proc   // Caddy forward_auth to the backend's validate endpoint (full run only); nil when missing
	// Caddy's reverse_proxy alone, and Caddy with apilayer as its
	// forward-auth authorizer (authz, a gateway of its own): full run only.
	caddyProxy, caddyAuthz, authz *proc
	skipped                       []string
	procs                         []*proc // every process, for RSS and stop
	gw                            map[string]*proc
	bare                          map[string]*proc
	api                           *http.Client // for the harness's own calls to the backend
	dir                           string       // scratch folder of the external servers
}

func (e *env) stop() error {
	var errs []error
	for _, p := range slices.Backward(e.procs) {
		errs = append(errs, p.stop())
	}
	if e.dir != "" {
		errs = append(errs, os.RemoveAll(e.dir))
	}
	return errors.Join(errs...)
}

// gateways are the gateway scenarios, each run in its own process; the
// redis scenario runs when a redis-server is installed.
var gateways = []string{"cached", "local", "miss", "full", "guest", "api", "storm", "redis", "traced", "signed"}

// start launches the backend, the upstream, the two bare proxies, one
// gateway per scenario, a redis-server and the three gateways of redis3
// (skipped, with the reason, without redis-server), and in a full run
// Caddy (skipped likewise without caddy).
func start(ctx context.Context, s settings, logf func(string, ...any)) (*env, error) {
	e := &env{s: s, gw: map[string]*proc{}, bare: map[string]*proc{}, api: newClient(4)}
	add := func(name, role string, args ...string) (*proc, error) {
		p, err := startServer(ctx, name, role, args...)
		if err != nil {
			return nil, err
		}
		e.procs = append(e.procs, p)
		return p, nil
	}
	external := func(p *proc, err error, setups string) (*proc, error) {
		if errors.Is(err, errNotInstalled) {
			e.skipped = append(e.skipped, fmt.Sprintf("%s: %v", setups, err))
			logf("skipping %s: %v", setups, err)
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		e.procs = append(e.procs, p)
		return p, nil
	}
	var err error
	if e.dir, err = os.MkdirTemp("", "apilayer-bench-"); err != nil {
		return e, fmt.Errorf("bench: %w", err)
	}
	if e.backend, err = add("backend", "backend"); err != nil {
		return e, err
	}
	if e.upstream, err = add("upstream", "upstream"); err != nil {
		return e, err
	}
	if e.bare["page"], err = add("bare proxy (page)", "bare", e.upstream.url); err != nil {
		return e, err
	}
	if e.bare["api"], err = add("bare proxy (api)", "bare", e.backend.url); err != nil {
		return e, err
	}
	r, err := startRedis(ctx, e.dir)
	if e.redis, err = external(r, err, "the redis and redis3 setups"); err != nil {
		return e, err
	}
	for _, g := range gateways {
		if g == "redis" && e.redis == nil {
			continue
		}
		if e.gw[g], err = add("gateway "+g, "gateway", g, e.backend.url, e.upstream.url, s.profile, redisURL(e.redis, 0)); err != nil {
			return e, err
		}
	}
	if e.redis != nil {
		// redis3 shares the redis-server, in its own database.
		for i := range 3 {
			p, err := add(fmt.Sprintf("gateway redis3 #%d", i+1), "gateway", "redis", e.backend.url, e.upstream.url, "", redisURL(e.redis, 1))
			if err != nil {
				return e, err
			}
			e.redis3 = append(e.redis3, p)
		}
	}
	if !s.quick {
		c, err := startCaddy(ctx, e.dir, e.backend.url, e.upstream.url)
		if e.caddy, err = external(c, err, "the caddy setup"); err != nil {
			return e, err
		}
		c, err = startCaddyProxy(ctx, e.dir, e.upstream.url)
		if e.caddyProxy, err = external(c, err, "the caddy-proxy and caddy-authz setups"); err != nil {
			return e, err
		}
		if e.caddyProxy != nil {
			if e.authz, err = add("gateway authz", "gateway", "authz", e.backend.url, e.upstream.url, "", ""); err != nil {
				return e, err
			}
			c, err = startCaddyAuthz(ctx, e.dir, e.authz.url, e.upstream.url)
			if e.caddyAuthz, err = external(c, err, "the caddy-authz setup"); err != nil {
				return e, err
			}
		}
	}
	return e, nil
}

// redisURL is the URL of database db of the redis-server r ("" without one).
func redisURL(r *proc, db int) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("%s/%d", r.url, db)
}

// issue asks the backend for a token of user with lifetime ttl.
func (e *env) issue(ctx context.Context, user string, ttl time.Duration) (string, error) {
	u := e.backend.url + "/_bench/issue?user=" + url.QueryEscape(user) + "&ttl=" + ttl.String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	res, err := e.api.Do(req)
	if err != nil {
		return "", fmt.Errorf("bench: issue: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("bench: issue: status %d: %v", res.StatusCode, err)
	}
	return string(b), nil
}

// calls returns the backend's call counters.
func (e *env) calls(ctx context.Context) (map[string]int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.backend.url+"/_bench/calls", nil)
	if err != nil {
		return nil, err
	}
	res, err := e.api.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bench: calls: %w", err)
	}
	defer res.Body.Close()
	var m map[string]int64
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		return nil, fmt.Errorf("bench: calls: %w", err)
	}
	return m, nil
}

// sum is the number of counted backend calls.
func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// withPath returns raw with its path replaced.
func withPath(raw, path string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	u.Path, u.RawQuery = path, ""
	return u.String(), nil
}

// setups builds the throughput setups. toks are the users' tokens: each
// connection is one user, so that no two requests in flight share a token
// (else the single-flight would turn "validation on every request" into
// one call per burst).
func (e *env) setups(toks []string) []*setup {
	cookie := func(tok string) string { return "userAuthToken=" + tok + "; theme=dark" }
	page := func(p *proc, user bool) []target {
		ts := make([]target, len(toks))
		for i, tok := range toks {
			t := target{method: http.MethodGet, url: p.url + "/dashboard", header: http.Header{}, want: http.StatusOK}
			t.header.Set("Accept", "text/html")
			t.header.Set("User-Agent", "apilayer-bench")
			if user {
				t.header.Set("Cookie", cookie(tok))
			}
			ts[i] = t
		}
		return ts
	}
	body := make([]byte, 1<<20)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	bulk := func(p *proc, bearer bool) []target {
		ts := make([]target, len(toks))
		for i, tok := range toks {
			t := target{method: http.MethodPost, url: p.url + "/api/bulk", header: http.Header{}, body: body, want: http.StatusOK}
			t.header.Set("Content-Type", "application/octet-stream")
			t.header.Set("User-Agent", "apilayer-bench")
			if bearer {
				t.header.Set("Authorization", "Bearer "+tok)
			} else {
				t.header.Set("Cookie", cookie(tok))
			}
			ts[i] = t
		}
		return ts
	}
	sets := []*setup{
		{name: "bare", what: "bare httputil.ReverseProxy to the upstream (baseline)", proc: e.bare["page"], ts: page(e.bare["page"], true)},
		{name: "cached", ref: "bare", what: "user token, validation cache hit (backend mode, cacheTTL 2s)", proc: e.gw["cached"], ts: page(e.gw["cached"], true)},
		{name: "local", ref: "bare", what: "user token, local JWT mode (EdDSA, JWKS)", proc: e.gw["local"], ts: page(e.gw["local"], true)},
		{name: "miss", ref: "bare", what: "user token, backend validation on every request (cacheTTL 0)", proc: e.gw["miss"], ts: page(e.gw["miss"], true)},
		{name: "full", ref: "cached", what: "cache hit + CSRF + rate limit + audit (file)", proc: e.gw["full"], ts: page(e.gw["full"], true)},
		{name: "signed", ref: "cached", what: "cache hit with identity.sign (EdDSA; the assertion reused per identity, as in the steady state)", proc: e.gw["signed"], ts: page(e.gw["signed"], true)},
		{name: "traced", ref: "cached", what: "cache hit with tracing on (sampleRatio 0.01, OTLP/HTTP to a collector that discards)", proc: e.gw["traced"], ts: page(e.gw["traced"], true)},
		{name: "guest", ref: "bare", what: "no cookie: a guest token minted on every request", proc: e.gw["guest"], ts: page(e.gw["guest"], false)},
		{name: "api-bare", what: "bare httputil.ReverseProxy to the backend, POST 1 MiB (baseline)", proc: e.bare["api"], ts: bulk(e.bare["api"], true)},
		{name: "api", ref: "api-bare", what: "API proxy, POST 1 MiB, user cookie (cache hit)", proc: e.gw["api"], ts: bulk(e.gw["api"], false)},
	}
	if p := e.gw["redis"]; p != nil {
		sets = append(sets, &setup{name: "redis", ref: "bare", what: "user token, store.driver redis (near cache 1s in front of Redis, cacheTTL 2s)",
			proc: p, side: e.redis, ts: page(p, true)})
	}
	if p := e.caddy; p != nil {
		sets = append(sets, &setup{name: "caddy", ref: "bare", what: "Caddy " + caddyVersion() + " forward_auth to the backend's validate endpoint (every request), then reverse_proxy",
			proc: p, ts: page(p, true)})
	}
	if p := e.caddyProxy; p != nil {
		sets = append(sets, &setup{name: "caddy-proxy", ref: "bare", what: "Caddy " + caddyVersion() + " reverse_proxy alone (the reference of caddy-authz)",
			proc: p, ts: page(p, true)})
	}
	if p := e.caddyAuthz; p != nil {
		sets = append(sets, &setup{name: "caddy-authz", ref: "caddy-proxy", what: "Caddy with apilayer as forward-auth authorizer (authz, cache hit; docs/forward-auth.md's Caddyfile); the gateway's CPU is the side",
			proc: p, side: e.authz, ts: page(p, true)})
	}
	return sets
}

// pairs are the comparisons of the setups there are, reference first.
func pairsOf(sets []*setup) [][2]string {
	var out [][2]string
	for _, s := range sets {
		if s.ref != "" {
			out = append(out, [2]string{s.ref, s.name})
		}
	}
	return out
}

// prime sends one request of each target of s and adds the CSRF cookie it
// is given, as a browser would keep it; it fails when an answer is not the
// wanted one.
func prime(ctx context.Context, s *setup) error {
	for i := range s.ts {
		if err := primeOne(ctx, s.name, &s.ts[i]); err != nil {
			return err
		}
	}
	return nil
}

func primeOne(ctx context.Context, name string, t *target) error {
	c := newClient(1)
	defer c.CloseIdleConnections()
	req, err := t.request(ctx)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("bench: %s: %w", name, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != t.want {
		return fmt.Errorf("bench: %s: first request answered %d, want %d", name, res.StatusCode, t.want)
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "__csrf" {
			t.header.Set("Cookie", t.header.Get("Cookie")+"; __csrf="+ck.Value)
		}
	}
	return nil
}

// measure runs one throughput run of s (after an unmeasured warm-up) and
// counts the backend calls it caused.
func (e *env) measure(ctx context.Context, s *setup) (sample, error) {
	c := newClient(e.s.conns)
	defer c.CloseIdleConnections()
	closedLoop(ctx, c, s.ts, e.s.conns, e.s.warmup, maxPerRun)
	before, err := e.calls(ctx)
	if err != nil {
		return sample{}, err
	}
	cpu0, err := s.proc.cpuTime()
	if err != nil {
		return sample{}, err
	}
	var side0, side1 time.Duration
	if s.side != nil {
		if side0, err = s.side.cpuTime(); err != nil {
			return sample{}, err
		}
	}
	r := closedLoop(ctx, c, s.ts, e.s.conns, e.s.duration, maxPerRun)
	cpu1, err := s.proc.cpuTime()
	if err != nil {
		return sample{}, err
	}
	if s.side != nil {
		if side1, err = s.side.cpuTime(); err != nil {
			return sample{}, err
		}
	}
	after, err := e.calls(ctx)
	if err != nil {
		return sample{}, err
	}
	if err := ctx.Err(); err != nil {
		return sample{}, err
	}
	smp := sample{rps: r.rps(), p50: r.hist.quantile(0.5), p99: r.hist.quantile(0.99), errors: r.errors, firstErr: r.firstErr}
	if r.requests > 0 {
		smp.calls = float64(sum(after)-sum(before)) / float64(r.requests)
		smp.cpu = (cpu1 - cpu0) / time.Duration(r.requests)
		smp.sideCPU = (side1 - side0) / time.Duration(r.requests)
	}
	return smp, nil
}

// cluster is what the redis3 run measured: three gateways sharing one
// Redis, each request of a connection sent to the next gateway.
type cluster struct {
	ran         bool
	rps         float64
	p99         time.Duration
	requests    int64
	errors      int64
	firstErr    string
	tokens      int
	validations int64         // auth/me calls during the run, for fresh tokens
	cpu         time.Duration // CPU of the three gateways per request
	redisCPU    time.Duration // CPU of redis-server per request
	took        time.Duration
}

// cluster runs redis3: conns users with fresh tokens (never validated)
// send page requests round robin over the three gateways for the warm-up
// and the run's duration; every backend validation counts.
func (e *env) cluster(ctx context.Context) (cluster, error) {
	var cl cluster
	if len(e.redis3) == 0 {
		return cl, nil
	}
	urls := make([]string, len(e.redis3))
	for i, p := range e.redis3 {
		urls[i] = p.url + "/dashboard"
	}
	ts := make([]target, e.s.conns)
	for i := range ts {
		tok, err := e.issue(ctx, []string{"alice", "admin"}[i%2], 24*time.Hour)
		if err != nil {
			return cl, err
		}
		t := target{method: http.MethodGet, url: urls[0], urls: urls, header: http.Header{}, want: http.StatusOK}
		t.header.Set("Accept", "text/html")
		t.header.Set("User-Agent", "apilayer-bench")
		t.header.Set("Cookie", "userAuthToken="+tok+"; theme=dark")
		ts[i] = t
	}
	cpu := func() (gw, redis time.Duration, err error) {
		for _, p := range e.redis3 {
			d, err := p.cpuTime()
			if err != nil {
				return 0, 0, err
			}
			gw += d
		}
		redis, err = e.redis.cpuTime()
		return gw, redis, err
	}
	before, err := e.calls(ctx)
	if err != nil {
		return cl, err
	}
	gw0, redis0, err := cpu()
	if err != nil {
		return cl, err
	}
	c := newClient(e.s.conns * len(urls))
	defer c.CloseIdleConnections()
	r := closedLoop(ctx, c, ts, e.s.conns, e.s.warmup+e.s.duration, maxPerRun)
	gw1, redis1, err := cpu()
	if err != nil {
		return cl, err
	}
	after, err := e.calls(ctx)
	if err != nil {
		return cl, err
	}
	cl = cluster{ran: true, rps: r.rps(), p99: r.hist.quantile(0.99), requests: r.requests, errors: r.errors, firstErr: r.firstErr,
		tokens: len(ts), validations: after["auth/me"] - before["auth/me"], took: r.elapsed}
	if r.requests > 0 {
		cl.cpu = (gw1 - gw0) / time.Duration(r.requests)
		cl.redisCPU = (redis1 - redis0) / time.Duration(r.requests)
	}
	return cl, nil
}

// stormResult is what the concurrent-burst checks found.
type stormResult struct {
	validatePerToken float64 // auth/me calls per fresh token
	refreshPerToken  float64 // auth/refresh calls per expired token
	refreshMePer     float64 // auth/me calls per expired token
	validate         int64   // auth/me calls of the fresh-token storms
	refresh, refMe   int64   // auth/refresh and auth/me calls of the expired-token storms
	failed           int     // requests of the bursts not answered 200
	refreshBurst     time.Duration
}

// storms fires stormN concurrent requests with each of s.storms fresh
// tokens (one validation expected per token), then with as many expired
// but refreshable tokens (one refresh expected per token).
func (e *env) storms(ctx context.Context) (stormResult, error) {
	var r stormResult
	gw := e.gw["storm"]
	one := func(ttl time.Duration) (map[string]int64, time.Duration, error) {
		tok, err := e.issue(ctx, "alice", ttl)
		if err != nil {
			return nil, 0, err
		}
		t := target{method: http.MethodGet, url: gw.url + "/dashboard", header: http.Header{}, want: http.StatusOK}
		t.header.Set("Cookie", "userAuthToken="+tok)
		t.header.Set("User-Agent", "apilayer-bench")
		before, err := e.calls(ctx)
		if err != nil {
			return nil, 0, err
		}
		t0 := time.Now()
		statuses, err := burst(ctx, t, e.s.stormN)
		took := time.Since(t0)
		if err != nil {
			return nil, 0, fmt.Errorf("bench: storm: %w", err)
		}
		for _, st := range statuses {
			if st != http.StatusOK {
				r.failed++
			}
		}
		after, err := e.calls(ctx)
		if err != nil {
			return nil, 0, err
		}
		d := map[string]int64{}
		for k, v := range after {
			d[k] = v - before[k]
		}
		return d, took, nil
	}
	n := float64(e.s.storms)
	for range e.s.storms {
		d, _, err := one(time.Hour)
		if err != nil {
			return r, err
		}
		r.validate += d["auth/me"]
	}
	var took []time.Duration
	for range e.s.storms {
		d, t, err := one(-time.Minute)
		if err != nil {
			return r, err
		}
		r.refresh += d["auth/refresh"]
		r.refMe += d["auth/me"]
		took = append(took, t)
	}
	r.refreshBurst = medianDur(took)
	r.validatePerToken, r.refreshPerToken, r.refreshMePer = float64(r.validate)/n, float64(r.refresh)/n, float64(r.refMe)/n
	return r, nil
}

// latency is the p99 of the paced runs of each latency setup.
type latency struct {
	p50, p99  map[string][]time.Duration // by setup, one per round
	errors    int64
	firstErr  string
	addedP99  []time.Duration // cached minus bare, per round
	addedP99L []time.Duration // local minus bare, per round
}

// latencies runs paced load at s.latRate on the bare proxy, the cached and
// the local gateways, alternating their order each round.
func (e *env) latencies(ctx context.Context, all []*setup) (latency, error) {
	l := latency{p50: map[string][]time.Duration{}, p99: map[string][]time.Duration{}}
	var sets []*setup
	for _, s := range all {
		if s.name == "bare" || s.name == "cached" || s.name == "local" {
			sets = append(sets, s)
		}
	}
	for round := range e.s.latRound {
		order := slices.Clone(sets)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, s := range order {
			c := newClient(e.s.conns)
			closedLoop(ctx, c, s.ts, 4, e.s.warmup/2, maxPerRun)
			r := paced(ctx, c, s.ts, e.s.latRate, e.s.latDur, e.s.conns)
			c.CloseIdleConnections()
			if err := ctx.Err(); err != nil {
				return l, err
			}
			l.p50[s.name] = append(l.p50[s.name], r.hist.quantile(0.5))
			l.p99[s.name] = append(l.p99[s.name], r.hist.quantile(0.99))
			l.errors += r.errors
			if l.firstErr == "" {
				l.firstErr = r.firstErr
			}
		}
		l.addedP99 = append(l.addedP99, l.p99["cached"][round]-l.p99["bare"][round])
		l.addedP99L = append(l.addedP99L, l.p99["local"][round]-l.p99["bare"][round])
	}
	return l, nil
}

// sessionFigures runs the sessions role and reads its answer.
func sessionFigures(ctx context.Context, n int) (perSession, secondPass, allocs int64, err error) {
	p, err := startRole(ctx, "sessions", "sessions", strconv.Itoa(n))
	if err != nil {
		return 0, 0, 0, err
	}
	var got bool
	for p.out.Scan() {
		f := strings.Fields(p.out.Text())
		if len(f) == 4 && f[0] == "SESSIONS" {
			perSession, _ = strconv.ParseInt(f[1], 10, 64)
			secondPass, _ = strconv.ParseInt(f[2], 10, 64)
			allocs, _ = strconv.ParseInt(f[3], 10, 64)
			got = true
		}
	}
	if err := p.stop(); err != nil {
		return 0, 0, 0, err
	}
	if !got {
		return 0, 0, 0, errors.New("bench: sessions: no answer")
	}
	return perSession, secondPass, allocs, nil
}
