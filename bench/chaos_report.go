package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// chaosResult is what the CHAOS line says, with what the goals need.
type chaosResult struct {
	requests, failed, logouts int64
	duplicates                int
	outageCalls               int // the gateway's own calls the backend received while failing
	outages                   []outageFinding
	// Sums over the instances measured at the start and the end of their
	// own fds and goroutines (without the keep-alive pools', see
	// resources), and their RSS growth in MiB.
	fdStart, fdEnd, grStart, grEnd int
	rssGrowth                      float64
	instances                      int
	took                           time.Duration
}

// baselineSlack is how far above the baseline the end may be and still
// count as "back to baseline": 10 % plus 5 per instance (a goroutine or fd
// that comes and goes, such as a timer's or a health probe's).
func baselineSlack(start, instances int) int { return start/10 + 5*instances }

// ratio is end/start, 0 without a start.
func ratio(end, start int) float64 {
	if start == 0 {
		return 0
	}
	return float64(end) / float64(start)
}

// line is the CHAOS line.
func (r chaosResult) line() string {
	return fmt.Sprintf("CHAOS requests=%d failed=%d logouts=%d duplicate_refreshes=%d backend_calls_during_outage=%d fd_end_vs_start=%.2f goroutines_end_vs_start=%.2f rss_growth_mb=%.1f",
		r.requests, r.failed, r.logouts, r.duplicates, r.outageCalls, ratio(r.fdEnd, r.fdStart), ratio(r.grEnd, r.grStart), r.rssGrowth)
}

// missed lists the goals the run missed.
func (r chaosResult) missed() []string {
	var out []string
	if r.failed > 0 {
		out = append(out, fmt.Sprintf("%d failed requests, want 0", r.failed))
	}
	if r.logouts > 0 {
		out = append(out, fmt.Sprintf("%d logouts, want 0", r.logouts))
	}
	if r.duplicates > 0 {
		out = append(out, fmt.Sprintf("%d duplicate refreshes, want 0", r.duplicates))
	}
	for _, o := range r.outages {
		for _, b := range o.breaches {
			out = append(out, fmt.Sprintf("backend %s: %s", o.kind, b))
		}
	}
	if r.fdEnd > r.fdStart+baselineSlack(r.fdStart, r.instances) {
		out = append(out, fmt.Sprintf("fds %d at the end, %d at the start (allowed %d more)", r.fdEnd, r.fdStart, baselineSlack(r.fdStart, r.instances)))
	}
	if r.grEnd > r.grStart+baselineSlack(r.grStart, r.instances) {
		out = append(out, fmt.Sprintf("goroutines %d at the end, %d at the start (allowed %d more)", r.grEnd, r.grStart, baselineSlack(r.grStart, r.instances)))
	}
	return out
}

// outageFinding is what the backend saw of one failing fault.
type outageFinding struct {
	kind    string
	dur     time.Duration
	own     int // the gateway's own calls (validate, refresh, guest...) the backend received
	retries int // of own: net/http's retries of a call (same X-Request-ID) on a new connection
	opening int // calls made before the breaker could know (see analyzeOutage)
	probes  int // calls after the breaker opened
	allowed int // the bound of probes, summed over instances and endpoints
	api     int // proxied API requests (the app's own traffic, not the breaker's)
	byEp    map[string]int
	// breaches name each instance and endpoint with more calls after its
	// breaker opened than probes allow.
	breaches []string
}

// openingSlack is how long after the call that opened a breaker (as the
// backend saw it end) another call still counts as sent before: the gateway
// records the outcome a moment after the backend sent it.
const openingSlack = 250 * time.Millisecond

// maxProbes is the most probes a breaker makes in d after it opened: the
// first after openFor, each next one twice as long after the last (up to
// 30 s), if a call comes then.
func maxProbes(d, openFor time.Duration) int {
	n := 0
	interval := openFor
	for at := openFor; at <= d; at += interval {
		n++
		interval = min(2*interval, 30*time.Second)
	}
	return n
}

