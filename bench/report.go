package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// figures are the results of a run: the inputs of the tables and of the
// RESULT line.
type figures struct {
	setups   []*setup
	rss      map[string]int64 // peak RSS by process name
	lat      latency
	storm    stormResult
	session  int64                // heap bytes per cached session
	second   int64                // backend calls of the second pass over the cached sessions
	allocs   int64                // allocations per cache-hit request in the pipeline
	ratios   map[string]float64   // median of paired ratios, by setup
	paired   map[string][]float64 // throughput over its reference's, per pair run
	cpuRatio map[string]float64   // median of paired CPU-per-request ratios, by setup
	cpuPair  map[string][]float64 // CPU per request over its reference's, per pair run
	pairs    [][2]string
	cluster  cluster  // redis3
	skipped  []string // setups not run, with the reason
	started  time.Time
	took     time.Duration
	loadAvg  [2]string // /proc/loadavg at the start and the end
	settings settings
}

// harness runs the whole benchmark and writes its report to w; the last
// line is the RESULT line.
func harness(ctx context.Context, s settings, w io.Writer) (err error) {
	f := &figures{started: time.Now(), settings: s, rss: map[string]int64{}, ratios: map[string]float64{}, paired: map[string][]float64{},
		cpuRatio: map[string]float64{}, cpuPair: map[string][]float64{}}
	f.loadAvg[0] = loadAvg()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }

	logf("starting the backend, upstream, bare proxies, gateways, redis-server and (full run) caddy")
	e, err := start(ctx, s, logf)
	defer func() {
		if serr := e.stop(); err == nil && serr != nil {
			err = serr
		}
	}()
	if err != nil {
		return err
	}
	toks := make([]string, s.conns)
	for i := range toks {
		if toks[i], err = e.issue(ctx, []string{"alice", "admin"}[i%2], 24*time.Hour); err != nil {
			return err
		}
	}
	f.setups = e.setups(toks)
	f.pairs = pairsOf(f.setups)
	f.skipped = e.skipped
	for _, st := range f.setups {
		if err := prime(ctx, st); err != nil {
			return err
		}
	}

	// A B A B: each comparison is measured as an adjacent pair, the pairs
	// and the order inside each pair reversed every other round, so that
	// drift (other work on the machine) hits both sides alike.
	for round := range s.rounds {
		order := slices.Clone(f.pairs)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, pr := range order {
			ref, sub := f.byName(pr[0]), f.byName(pr[1])
			runs := []*setup{ref, sub}
			if round%2 == 1 {
				runs = []*setup{sub, ref}
			}
			got := map[string]sample{}
			for _, st := range runs {
				smp, err := e.measure(ctx, st)
				if err != nil {
					return err
				}
				st.samples = append(st.samples, smp)
				got[st.name] = smp
				logf("round %d/%d %-8s %8.0f req/s  p99 %6.2f ms  calls/req %.3f  CPU %5.1f µs/req  errors %d",
					round+1, s.rounds, st.name, smp.rps, ms(smp.p99), smp.calls, us(smp.cpu), smp.errors)
			}
			if got[ref.name].rps > 0 {
				f.paired[sub.name] = append(f.paired[sub.name], got[sub.name].rps/got[ref.name].rps)
			}
			if got[ref.name].cpu > 0 {
				f.cpuPair[sub.name] = append(f.cpuPair[sub.name], float64(got[sub.name].cpu)/float64(got[ref.name].cpu))
			}
		}
	}

	if len(e.redis3) > 0 {
		logf("redis3: %d users with fresh tokens, round robin over 3 gateways sharing one Redis", s.conns)
		if f.cluster, err = e.cluster(ctx); err != nil {
			return err
		}
		logf("redis3 %8.0f req/s  validations per token %.2f  errors %d", f.cluster.rps, f.cluster.perToken(), f.cluster.errors)
	}
	logf("latency at %d req/s (paced), %d rounds", s.latRate, s.latRound)
	if f.lat, err = e.latencies(ctx, f.setups); err != nil {
		return err
	}
	logf("storms: %d tokens x %d concurrent requests", s.storms, s.stormN)
	if f.storm, err = e.storms(ctx); err != nil {
		return err
	}
	for _, p := range e.procs {
		if f.rss[p.name], err = p.peakRSS(); err != nil {
			return err
		}
	}
	logf("memory per session: %d sessions", s.sessions)
	if f.session, f.second, f.allocs, err = sessionFigures(ctx, s.sessions); err != nil {
		return err
	}
	f.took = time.Since(f.started)
	f.loadAvg[1] = loadAvg()
	f.compute()

	md := f.markdown()
	if s.out != "" {
		if err := os.WriteFile(s.out, []byte(md), 0o644); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		logf("wrote %s", s.out)
	}
	fmt.Fprint(w, md)
	fmt.Fprintln(w, f.resultLine())
	return f.failures()
}

