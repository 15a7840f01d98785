package main

import (
	"strings"
	"testing"
	"time"
)

// figuresOf returns figures with one sample per named setup (CPU per
// request in µs, throughput in req/s), compared in pairs as a run does.
func figuresOf(setups map[string][2]float64, refs map[string]string) *figures {
	f := &figures{ratios: map[string]float64{}, paired: map[string][]float64{}, cpuRatio: map[string]float64{}, cpuPair: map[string][]float64{}}
	for name, v := range setups {
		st := &setup{name: name, ref: refs[name]}
		st.samples = []sample{{rps: v[1], cpu: time.Duration(v[0] * float64(time.Microsecond))}}
		f.setups = append(f.setups, st)
	}
	for _, st := range f.setups {
		if st.ref == "" {
			continue
		}
		ref := f.byName(st.ref).samples[0]
		f.paired[st.name] = append(f.paired[st.name], st.samples[0].rps/ref.rps)
		f.cpuPair[st.name] = append(f.cpuPair[st.name], float64(st.samples[0].cpu)/float64(ref.cpu))
	}
	f.compute()
	return f
}

func TestResultLineRatios(t *testing.T) {
	refs := map[string]string{"cached": "bare", "local": "bare", "redis": "bare"}
	f := figuresOf(map[string][2]float64{
		"bare": {60, 10000}, "cached": {69, 9000}, "local": {66, 9500}, "redis": {75, 8200},
	}, refs)
	line := f.resultLine()
	for _, want := range []string{"cached_vs_bare=0.90", "redis_vs_bare=0.82", "cpu_cached_vs_bare=1.15", "cpu_local_vs_bare=1.10", "cpu_redis_vs_bare=1.25"} {
		if !strings.Contains(line, " "+want) {
			t.Errorf("RESULT line lacks %q:\n%s", want, line)
		}
	}

	// Without redis-server, the redis figures are "na", not a flattering 0.
	f = figuresOf(map[string][2]float64{"bare": {60, 10000}, "cached": {69, 9000}, "local": {66, 9500}}, refs)
	line = f.resultLine()
	for _, want := range []string{"redis_vs_bare=na", "cpu_redis_vs_bare=na"} {
		if !strings.Contains(line, " "+want) {
			t.Errorf("RESULT line lacks %q:\n%s", want, line)
		}
	}
}

func TestPairsFollowTheSetups(t *testing.T) {
	sets := []*setup{{name: "bare"}, {name: "cached", ref: "bare"}, {name: "caddy", ref: "bare"}, {name: "api-bare"}, {name: "api", ref: "api-bare"}}
	got := pairsOf(sets)
	want := [][2]string{{"bare", "cached"}, {"bare", "caddy"}, {"api-bare", "api"}}
	if len(got) != len(want) {
		t.Fatalf("pairs %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pairs %v, want %v", got, want)
		}
	}
}
