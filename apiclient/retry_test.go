package apiclient

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestRetry(t *testing.T) {
	const s = time.Second
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		retry    Retry
		method   string
		opts     []CallOption
		statuses []int             // the backend's answers in order; the last one repeats
		header   map[string]string // on every answer
		rand     float64
		wantN    int             // backend calls
		wantWait []time.Duration // the retry waits
		wantCode int             // final status
	}{
		{name: "off by default", statuses: []int{503}, wantN: 1, wantCode: 503},
		{name: "exponential", retry: Retry{Enabled: true, MaxAttempts: 4}, statuses: []int{500},
			wantN: 4, wantWait: []time.Duration{1 * s, 2 * s, 4 * s}, wantCode: 500},
		{name: "linear", retry: Retry{Enabled: true, MaxAttempts: 4, Backoff: Linear, BaseDelay: 100 * time.Millisecond}, statuses: []int{502},
			wantN: 4, wantWait: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}, wantCode: 502},
		{name: "fixed", retry: Retry{Enabled: true, Backoff: Fixed, BaseDelay: 250 * time.Millisecond}, statuses: []int{504},
			wantN: 3, wantWait: []time.Duration{250 * time.Millisecond, 250 * time.Millisecond}, wantCode: 504},
		{name: "max delay caps", retry: Retry{Enabled: true, MaxAttempts: 5, MaxDelay: 3 * s}, statuses: []int{500},
			wantN: 5, wantWait: []time.Duration{1 * s, 2 * s, 3 * s, 3 * s}, wantCode: 500},
		{name: "jitter low", retry: Retry{Enabled: true, Jitter: 0.5}, rand: 0, statuses: []int{500},
			wantN: 3, wantWait: []time.Duration{500 * time.Millisecond, 1 * s}, wantCode: 500},
		{name: "jitter high", retry: Retry{Enabled: true, Jitter: 0.5}, rand: 0.75, statuses: []int{500},
			wantN: 3, wantWait: []time.Duration{1250 * time.Millisecond, 2500 * time.Millisecond}, wantCode: 500},
		{name: "success on the third attempt", retry: Retry{Enabled: true, MaxAttempts: 5}, statuses: []int{503, 500, 200},
			wantN: 3, wantWait: []time.Duration{1 * s, 2 * s}, wantCode: 200},
		{name: "status not in RetryOn", retry: Retry{Enabled: true}, statuses: []int{501}, wantN: 1, wantCode: 501},
		{name: "4xx never", retry: Retry{Enabled: true}, statuses: []int{404}, wantN: 1, wantCode: 404},
		{name: "custom RetryOn", retry: Retry{Enabled: true, RetryOn: []int{409}}, statuses: []int{409, 200},
			wantN: 2, wantWait: []time.Duration{1 * s}, wantCode: 200},
		{name: "Retry-After seconds", retry: Retry{Enabled: true}, statuses: []int{429, 200}, header: map[string]string{"Retry-After": "7"},
			wantN: 2, wantWait: []time.Duration{7 * s}, wantCode: 200},
		{name: "Retry-After date", retry: Retry{Enabled: true}, statuses: []int{503, 200},
			header: map[string]string{"Retry-After": now.Add(12 * s).Format(http.TimeFormat)},
			wantN:  2, wantWait: []time.Duration{12 * s}, wantCode: 200},
		{name: "Retry-After date in the past", retry: Retry{Enabled: true}, statuses: []int{429, 200},
			header: map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)},
			wantN:  2, wantWait: []time.Duration{0}, wantCode: 200},
		{name: "Retry-After garbage uses backoff", retry: Retry{Enabled: true}, statuses: []int{429, 200}, header: map[string]string{"Retry-After": "soon"},
			wantN: 2, wantWait: []time.Duration{1 * s}, wantCode: 200},
		{name: "Retry-After over MaxDelay gives up", retry: Retry{Enabled: true}, statuses: []int{429}, header: map[string]string{"Retry-After": "3600"},
			wantN: 1, wantCode: 429},
		{name: "Retry-After beyond a Duration gives up", retry: Retry{Enabled: true}, statuses: []int{429, 200}, header: map[string]string{"Retry-After": "9999999999"},
			wantN: 1, wantCode: 429},
		{name: "POST not retried", retry: Retry{Enabled: true}, method: http.MethodPost, statuses: []int{503}, wantN: 1, wantCode: 503},
		{name: "PATCH not retried", retry: Retry{Enabled: true}, method: http.MethodPatch, statuses: []int{503}, wantN: 1, wantCode: 503},
		{name: "POST opted in", retry: Retry{Enabled: true}, method: http.MethodPost, opts: []CallOption{RetryNonIdempotent()},
			statuses: []int{503, 201}, wantN: 2, wantWait: []time.Duration{1 * s}, wantCode: 201},
		{name: "PUT retried", retry: Retry{Enabled: true}, method: http.MethodPut, statuses: []int{503, 200},
			wantN: 2, wantWait: []time.Duration{1 * s}, wantCode: 200},
		{name: "DELETE retried", retry: Retry{Enabled: true}, method: http.MethodDelete, statuses: []int{500, 204},
			wantN: 2, wantWait: []time.Duration{1 * s}, wantCode: 204},
		{name: "per-call retry when globally off", opts: []CallOption{WithRetry(Retry{MaxAttempts: 2, Backoff: Fixed, BaseDelay: 5 * s})},
			statuses: []int{500}, wantN: 2, wantWait: []time.Duration{5 * s}, wantCode: 500},
		{name: "per-call NoRetry", retry: Retry{Enabled: true}, opts: []CallOption{NoRetry()}, statuses: []int{500}, wantN: 1, wantCode: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				code := tt.statuses[min(n, len(tt.statuses))-1]
				if code == http.StatusNoContent {
					w.WriteHeader(code)
					return
				}
				writeJSON(w, code, `{"success":`+strconv.FormatBool(code < 300)+`,"data":{"n":`+strconv.Itoa(n)+`}}`)
			})
			c, sl := newClient(t, b, func(c *Config) {
				c.Retry = tt.retry
				c.Now = func() time.Time { return now }
				c.Rand = func() float64 { return tt.rand }
			})
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			var body any
			if method != http.MethodGet && method != http.MethodDelete {
				body = map[string]any{"a": 1}
			}
			res, err := c.Do(userCtx(t), method, "jobs", body, tt.opts...)
			if res == nil {
				t.Fatalf("no response, err %v", err)
			}
			if res.Status != tt.wantCode {
				t.Errorf("status = %d, want %d", res.Status, tt.wantCode)
			}
			if (err == nil) != (tt.wantCode < 300) {
				t.Errorf("err = %v", err)
			}
			if n := b.count(); n != tt.wantN {
				t.Errorf("backend calls = %d, want %d", n, tt.wantN)
			}
			if got := sl.all(); !slices.Equal(got, tt.wantWait) {
				t.Errorf("waits = %v, want %v", got, tt.wantWait)
			}
			for _, r := range b.requests() {
				if r.Method != method {
					t.Errorf("retry sent %s, want %s", r.Method, method)
				}
				if method == http.MethodPost && string(r.Body) != `{"a":1}` {
					t.Errorf("retry body = %q", r.Body)
				}
			}
		})
	}
}