// failures is an error when the harness did not work: a request answered
// with an unexpected status or not at all, or a storm request refused. It
// never judges a speed: the goals are reported, not enforced.
func (f *figures) failures() error {
	n := f.lat.errors + int64(f.storm.failed) + f.cluster.errors
	for _, s := range f.setups {
		for _, smp := range s.samples {
			n += smp.errors
		}
	}
	if n > 0 {
		return fmt.Errorf("bench: %d requests failed (see the errors column)", n)
	}
	if f.second != 0 {
		return fmt.Errorf("bench: the second pass over the cached sessions made %d backend calls, want 0", f.second)
	}
	return nil
}

// byName returns the setup called name.
func (f *figures) byName(name string) *setup {
	for _, s := range f.setups {
		if s.name == name {
			return s
		}
	}
	return nil
}

// compute derives the ratios: for each setup, the median over rounds of
// its throughput (and its CPU per request) divided by its reference's,
// measured next to each other.
func (f *figures) compute() {
	for name, rs := range f.paired {
		f.ratios[name] = median(rs)
	}
	for name, rs := range f.cpuPair {
		f.cpuRatio[name] = median(rs)
	}
}

// perToken is the number of backend validations per token of the redis3
// run.
func (c cluster) perToken() float64 {
	if c.tokens == 0 {
		return 0
	}
	return float64(c.validations) / float64(c.tokens)
}

// ratio formats a ratio of the RESULT line: "na" for a setup not run.
func (f *figures) ratio(m map[string]float64, name string) string {
	if f.byName(name) == nil {
		return "na"
	}
	return strconv.FormatFloat(m[name], 'f', 2, 64)
}

// rssRatio is the peak RSS of the cache-hit gateway over the bare proxy's.
func (f *figures) rssRatio() float64 {
	bare := f.rss[f.byName("bare").proc.name]
	if bare == 0 {
		return 0
	}
	return float64(f.rss[f.byName("cached").proc.name]) / float64(bare)
}

func (f *figures) p99Added() float64 { return ms(medianDur(f.lat.addedP99)) }

func (f *figures) resultLine() string {
	return fmt.Sprintf("RESULT cached_vs_bare=%.2f local_vs_bare=%.2f miss_vs_bare=%.2f full_vs_cached=%.2f validate_calls_per_token=%s p99_added_ms=%.3f bytes_per_session=%d redis_vs_bare=%s cpu_cached_vs_bare=%.2f cpu_local_vs_bare=%.2f cpu_redis_vs_bare=%s cpu_traced_vs_cached=%s cpu_signed_vs_cached=%s",
		f.ratios["cached"], f.ratios["local"], f.ratios["miss"], f.ratios["full"],
		strconv.FormatFloat(f.storm.validatePerToken, 'f', -1, 64), f.p99Added(), f.session,
		f.ratio(f.ratios, "redis"), f.cpuRatio["cached"], f.cpuRatio["local"], f.ratio(f.cpuRatio, "redis"), f.ratio(f.cpuRatio, "traced"), f.ratio(f.cpuRatio, "signed"))
}

