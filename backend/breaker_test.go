package backend

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a manual clock for the breakers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines returns the log lines holding msg.
func (s *syncBuffer) lines(msg string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for l := range strings.SplitSeq(s.b.String(), "\n") {
		if strings.Contains(l, "msg=\""+msg+"\"") {
			n++
		}
	}
	return n
}

// flaky is a backend whose answer is switched at runtime; it counts the
// calls it receives.
type flaky struct {
	status atomic.Int64 // the status of every answer
	calls  atomic.Int64
	hold   atomic.Pointer[chan struct{}] // when set, calls wait for it to close
}

func (f *flaky) serve(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	if h := f.hold.Load(); h != nil {
		<-*h
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(f.status.Load()))
	w.Write([]byte(`{"success":true,"data":{"id":1,"accessToken":"a"}}`))
}

// breakerEnv is a Client on a flaky backend with a manual clock and a log.
type breakerEnv struct {
	f   *flaky
	c   *Client
	clk *clock
	log *syncBuffer
}

func newBreakerEnv(t *testing.T, mod ...func(*Options)) *breakerEnv {
	t.Helper()
	e := &breakerEnv{f: &flaky{}, clk: newClock(), log: &syncBuffer{}}
	e.f.status.Store(200)
	_, e.c = serve(t, e.f.serve, append([]func(*Options){func(o *Options) {
		o.Now = e.clk.Now
		o.Logger = slog.New(slog.NewTextHandler(e.log, nil))
	}}, mod...)...)
	return e
}

// validate makes one validate call and returns its error.
func (e *breakerEnv) validate() error {
	_, err := e.c.Validate(context.Background(), "t")
	return err
}

func (e *breakerEnv) wantState(t *testing.T, endpoint string, want BreakerState) {
	t.Helper()
	if got := e.c.Breakers()[endpoint]; got != want {
		t.Fatalf("%s breaker = %q, want %q", endpoint, got, want)
	}
}

// wantFastFail makes n validate calls and checks that none reached the
// backend and each failed as unavailable with ErrBreakerOpen.
func (e *breakerEnv) wantFastFail(t *testing.T, n int) {
	t.Helper()
	before := e.f.calls.Load()
	for range n {
		if err := e.validate(); !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrBreakerOpen) {
			t.Fatalf("err = %v, want ErrUnavailable and ErrBreakerOpen", err)
		}
	}
	if got := e.f.calls.Load() - before; got != 0 {
		t.Fatalf("the backend received %d calls while the breaker was open, want 0", got)
	}
}

// TestBreakerOpensAfterConsecutiveUnavailable: each kind of unavailable
// outcome counts; the fifth opens the breaker, and the calls after it fail
// at once without reaching the backend.
func TestBreakerOpensAfterConsecutiveUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close()

	tests := []struct {
		name    string
		h       http.HandlerFunc
		url     string
		counted bool // the backend sees the calls (a refused connection does not)
	}{
		{"503", reply(503, `{}`), "", true},
		{"500", reply(500, `{}`), "", true},
		{"429", reply(429, `{}`), "", true},
		{"timeout", hang, "", true},
		{"connection refused", nil, refused, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			h := tt.h
			if h == nil {
				h = reply(200, `{}`)
			}
			clk := newClock()
			_, c := serve(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1); h(w, r) }, func(o *Options) {
				o.Timeout = 50 * time.Millisecond
				o.Now = clk.Now
				if tt.url != "" {
					o.URL = tt.url
				}
			})
			for i := range DefaultBreakerFailures {
				if got := c.Breakers()["validate"]; got != BreakerClosed {
					t.Fatalf("breaker = %q after %d failures, want closed", got, i)
				}
				if _, err := c.Validate(context.Background(), "t"); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrBreakerOpen) {
					t.Fatalf("call %d: err = %v, want ErrUnavailable from the backend", i+1, err)
				}
			}
			if got := c.Breakers()["validate"]; got != BreakerOpen {
				t.Fatalf("breaker = %q after %d failures, want open", got, DefaultBreakerFailures)
			}
			before := calls.Load()
			if tt.counted && before != DefaultBreakerFailures {
				t.Fatalf("the backend received %d calls, want %d", before, DefaultBreakerFailures)
			}
			for range 20 {
				if _, err := c.Validate(context.Background(), "t"); !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrBreakerOpen) {
					t.Fatalf("err = %v, want a fast ErrUnavailable/ErrBreakerOpen", err)
				}
			}
			if got := calls.Load() - before; got != 0 {
				t.Fatalf("the backend received %d calls while the breaker was open, want 0", got)
			}
			if c.Available() {
				t.Error("Available() = true with the validate breaker open")
			}
		})
	}
}

