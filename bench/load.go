package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// target is one kind of request the load generator sends.
type target struct {
	method string
	url    string
	header http.Header
	body   []byte
	// want is the expected status; any other counts as an error.
	want int
	// urls, if set, are the instances a closed-loop worker sends to in
	// turn (round robin): its k-th request goes to urls[k%len(urls)], with
	// url's path.
	urls []string
}

// nth is the target of a worker's k-th request: t itself, or t at the
// next instance of urls.
func (t target) nth(k int) target {
	if len(t.urls) > 0 {
		t.url = t.urls[k%len(t.urls)]
	}
	return t
}

func (t target) request(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if t.body != nil {
		body = bytes.NewReader(t.body)
	}
	r, err := http.NewRequestWithContext(ctx, t.method, t.url, body)
	if err != nil {
		return nil, fmt.Errorf("bench: request: %w", err)
	}
	for k, v := range t.header {
		r.Header[k] = v
	}
	return r, nil
}

// run is what one load run measured.
type run struct {
	requests int64         // answered with the wanted status
	errors   int64         // transport errors and unwanted statuses
	elapsed  time.Duration // from the first request to the last answer
	hist     histogram     // latency of the wanted answers
	firstErr string        // the first error, for the report
}

// add counts one answer: status and err from do, latency since the
// request was due.
func (r *run) add(t target, status int, err error, latency time.Duration) {
	if err == nil && status != t.want {
		err = fmt.Errorf("status %d, want %d", status, t.want)
	}
	if err != nil {
		r.errors++
		if r.firstErr == "" {
			r.firstErr = err.Error()
		}
		return
	}
	r.hist.record(latency)
	r.requests++
}

// merge adds one worker's run into r.
func (r *run) merge(own *run) {
	r.requests += own.requests
	r.errors += own.errors
	r.hist.merge(&own.hist)
	if r.firstErr == "" {
		r.firstErr = own.firstErr
	}
}

// rps is the throughput of the run in requests per second.
func (r *run) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// newClient returns a keep-alive client with exactly conns connections to
// one host, without proxies or transparent compression. Close its idle
// connections when done.
func newClient(conns int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		Timeout: 30 * time.Second,
		// The gateway answers redirects itself: they are measured, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// do sends one request and reads the whole answer. It returns the status,
// or an error.
func do(ctx context.Context, c *http.Client, t target) (int, error) {
	req, err := t.request(ctx)
	if err != nil {
		return 0, err
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("bench: reading the answer: %w", err)
	}
	return res.StatusCode, nil
}

// closedLoop runs conns workers, each sending its next request as soon as
// the previous one is answered, for d or until limit requests were sent in
// all, whichever comes first. Closed-loop load at a fixed concurrency is
// what the goals are stated in: requests per second at 32 connections.
// Worker i sends ts[i%len(ts)] (one user per connection), in turn to each
// of its urls if it has several.
func closedLoop(ctx context.Context, c *http.Client, ts []target, conns int, d time.Duration, limit int64) *run {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu    sync.Mutex
		total run // guarded by mu
		sent  atomic.Int64
	)
	take := func() bool { return sent.Add(1) <= limit }
	start := time.Now()
	var wg sync.WaitGroup
	for i := range conns {
		t := ts[i%len(ts)]
		wg.Go(func() {
			var own run
			for k := 0; ctx.Err() == nil && take(); k++ {
				t0 := time.Now()
				status, err := do(ctx, c, t.nth(k))
				if ctx.Err() != nil {
					break // cut by the deadline: neither a success nor an error
				}
				own.add(t, status, err, time.Since(t0))
			}
			mu.Lock()
			total.merge(&own)
			mu.Unlock()
		})
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	return &total
}

// paced sends rate requests per second for d (open loop) with up to
// workers in flight, and measures each latency from the moment the request
// was due, not from when it was sent, so a stall is charged to every
// request it delayed (no coordinated omission). At a rate well below the
// capacity of every setup, the latency difference is the gateway's own
// work rather than queueing. Request i is ts[i%len(ts)].
func paced(ctx context.Context, c *http.Client, ts []target, rate int, d time.Duration, workers int) *run {
	n := int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	type job struct {
		at time.Time
		t  target
	}
	due := make(chan job, n)
	var (
		mu    sync.Mutex
		total run
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	for range workers {
		wg.Go(func() {
			var own run
			for j := range due {
				t, at := j.t, j.at
				status, err := do(ctx, c, t)
				own.add(t, status, err, time.Since(at))
			}
			mu.Lock()
			total.merge(&own)
			mu.Unlock()
		})
	}
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
schedule:
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		timer.Reset(time.Until(at))
		select {
		case <-ctx.Done():
			break schedule
		case <-timer.C:
		}
		due <- job{at: at, t: ts[i%len(ts)]}
	}
	close(due)
	wg.Wait()
	total.elapsed = time.Since(start)
	return &total
}

// burst sends n copies of t at once, each on its own connection, released
// together once every connection is open, and returns the statuses.
func burst(ctx context.Context, t target, n int) ([]int, error) {
	c := newClient(n)
	defer c.CloseIdleConnections()
	// Open the n connections first, with a request that costs the gateway
	// nothing (the health path), so that the burst does not wait on dials.
	health := target{method: http.MethodGet, url: t.url, want: http.StatusOK}
	if u, err := withPath(t.url, healthPath); err == nil {
		health.url = u
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { do(ctx, c, health) })
	}
	wg.Wait()

	statuses := make([]int, n)
	errs := make([]error, n)
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			statuses[i], errs[i] = do(ctx, c, t)
		})
	}
	close(gate)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return statuses, err
		}
	}
	return statuses, nil
}