// markdown is the report: machine, settings, the throughput table, the
// goals, and the other figures.
func (f *figures) markdown() string {
	var b strings.Builder
	s := f.settings
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# apilayer benchmark results, %s\n\n", f.started.UTC().Format("2006-01-02 15:04 MST"))
	p("## Machine\n\n")
	p("- CPU: %s, %d logical CPUs (GOMAXPROCS %d)\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	p("- OS: %s/%s, kernel %s\n", runtime.GOOS, runtime.GOARCH, kernel())
	p("- Go: %s; apilayer commit: %s; redis-server %s; caddy %s\n", runtime.Version(), commit(), redisVersion(), caddyVersion())
	p("- load average at start / end: %s / %s (other work on the machine shows here)\n", f.loadAvg[0], f.loadAvg[1])
	p("- run: `go run ./bench%s`, %s; %d rounds of A/B pairs, %s per run at %d connections (after %s warm-up), order reversed every other round; latency: %d rounds x %s paced at %d req/s\n\n",
		map[bool]string{true: " -quick", false: ""}[s.quick], f.took.Round(time.Second), s.rounds, s.duration, s.conns, s.warmup,
		s.latRound, s.latDur, s.latRate)

	p("## Throughput (%d keep-alive connections, medians over rounds; \"vs reference\" is the median of the ratios of adjacent A/B runs)\n\n", s.conns)
	p("| setup | what | req/s | vs reference | p50 ms | p99 ms | backend calls/req | CPU µs/req | CPU vs reference | errors | peak RSS MiB |\n")
	p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	var sideNotes []string
	for _, st := range f.setups {
		var rps, calls []float64
		var p50, p99, cpu, side []time.Duration
		var errs int64
		firstErr := ""
		for _, smp := range st.samples {
			rps, calls = append(rps, smp.rps), append(calls, smp.calls)
			p50, p99, cpu, side = append(p50, smp.p50), append(p99, smp.p99), append(cpu, smp.cpu), append(side, smp.sideCPU)
			errs += smp.errors
			if firstErr == "" {
				firstErr = smp.firstErr
			}
		}
		vs, cpuVs := "baseline", "-"
		if st.ref != "" {
			vs = fmt.Sprintf("%.2fx %s", f.ratios[st.name], st.ref)
			cpuVs = fmt.Sprintf("%.2fx %s", f.cpuRatio[st.name], st.ref)
		}
		errCell := strconv.FormatInt(errs, 10)
		if firstErr != "" {
			errCell += " (" + firstErr + ")"
		}
		p("| %s | %s | %.0f | %s | %.2f | %.2f | %.3f | %.1f | %s | %s | %.1f |\n", st.name, st.what, median(rps), vs,
			ms(medianDur(p50)), ms(medianDur(p99)), median(calls), us(medianDur(cpu)), cpuVs, errCell, mib(f.rss[st.proc.name]))
		if st.side != nil {
			sideNotes = append(sideNotes, fmt.Sprintf("requests of the %s setup also cost %.2f µs of %s CPU each (median over rounds)", st.name, us(medianDur(side)), st.side.name))
		}
	}
	p("\nCPU µs/req is the CPU time (user and system) of the setup's own process per request, median over\n" +
		"rounds: what each request costs the proxy, whatever else the machine runs; \"CPU vs reference\" is the\n" +
		"median of the ratios of adjacent A/B runs. The gateways also send the web app more headers (X-Auth-User\n" +
		"and the other identity headers), which the upstream's process parses.")
	for _, n := range sideNotes {
		p(" The %s.", n)
	}
	p("\n")

	p("\n## Goals\n\n")
	p("| figure | goal | measured | met |\n| --- | --- | ---: | --- |\n")
	goal := func(figure, want, got string, ok bool) {
		p("| %s | %s | %s | %s |\n", figure, want, got, map[bool]string{true: "yes", false: "**no**"}[ok])
	}
	goal("page request, cache hit, vs bare proxy (req/s)", ">= 0.85x", fmt.Sprintf("%.2fx", f.ratios["cached"]), f.ratios["cached"] >= 0.85)
	goal("same, local JWT mode", ">= 0.90x", fmt.Sprintf("%.2fx", f.ratios["local"]), f.ratios["local"] >= 0.90)
	goal("validation on every request (cacheTTL 0) vs bare proxy", ">= 0.45x", fmt.Sprintf("%.2fx", f.ratios["miss"]), f.ratios["miss"] >= 0.45)
	goal(fmt.Sprintf("peak RSS of the gateway vs bare proxy (%d connections)", s.conns), "<= 2x",
		fmt.Sprintf("%.2fx (%.1f / %.1f MiB)", f.rssRatio(), mib(f.rss[f.byName("cached").proc.name]), mib(f.rss[f.byName("bare").proc.name])), f.rssRatio() <= 2)
	goal("CSRF + rate limit + audit (file) vs cache hit alone", ">= 0.90x", fmt.Sprintf("%.2fx", f.ratios["full"]), f.ratios["full"] >= 0.90)
	goal("CPU per request, cache hit, vs bare proxy", "<= 1.15x", fmt.Sprintf("%.2fx", f.cpuRatio["cached"]), f.cpuRatio["cached"] > 0 && f.cpuRatio["cached"] <= 1.15)
	goal("CPU per request, local JWT mode, vs bare proxy", "<= 1.15x", fmt.Sprintf("%.2fx", f.cpuRatio["local"]), f.cpuRatio["local"] > 0 && f.cpuRatio["local"] <= 1.15)
	if f.byName("traced") != nil {
		goal("CPU per request, tracing on (sampleRatio 0.01) vs off", "<= 1.05x", fmt.Sprintf("%.2fx", f.cpuRatio["traced"]), f.cpuRatio["traced"] > 0 && f.cpuRatio["traced"] <= 1.05)
	}
	if f.byName("signed") != nil {
		goal("CPU per request, signed identity (assertion reused) vs unsigned", "<= 1.03x", fmt.Sprintf("%.2fx", f.cpuRatio["signed"]), f.cpuRatio["signed"] > 0 && f.cpuRatio["signed"] <= 1.03)
	}
	if f.byName("redis") != nil {
		goal("page request, store.driver redis (near cache), vs bare proxy (req/s)", ">= 0.80x", fmt.Sprintf("%.2fx", f.ratios["redis"]), f.ratios["redis"] >= 0.80)
		goal("CPU per request, store.driver redis, vs bare proxy", "<= 1.30x", fmt.Sprintf("%.2fx", f.cpuRatio["redis"]), f.cpuRatio["redis"] > 0 && f.cpuRatio["redis"] <= 1.30)
	}
	goal(fmt.Sprintf("added p99 latency, cache hit vs bare proxy (paced %d req/s)", s.latRate), "< 1 ms",
		fmt.Sprintf("%.3f ms", f.p99Added()), f.p99Added() < 1)
	goal(fmt.Sprintf("%d concurrent requests with one uncached token", s.stormN), "1 backend validation",
		fmt.Sprintf("%s per token (%d tokens)", strconv.FormatFloat(f.storm.validatePerToken, 'f', -1, 64), s.storms), f.storm.validatePerToken == 1)
	goal(fmt.Sprintf("memory per cached session (%d sessions)", s.sessions), "< 2 KB (2048 B)", fmt.Sprintf("%d B", f.session), f.session > 0 && f.session < 2048)
	p("| allocations per cache-hit request in the pipeline's own code | report, then drive down | %d | - |\n", f.allocs)

	p("\n## Other figures\n\n")
	p("- Refresh storm: %d concurrent requests with one expired (refreshable) token: %s refresh call(s) and %s validate call(s) per token (%d tokens); median burst %.1f ms.\n",
		s.stormN, strconv.FormatFloat(f.storm.refreshPerToken, 'f', -1, 64), strconv.FormatFloat(f.storm.refreshMePer, 'f', -1, 64), s.storms, ms(f.storm.refreshBurst))
	p("- Storm requests not answered 200: %d.\n", f.storm.failed)
	if c := f.cluster; c.ran {
		p("- redis3, three gateways sharing one Redis (near cache 1s, cacheTTL 2s), %d users with fresh tokens, each user's requests sent to the gateways in turn for %s: %.0f req/s, p99 %.2f ms, %d backend validations for %d tokens = **%.2f per token in total** (the cache entry expires every 2s), %.1f µs CPU per request in the three gateways together and %.2f µs in redis-server, errors %d%s.\n",
			c.tokens, c.took.Round(100*time.Millisecond), c.rps, ms(c.p99), c.validations, c.tokens, c.perToken(), us(c.cpu), us(c.redisCPU), c.errors,
			map[bool]string{true: " (" + c.firstErr + ")", false: ""}[c.firstErr != ""])
	}
	for _, sk := range f.skipped {
		p("- Not run: %s.\n", sk)
	}
	p("- Second pass over the %d cached sessions: %d backend calls (0: every session was served from the cache).\n", s.sessions, f.second)
	p("- Paced latency (median over rounds), p50 / p99 ms: bare %.2f / %.2f, cached %.2f / %.2f, local %.2f / %.2f; local mode adds %.3f ms at p99; errors %d.\n",
		ms(medianDur(f.lat.p50["bare"])), ms(medianDur(f.lat.p99["bare"])),
		ms(medianDur(f.lat.p50["cached"])), ms(medianDur(f.lat.p99["cached"])),
		ms(medianDur(f.lat.p50["local"])), ms(medianDur(f.lat.p99["local"])),
		ms(medianDur(f.lat.addedP99L)), f.lat.errors)
	p("- Peak RSS of every process (MiB):")
	names := make([]string, 0, len(f.rss))
	for n := range f.rss {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, n := range names {
		sep := ","
		if i == len(names)-1 {
			sep = "."
		}
		p(" %s %.1f%s", n, mib(f.rss[n]), sep)
	}
	p("\n\n```\n%s\n```\n", f.resultLine())
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianDur(v []time.Duration) time.Duration {
	f := make([]float64, len(v))
	for i, d := range v {
		f[i] = float64(d)
	}
	return time.Duration(median(f))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// commit is the apilayer commit the harness was built from, when known.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}