// gatewayCalls merges the arrivals of one call: net/http retries an
// idempotent request on a new connection when a reused one fails before
// the answer (a reset), with the same X-Request-ID. A call spans its first
// arrival to its last end.
func gatewayCalls(arrivals []faultCall) []faultCall {
	var out []faultCall
	byID := map[string]int{}
	for _, a := range arrivals {
		if i, ok := byID[a.ReqID]; ok && a.ReqID != "" {
			if a.Arrive.Before(out[i].Arrive) {
				out[i].Arrive = a.Arrive
			}
			if a.Finish.After(out[i].Finish) {
				out[i].Finish = a.Finish
			}
			continue
		}
		byID[a.ReqID] = len(out)
		out = append(out, a)
	}
	return out
}

// analyzeOutage checks one failing fault's calls against the breakers:
// per instance and endpoint, the calls that arrived until the failures-th
// unavailable outcome ended (plus openingSlack) were made before the
// breaker could open (with a hanging backend, all the calls of the first
// backend.timeout); after it, at most maxProbes(rest of the outage) + 1
// calls may arrive.
func analyzeOutage(o *outage, failures int, openFor time.Duration) outageFinding {
	f := outageFinding{kind: o.Kind, dur: o.End.Sub(o.Start), byEp: map[string]int{}}
	type key struct {
		inst int
		ep   string
	}
	groups := map[key][]faultCall{}
	for _, c := range o.Calls {
		if c.Endpoint == "api" {
			f.api++
			continue
		}
		f.own++
		f.byEp[c.Endpoint]++
		k := key{c.Inst, c.Endpoint}
		groups[k] = append(groups[k], c)
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.inst, b.inst), strings.Compare(a.ep, b.ep)) })
	for _, k := range keys {
		calls := gatewayCalls(groups[k])
		f.retries += len(groups[k]) - len(calls)
		if len(calls) < failures {
			f.opening += len(calls)
			continue
		}
		ends := make([]time.Time, len(calls))
		for i, c := range calls {
			ends[i] = c.Finish
		}
		slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
		opened := ends[failures-1]
		var after []string
		for _, c := range calls {
			if c.Arrive.After(opened.Add(openingSlack)) {
				after = append(after, fmt.Sprintf("+%s", c.Arrive.Sub(o.Start).Round(10*time.Millisecond)))
			}
		}
		allowed := maxProbes(o.End.Sub(opened), openFor) + 1
		f.opening += len(calls) - len(after)
		f.probes += len(after)
		f.allowed += allowed
		if len(after) > allowed {
			f.breaches = append(f.breaches, fmt.Sprintf("gw%d %s: %d calls after its breaker opened at +%s (at %s), at most %d probes due",
				k.inst, k.ep, len(after), opened.Sub(o.Start).Round(10*time.Millisecond), strings.Join(after, " "), allowed))
		}
	}
	return f
}

// result computes the CHAOS line's figures.
func (c *chaosRun) result() chaosResult {
	t := c.rec.total()
	r := chaosResult{requests: t.requests, failed: t.failed, logouts: t.logouts, duplicates: c.backendEnd.Duplicates}
	for _, o := range c.backendEnd.Outages {
		f := analyzeOutage(o, chaosBreakerFails, chaosBreakerOpenFor)
		r.outages = append(r.outages, f)
		r.outageCalls += f.own
	}
	for name, end := range c.final {
		start, ok := c.baseline[name]
		if !ok {
			continue
		}
		r.instances++
		r.fdStart += start.ownFDs()
		r.fdEnd += end.ownFDs()
		r.grStart += start.ownGoroutines()
		r.grEnd += end.ownGoroutines()
		r.rssGrowth += mib(end.rss - start.rss)
	}
	return r
}

