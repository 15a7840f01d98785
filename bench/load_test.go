package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func countingServer(t *testing.T, status int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestClosedLoop(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status       int
		wantOK       int64
		wantErrors   int64
		wantFirstErr string
	}{
		{"wanted status counts as a request", http.StatusOK, 200, 0, ""},
		{"other status counts as an error", http.StatusTeapot, 0, 200, "status 418, want 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := countingServer(t, tc.status)
			c := newClient(4)
			defer c.CloseIdleConnections()
			ts := []target{{method: http.MethodGet, url: srv.URL, want: http.StatusOK}}
			r := closedLoop(context.Background(), c, ts, 4, time.Minute, 200)
			if r.requests != tc.wantOK || r.errors != tc.wantErrors {
				t.Errorf("requests %d errors %d, want %d and %d", r.requests, r.errors, tc.wantOK, tc.wantErrors)
			}
			if n.Load() != 200 {
				t.Errorf("server saw %d requests, want exactly the limit, 200", n.Load())
			}
			if r.firstErr != tc.wantFirstErr {
				t.Errorf("first error %q, want %q", r.firstErr, tc.wantFirstErr)
			}
			if r.hist.total != uint64(tc.wantOK) {
				t.Errorf("%d latencies recorded, want %d", r.hist.total, tc.wantOK)
			}
		})
	}
}

func TestClosedLoopGivesEachWorkerItsTarget(t *testing.T) {
	var a, b atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Cookie") {
		case "u=a":
			a.Add(1)
		case "u=b":
			b.Add(1)
		}
	}))
	defer srv.Close()
	c := newClient(2)
	defer c.CloseIdleConnections()
	ts := []target{
		{method: http.MethodGet, url: srv.URL, header: http.Header{"Cookie": {"u=a"}}, want: http.StatusOK},
		{method: http.MethodGet, url: srv.URL, header: http.Header{"Cookie": {"u=b"}}, want: http.StatusOK},
	}
	r := closedLoop(context.Background(), c, ts, 2, time.Minute, 100)
	if r.requests != 100 || a.Load() == 0 || b.Load() == 0 || a.Load()+b.Load() != 100 {
		t.Errorf("requests %d, user a %d, user b %d: want 100 shared by both users", r.requests, a.Load(), b.Load())
	}
}

func TestPacedSendsEveryScheduledRequest(t *testing.T) {
	srv, n := countingServer(t, http.StatusOK)
	c := newClient(4)
	defer c.CloseIdleConnections()
	ts := []target{{method: http.MethodPost, url: srv.URL, body: []byte("{}"), want: http.StatusOK}}
	r := paced(context.Background(), c, ts, 200, 100*time.Millisecond, 4)
	if r.requests != 20 || r.errors != 0 || n.Load() != 20 {
		t.Errorf("requests %d errors %d server %d, want 20 requests at 200/s for 100ms", r.requests, r.errors, n.Load())
	}
}

func TestBurstHoldsEveryRequestInFlightAtOnce(t *testing.T) {
	const n = 20
	arrived := make(chan struct{}, n)
	all := make(chan struct{})
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == healthPath {
			return
		}
		arrived <- struct{}{}
		if count.Add(1) == n {
			close(all)
		}
		// Every request waits for all the others: the burst only completes
		// if the n requests are in flight together.
		select {
		case <-all:
		case <-r.Context().Done():
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	statuses, err := burst(ctx, target{method: http.MethodGet, url: srv.URL + "/page", want: http.StatusOK}, n)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d: status %d", i, s)
		}
	}
}

func TestGatewayConfigsAreValid(t *testing.T) {
	for _, g := range gateways {
		t.Run(g, func(t *testing.T) {
			c, err := gatewayConfig(g, "http://127.0.0.1:1", "http://127.0.0.1:2", t.TempDir(), "redis://127.0.0.1:3/0")
			if err != nil {
				t.Fatal(err)
			}
			c.Defaults()
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := gatewayConfig("nonsense", "", "", "", ""); err == nil || !strings.Contains(err.Error(), "nonsense") {
		t.Errorf("unknown scenario: error %v, want one naming it", err)
	}
}

func TestSessionFiguresInProcess(t *testing.T) {
	per, second, err := measureSessions(2000)
	if err != nil {
		t.Fatal(err)
	}
	if per <= 0 || second != 0 {
		t.Errorf("%d bytes per session, %d calls on the second pass: want a positive size and 0 calls", per, second)
	}
	allocs, err := pipelineAllocs()
	if err != nil {
		t.Fatal(err)
	}
	if allocs <= 0 {
		t.Errorf("%v allocations per request: want a positive count", allocs)
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantRounds int
		wantDur    time.Duration
		wantErr    bool
	}{
		{"full", nil, 5, 6 * time.Second, false},
		{"quick", []string{"-quick"}, 2, time.Second, false},
		{"quick with more rounds", []string{"-quick", "-rounds", "4"}, 4, time.Second, false},
		{"bad conns", []string{"-conns", "0"}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			s, err := parseFlags(tc.args, &stderr)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (s.rounds != tc.wantRounds || s.duration != tc.wantDur) {
				t.Errorf("rounds %d duration %v, want %d and %v", s.rounds, s.duration, tc.wantRounds, tc.wantDur)
			}
		})
	}
}

func TestParseCPUTime(t *testing.T) {
	// A comm with spaces and a ')' of its own; utime 150 and stime 25 ticks.
	stat := "4242 (bench (role) x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 150 25 0 0 20 0 9 0 100 0 0"
	got, err := parseCPUTime(stat)
	if err != nil || got != 1750*time.Millisecond {
		t.Errorf("parseCPUTime = %v, %v; want 1.75s", got, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 x 0"} {
		if _, err := parseCPUTime(bad); err == nil {
			t.Errorf("parseCPUTime(%q) gave no error", bad)
		}
	}
	// The harness reads its own process the same way.
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseCPUTime(string(b)); err != nil {
		t.Errorf("parseCPUTime(/proc/self/stat): %v", err)
	}
}

func TestClosedLoopRoundRobin(t *testing.T) {
	var seen [3]atomic.Int64
	var srvs []string
	for i := range seen {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/dashboard" {
				seen[i].Add(1)
			}
		}))
		t.Cleanup(srv.Close)
		srvs = append(srvs, srv.URL+"/dashboard")
	}
	c := newClient(1)
	defer c.CloseIdleConnections()
	ts := []target{{method: http.MethodGet, url: srvs[0], urls: srvs, want: http.StatusOK}}
	r := closedLoop(context.Background(), c, ts, 1, time.Minute, 90)
	if r.requests != 90 || r.errors != 0 {
		t.Fatalf("requests %d errors %d, want 90 and 0", r.requests, r.errors)
	}
	// The worker goes round the three in turn.
	for i := range seen {
		if n := seen[i].Load(); n != 30 {
			t.Errorf("instance %d got %d requests, want 30", i, n)
		}
	}
}