// TestBreakerAnyAnswerResets: only consecutive unavailable outcomes count;
// any other answer (2xx, 4xx) resets the count, and a cancelled call counts
// for nothing.
func TestBreakerAnyAnswerResets(t *testing.T) {
	for _, status := range []int{200, 401, 404, 409} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			e := newBreakerEnv(t)
			for round := range 3 {
				e.f.status.Store(503)
				for range DefaultBreakerFailures - 1 {
					e.validate()
				}
				e.f.status.Store(int64(status))
				e.validate()
				e.wantState(t, "validate", BreakerClosed)
				if got, want := e.f.calls.Load(), int64((round+1)*DefaultBreakerFailures); got != want {
					t.Fatalf("backend calls = %d, want %d (no call failed fast)", got, want)
				}
			}
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		e := newBreakerEnv(t)
		e.f.status.Store(503)
		for range DefaultBreakerFailures - 1 {
			e.validate()
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := e.c.Validate(ctx, "t"); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		e.wantState(t, "validate", BreakerClosed)
		e.validate() // the fifth unavailable outcome
		e.wantState(t, "validate", BreakerOpen)
	})
}

// TestBreakerProbes: after openFor the next call is the probe; a failed
// probe doubles openFor up to 30s, a successful one closes the breaker, and
// the next opening starts again at openFor. One log line per change.
func TestBreakerProbes(t *testing.T) {
	e := newBreakerEnv(t)
	e.f.status.Store(503)
	for range DefaultBreakerFailures {
		e.validate()
	}
	e.wantState(t, "validate", BreakerOpen)

	interval := DefaultBreakerOpenFor
	var intervals []time.Duration
	for probe := 0; probe < 8; probe++ {
		// Just before the interval ends: still open.
		e.clk.Advance(interval - time.Millisecond)
		e.wantState(t, "validate", BreakerOpen)
		e.wantFastFail(t, 3)
		e.clk.Advance(time.Millisecond)
		e.wantState(t, "validate", BreakerHalfOpen)
		before := e.f.calls.Load()
		if err := e.validate(); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrBreakerOpen) {
			t.Fatalf("probe %d: err = %v, want the backend's 503", probe, err)
		}
		if got := e.f.calls.Load() - before; got != 1 {
			t.Fatalf("probe %d: the backend received %d calls, want 1", probe, got)
		}
		e.wantState(t, "validate", BreakerOpen)
		intervals = append(intervals, interval)
		interval = min(2*interval, MaxBreakerOpenFor)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	for i := range want {
		if intervals[i] != want[i] {
			t.Fatalf("open intervals = %v, want %v", intervals, want)
		}
	}

	// The backend is back: the next probe closes the breaker.
	e.f.status.Store(200)
	e.clk.Advance(MaxBreakerOpenFor)
	if err := e.validate(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	e.wantState(t, "validate", BreakerClosed)
	if !e.c.Available() {
		t.Error("Available() = false after a successful probe")
	}
	before := e.f.calls.Load()
	for range 10 {
		if err := e.validate(); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.f.calls.Load() - before; got != 10 {
		t.Fatalf("the backend received %d of 10 calls after closing", got)
	}

	// Opening again starts from openFor, not from the last interval.
	e.f.status.Store(503)
	for range DefaultBreakerFailures {
		e.validate()
	}
	e.wantState(t, "validate", BreakerOpen)
	e.clk.Advance(DefaultBreakerOpenFor)
	e.wantState(t, "validate", BreakerHalfOpen)

	// One line per change of state: 2 openings, 8 failed probes (each
	// after a half-open line), 1 closing.
	for msg, n := range map[string]int{
		"backend: circuit open":               2,
		"backend: circuit open: probe failed": 8,
		"backend: circuit half-open, probing": 9,
		"backend: circuit closed":             1,
	} {
		if got := e.log.lines(msg); got != n {
			t.Errorf("%d log lines %q, want %d", got, msg, n)
		}
	}
}

// TestBreakerOneProbeAtATime: while the probe is in flight, every other
// call fails at once; the probe's answer closes the breaker.
func TestBreakerOneProbeAtATime(t *testing.T) {
	e := newBreakerEnv(t)
	e.f.status.Store(503)
	for range DefaultBreakerFailures {
		e.validate()
	}
	e.clk.Advance(DefaultBreakerOpenFor)

	hold := make(chan struct{})
	e.f.hold.Store(&hold)
	e.f.status.Store(200)
	before := e.f.calls.Load()
	probeDone := make(chan error, 1)
	go func() { probeDone <- e.validate() }() // owned by this test: ends when hold closes
	// Wait (bounded) until the probe reached the backend.
	deadline := time.Now().Add(10 * time.Second)
	for e.f.calls.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("the probe never reached the backend")
		}
		time.Sleep(time.Millisecond)
	}
	e.wantState(t, "validate", BreakerHalfOpen)

	const n = 50
	var wg sync.WaitGroup
	var fast atomic.Int64
	for range n {
		wg.Go(func() {
			if err := e.validate(); errors.Is(err, ErrBreakerOpen) {
				fast.Add(1)
			}
		})
	}
	wg.Wait()
	if fast.Load() != n {
		t.Errorf("%d of %d calls during the probe failed fast, want all", fast.Load(), n)
	}
	if got := e.f.calls.Load() - before; got != 1 {
		t.Errorf("the backend received %d calls during the probe, want 1", got)
	}
	e.f.hold.Store(nil)
	close(hold)
	if err := <-probeDone; err != nil {
		t.Fatalf("probe: %v", err)
	}
	e.wantState(t, "validate", BreakerClosed)
}