// report is the human part of the output: the phases, the outages, the
// other steps, the resources, the gateways' logs and the goals.
func (c *chaosRun) report(r chaosResult) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# apilayer chaos run, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	p("- machine: %s, %d logical CPUs; load average at the end %s; Go %s; apilayer commit %s; redis-server %s\n",
		cpuModel(), runtime.NumCPU(), loadAvg(), runtime.Version(), c.commit, redisVersion())
	p("- took %s; 3 instances of `apilayer serve` (store.driver redis, one redis-server, store.peers %s, SIGHUP reload %s)\n",
		r.took.Round(time.Second), onOff(c.peers), onOff(c.reload))
	p("- load: %d users (%d%% hot), %d visitors; a cohort of %d users whose tokens expire inside each outage; a storm of %d users x 3 tabs\n\n",
		c.plan.users, int(c.plan.hot*100), c.plan.visitors, c.plan.cohort, c.plan.stormUsers)

	p("| phase | requests | failed | logouts | unavailable (contract) | refreshes | duplicates | peak goroutines | peak fds | peak RSS MiB |\n")
	p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	c.rec.mu.Lock()
	for _, name := range c.rec.order {
		t := c.rec.byPhase[name]
		pk := c.peaks[name]
		peaks := "– | – | –"
		if pk.goroutines > 0 {
			peaks = fmt.Sprintf("%d | %d | %.0f", pk.goroutines, pk.fds, mib(pk.rss))
		}
		p("| %s | %d | %d | %d | %d | %d | %d | %s |\n", name, t.requests, t.failed, t.logouts, t.unavail,
			c.rotations[name], c.dups[name], peaks)
	}
	examples := slices.Clone(c.rec.examples)
	reasons := map[string]int64{}
	for _, t := range c.rec.byPhase {
		for k, v := range t.reasons {
			reasons[k] += v
		}
	}
	c.rec.mu.Unlock()
	p("\n\"unavailable (contract)\": the answers the contract gives during an outage (503 unavailable, the API proxy's 502/504, pages without identity); not failures.\n\n")

	p("Backend calls while it failed (the gateway's own; per instance and endpoint, calls before the breaker could open, then probes):\n\n")
	for _, o := range r.outages {
		eps := make([]string, 0, len(o.byEp))
		for ep, n := range o.byEp {
			eps = append(eps, fmt.Sprintf("%s %d", ep, n))
		}
		slices.Sort(eps)
		p("- %s for %s: %d calls received (%s; %d of them net/http's retries of a call on a new connection): %d calls before the breakers opened, %d probes (at most %d due); %d proxied API requests\n",
			o.kind, o.dur.Round(100*time.Millisecond), o.own, strings.Join(eps, ", "), o.retries, o.opening, o.probes, o.allowed, o.api)
		for _, br := range o.breaches {
			p("  - OVER THE BOUND: %s\n", br)
		}
	}
	p("\nSteps:\n\n")
	c.mu.Lock()
	for _, n := range c.notes {
		p("- %s\n", n)
	}
	c.mu.Unlock()
	p("- ended sessions: %d cookie deletions, all due (the test ended those sessions at the backend)\n", c.rec.total().ended)
	p("- slow-body clients: %s\n", slowSummary(c.slow))
	if c.sigterm.ran {
		status := "exit status 0"
		if c.sigterm.exitErr != "" {
			status = c.sigterm.exitErr
		}
		p("- SIGTERM gw3 with %d requests in flight: %s %s after the signal\n", c.sigterm.inflight, status, c.sigterm.took.Round(10*time.Millisecond))
	}
	if c.reloaded.ran {
		p("- SIGHUP gw1 mid-load: %.0f reload applied, %.0f broken file refused, serving after: %v\n", c.reloaded.ok, c.reloaded.refused, c.reloaded.alive)
	}
	s := c.backendEnd
	p("- backend: %d refresh calls, %d rotations, %d reuse detections (%d users revoked), %d guest tokens; calls by endpoint %v\n",
		s.Refreshes, s.Rotations, s.Reuses, s.Revoked, s.Guests, s.Calls)
	if len(s.DupUsers) > 0 {
		p("- users with duplicate refreshes (first ones): %v\n", s.DupUsers)
	}

	p("\nResources of the instances that ran from start to end, after the load stopped and its connections closed (fds and goroutines without the keep-alive pools' connections to the backend, the web app and Redis):\n\n")
	p("| instance | fds start → end | goroutines start → end | pooled connections start → end | RSS MiB start → end |\n| --- | --- | --- | --- | --- |\n")
	names := slices.Sorted(maps.Keys(c.final))
	for _, n := range names {
		st, en := c.baseline[n], c.final[n]
		p("| %s | %d → %d | %d → %d | %d → %d | %.1f → %.1f |\n", n, st.ownFDs(), en.ownFDs(), st.ownGoroutines(), en.ownGoroutines(),
			st.pooled, en.pooled, mib(st.rss), mib(en.rss))
	}
	for _, n := range names {
		if d := kindsDiff(c.baseline[n].kinds, c.final[n].kinds); d != "" {
			p("\n%s: fds that differ from the start (by kind, start → end): %s\n", n, d)
		}
	}
	p("\nGateway logs (lines by message):\n\n")
	for _, g := range c.gws {
		p("- %s: %s\n", g.name, logSummary(g.log))
	}
	for _, g := range c.gws {
		if ev := unexpected(g.log, c.rec.phaseAt, c.started); len(ev) > 0 {
			p("\n%s said, outside the steps that cause it: %s\n", g.name, strings.Join(ev, "; "))
		}
	}
	if len(reasons) > 0 {
		p("\nFailures by reason:\n\n")
		for _, k := range slices.Sorted(maps.Keys(reasons)) {
			p("- %d × %s\n", reasons[k], k)
		}
		p("\nFirst failures:\n\n")
		for _, e := range examples {
			p("- %s\n", e)
		}
	}
	p("\nGoals: failed 0 (contract 503s aside), logouts 0, duplicate refreshes 0, calls during an outage within the breakers' bound, fds and goroutines back to baseline (+10%% +5 per instance).\n")
	missed := append(r.missed(), c.problems...)
	if len(missed) == 0 {
		p("All met.\n\n")
	} else {
		p("MISSED:\n")
		for _, m := range missed {
			p("- %s\n", m)
		}
		p("\n")
	}
	return b.String()
}

