package apilayer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
)

// fakeProber is a backend client as readiness sees it.
type fakeProber struct {
	state    backend.BreakerState
	answered time.Time
	err      error // what a probe returns
	probes   int
}

func (f *fakeProber) Breakers() map[string]backend.BreakerState {
	return map[string]backend.BreakerState{"validate": f.state}
}
func (f *fakeProber) Answered() time.Time { return f.answered }
func (f *fakeProber) Probe(context.Context) error {
	f.probes++
	return f.err
}

// Without traffic, /readyz probes the backend at most every 10 s; a
// validate call answered within 10 s spares the probe; an open breaker
// decides without one.
func TestReadinessProbesAtMostEvery10s(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	r := &readiness{now: func() time.Time { return now }}
	b := &fakeProber{state: backend.BreakerClosed}
	ctx := context.Background()
	steps := []struct {
		name       string
		advance    time.Duration
		edit       func()
		wantProbes int
		wantReason string
	}{
		{"no traffic: a probe", 0, nil, 1, ""},
		{"9s later: its result stands", 9 * time.Second, func() { b.err = errors.New("down") }, 1, ""},
		{"10s after the probe: another, failing", time.Second, nil, 2, "backend: unreachable: down"},
		{"5s later: still unreachable, no probe", 5 * time.Second, nil, 2, "backend: unreachable: down"},
		{"a validate call answered 1s ago: ready, no probe", 0, func() { b.answered = now.Add(-time.Second) }, 2, ""},
		{"that answer is 10s old: a probe", 9 * time.Second, func() { b.err = nil }, 3, ""},
		{"breaker open: not ready, no probe", 20 * time.Second, func() { b.state = backend.BreakerOpen }, 3, "circuit breaker of the validate endpoint is open"},
		{"half-open counts as not open", 0, func() { b.state = backend.BreakerHalfOpen }, 4, ""},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if s.edit != nil {
			s.edit()
		}
		got := r.backend(ctx, b)
		if b.probes != s.wantProbes {
			t.Errorf("%s: %d probes, want %d", s.name, b.probes, s.wantProbes)
		}
		if (s.wantReason == "") != (got == "") || !strings.Contains(got, s.wantReason) {
			t.Errorf("%s: reason %q, want %q", s.name, got, s.wantReason)
		}
	}
}

// A probe's result is of one client: after a reload that rebuilt the
// backend client, the next /readyz probes the new one.
func TestReadinessProbesANewClient(t *testing.T) {
	now := time.Now()
	r := &readiness{now: func() time.Time { return now }}
	a := &fakeProber{state: backend.BreakerClosed, err: errors.New("down")}
	b := &fakeProber{state: backend.BreakerClosed}
	if r.backend(context.Background(), a) == "" {
		t.Fatal("a: ready, want unreachable")
	}
	if why := r.backend(context.Background(), b); why != "" || b.probes != 1 {
		t.Errorf("b: %q after %d probes, want ready after 1", why, b.probes)
	}
}
