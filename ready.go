package apilayer

import (
	"context"
	"sync"
	"time"

	"github.com/apilayer/apilayer/backend"
)

// readyProbeEvery is how often, at most, /readyz probes a backend that had
// no traffic: a validate call answered within it says enough.
const readyProbeEvery = 10 * time.Second

// readyProbeTimeout bounds one probe, below a probe's usual timeout.
const readyProbeTimeout = 2 * time.Second

// prober is what readiness needs of the backend client.
type prober interface {
	Breakers() map[string]backend.BreakerState
	Answered() time.Time
	Probe(ctx context.Context) error
}

// readiness is the backend part of /readyz. The zero value is ready to
// use.
type readiness struct {
	now func() time.Time // nil: time.Now

	mu     sync.Mutex // serializes probes; guards the fields below
	of     prober     // the client the last probe was of
	probed time.Time  // when it ran
	err    error      // its result
}

// backend returns why the backend does not count as reachable, or "": its
// validate endpoint's circuit breaker is open, or it answered no validate
// call within readyProbeEvery and a probe (GET endpoints.validate without
// a token: any HTTP answer will do) failed. Probes are made at most every
// readyProbeEvery; in between, the last one's result stands.
func (r *readiness) backend(ctx context.Context, b prober) string {
	if b.Breakers()["validate"] == backend.BreakerOpen {
		return "backend: the circuit breaker of the validate endpoint is open (backend.breaker)"
	}
	now := time.Now
	if r.now != nil {
		now = r.now
	}
	t := now()
	if a := b.Answered(); !a.IsZero() && t.Sub(a) < readyProbeEvery {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.of != b || r.probed.IsZero() || t.Sub(r.probed) >= readyProbeEvery {
		// Its result is kept for others: the asker leaving does not end it.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyProbeTimeout)
		r.err = b.Probe(pctx)
		cancel()
		r.of, r.probed = b, t
	}
	if r.err != nil {
		return "backend: unreachable: " + r.err.Error()
	}
	return ""
}