// TestBreakerCancelledProbe: a probe whose caller gives up decides nothing;
// the next call probes instead.
func TestBreakerCancelledProbe(t *testing.T) {
	e := newBreakerEnv(t)
	e.f.status.Store(503)
	for range DefaultBreakerFailures {
		e.validate()
	}
	e.clk.Advance(DefaultBreakerOpenFor)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.c.Validate(ctx, "t"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	e.wantState(t, "validate", BreakerHalfOpen)
	e.f.status.Store(200)
	if err := e.validate(); err != nil {
		t.Fatalf("the next call: %v, want it to probe", err)
	}
	e.wantState(t, "validate", BreakerClosed)
}

// TestBreakerPerEndpoint: each endpoint has its own breaker; a failing
// refresh endpoint neither opens validate's nor makes the backend count as
// unavailable for the health summary.
func TestBreakerPerEndpoint(t *testing.T) {
	var refreshCalls, meCalls atomic.Int64
	clk := newClock()
	_, c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/auth/refresh") {
			refreshCalls.Add(1)
			w.WriteHeader(503)
			return
		}
		meCalls.Add(1)
		reply(200, `{"success":true,"data":{"id":1}}`)(w, r)
	}, func(o *Options) {
		o.Now = clk.Now
		o.Breaker = BreakerOptions{Failures: 2, OpenFor: 3 * time.Second}
	})
	ctx := context.Background()
	for range 10 {
		if _, err := c.Refresh(ctx, "r"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("refresh: %v, want unavailable", err)
		}
		if _, err := c.Validate(ctx, "t"); err != nil {
			t.Fatalf("validate: %v", err)
		}
	}
	if refreshCalls.Load() != 2 || meCalls.Load() != 10 {
		t.Errorf("backend calls: refresh %d (want 2: backend.breaker.failures), validate %d (want 10)", refreshCalls.Load(), meCalls.Load())
	}
	got := c.Breakers()
	want := map[string]BreakerState{"validate": BreakerClosed, "refresh": BreakerOpen, "guest": BreakerClosed,
		"login": BreakerClosed, "register": BreakerClosed, "logout": BreakerClosed}
	if len(got) != len(want) {
		t.Fatalf("Breakers() = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Breakers()[%s] = %q, want %q", k, got[k], v)
		}
	}
	if !c.Available() {
		t.Error("Available() = false while only refresh fails")
	}
	// backend.breaker.openFor: 3s.
	clk.Advance(3*time.Second - time.Millisecond)
	if c.Breakers()["refresh"] != BreakerOpen {
		t.Error("refresh breaker not open any more before openFor")
	}
	clk.Advance(time.Millisecond)
	if c.Breakers()["refresh"] != BreakerHalfOpen {
		t.Error("refresh breaker not half-open after openFor")
	}
}

// TestBreakerRefreshFastFailIsNetwork: a refresh refused by an open
// breaker is a RefreshError of reason network, as a backend outage is.
func TestBreakerRefreshFastFailIsNetwork(t *testing.T) {
	e := newBreakerEnv(t)
	e.f.status.Store(502)
	for range DefaultBreakerFailures {
		e.c.Refresh(context.Background(), "r")
	}
	_, err := e.c.Refresh(context.Background(), "r")
	var re *RefreshError
	if !errors.As(err, &re) || re.Reason != ReasonNetwork || !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("err = %v, want a network RefreshError from the open breaker", err)
	}
}