// kindsDiff lists the kinds of fds whose count changed.
func kindsDiff(start, end map[string]int) string {
	all := map[string]bool{}
	for k := range start {
		all[k] = true
	}
	for k := range end {
		all[k] = true
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(all)) {
		if start[k] != end[k] {
			out = append(out, fmt.Sprintf("%s %d → %d", k, start[k], end[k]))
		}
	}
	return strings.Join(out, ", ")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "not in this build"
}

// slowSummary counts the slow-body clients' outcomes.
func slowSummary(rs []slowResult) string {
	if len(rs) == 0 {
		return "none ran"
	}
	ok, by := 0, map[string]int{}
	var lo, hi time.Duration
	for i, r := range rs {
		if r.ok {
			ok++
		}
		by[r.outcome]++
		if i == 0 || r.after < lo {
			lo = r.after
		}
		hi = max(hi, r.after)
	}
	return fmt.Sprintf("%d of %d ended %s to %s after their last byte (bodyIdleTimeout %s): %v",
		ok, len(rs), lo.Round(10*time.Millisecond), hi.Round(10*time.Millisecond), chaosBodyIdle, by)
}

// unexpected are the state changes a gateway logged outside the steps that
// cause them: Redis called unavailable while Redis was up (its calls timed
// out: store.redis.timeout), a backend breaker opened while the backend
// answered (its calls timed out: backend.timeout). A failure in the same
// phase is then the gateway's answer to it.
func unexpected(file string, phaseAt func(time.Time) string, start time.Time) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l struct {
			Time     time.Time `json:"time"`
			Msg      string    `json:"msg"`
			Error    string    `json:"error"`
			Endpoint string    `json:"endpoint"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		phase := phaseAt(l.Time)
		var what string
		switch {
		case l.Msg == "redisstore: redis unavailable, serving from per-instance state" && phase != "redis stalls" && phase != "redis paused" && phase != "redis killed":
			what = "Redis unavailable (" + l.Error + ")"
		case l.Msg == "backend: circuit open" && phase != "backend "+fault503 && phase != "backend "+faultHang && phase != "backend "+faultReset:
			what = "backend " + l.Endpoint + " breaker opened"
		default:
			continue
		}
		out = append(out, fmt.Sprintf("+%.1fs (%s): %s", l.Time.Sub(start).Seconds(), phase, what))
	}
	return out
}

// logSummary counts a gateway's JSON log lines by level and message.
func logSummary(file string) string {
	f, err := os.Open(file)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	by := map[string]int{}
	total := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		total++
		var l struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			by["(not JSON)"]++
			continue
		}
		by[l.Level+" "+l.Msg]++
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(by[b], by[a]), strings.Compare(a, b)) })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d × %q", by[k], k))
	}
	return fmt.Sprintf("%d lines: %s", total, strings.Join(parts, ", "))
}