func TestRetryTransportErrors(t *testing.T) {
	t.Run("network errors retried", func(t *testing.T) {
		b := newBackend(t, nil)
		b.srv.Close()
		c, sl := newClient(t, b, func(c *Config) { c.Retry = Retry{Enabled: true} })
		if _, err := c.Get(userCtx(t), "x"); !errors.Is(err, ErrNetwork) {
			t.Fatalf("err = %v", err)
		}
		if got := sl.all(); len(got) != 2 {
			t.Errorf("waits = %v, want 2", got)
		}
	})
	t.Run("NoNetworkRetry", func(t *testing.T) {
		b := newBackend(t, nil)
		b.srv.Close()
		c, sl := newClient(t, b, func(c *Config) { c.Retry = Retry{Enabled: true, NoNetworkRetry: true} })
		if _, err := c.Get(userCtx(t), "x"); !errors.Is(err, ErrNetwork) {
			t.Fatalf("err = %v", err)
		}
		if got := sl.all(); len(got) != 0 {
			t.Errorf("waits = %v, want none", got)
		}
	})
	t.Run("timeouts retried", func(t *testing.T) {
		b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				<-r.Context().Done()
				return
			}
			writeJSON(w, 200, `{"success":true,"data":"late"}`)
		})
		c, sl := newClient(t, b, func(c *Config) { c.Retry = Retry{Enabled: true}; c.Timeout = 20 * time.Millisecond })
		res, err := c.Get(userCtx(t), "x")
		if err != nil || string(res.Data) != `"late"` {
			t.Fatalf("res %v err %v", res, err)
		}
		if got := sl.all(); !slices.Equal(got, []time.Duration{time.Second}) {
			t.Errorf("waits = %v", got)
		}
	})
	t.Run("timeouts not retried without 408", func(t *testing.T) {
		b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) { <-r.Context().Done() })
		c, _ := newClient(t, b, func(c *Config) {
			c.Retry = Retry{Enabled: true, RetryOn: []int{503}}
			c.Timeout = 20 * time.Millisecond
		})
		if _, err := c.Get(userCtx(t), "x"); !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v", err)
		}
		if n := b.count(); n != 1 {
			t.Errorf("backend calls = %d, want 1", n)
		}
	})
}

func TestRetryWaitCancelledByContext(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 503, `{}`) })
	waiting := make(chan time.Duration)
	c, _ := newClient(t, b, func(c *Config) {
		c.Retry = Retry{Enabled: true, MaxAttempts: 5}
		c.Sleep = func(ctx context.Context, d time.Duration) error {
			waiting <- d
			<-ctx.Done()
			return ctx.Err()
		}
	})
	ctx, cancel := context.WithCancel(userCtx(t))
	done := make(chan error)
	go func() {
		_, err := c.Get(ctx, "x")
		done <- err
	}()
	if d := <-waiting; d != time.Second {
		t.Errorf("wait = %v, want 1s", d)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := b.count(); n != 1 {
		t.Errorf("backend calls = %d, want 1", n)
	}
}

func TestDefaultSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// A cancelled context ends an hour's wait at once.
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep = %v, want context.Canceled", err)
	}
	if err := sleep(t.Context(), 0); err != nil {
		t.Errorf("sleep(0) = %v", err)
	}
	if err := sleep(t.Context(), time.Nanosecond); err != nil {
		t.Errorf("sleep(1ns) = %v", err)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		v    string
		want time.Duration
		ok   bool
	}{
		{"seconds", "120", 120 * time.Second, true},
		{"zero", "0", 0, true},
		{"negative", "-5", 0, false},
		{"plus sign", "+5", 0, false},
		{"leading zeros", "007", 7 * time.Second, true},
		{"beyond a Duration", "9999999999", math.MaxInt64, true},
		{"beyond uint64", "99999999999999999999999", math.MaxInt64, true},
		{"fraction", "1.5", 0, false},
		{"IMF date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"RFC 850 date", now.Add(30 * time.Second).Format(time.RFC850), 30 * time.Second, true},
		{"ANSI C date", now.Add(45 * time.Second).Format(time.ANSIC), 45 * time.Second, true},
		{"past date", now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"garbage", "later", 0, false},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := retryAfter(http.Header{"Retry-After": {tt.v}}, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
			}
		})
	}
}
