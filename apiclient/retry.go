package apiclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// execute runs the attempts of a call.
func (c *Client) execute(ctx context.Context, p *prepared) outcome {
	for attempt := 1; ; attempt++ {
		out := c.attempt(ctx, p, attempt)
		if ctx.Err() != nil {
			return outcome{err: fmt.Errorf("apiclient: %s %s: %w", p.method, p.endpoint, context.Cause(ctx))}
		}
		delay, why, ok := c.retryDelay(p, out, attempt)
		if !ok {
			if attempt > 1 && why != "" {
				c.debug(ctx, "apiclient: giving up", slog.String("method", p.method), slog.String("endpoint", p.endpoint),
					slog.Int("attempts", attempt), slog.String("reason", why))
			}
			return out
		}
		c.debug(ctx, "apiclient: retrying", slog.String("method", p.method), slog.String("endpoint", p.endpoint),
			slog.Int("attempt", attempt), slog.String("reason", why), slog.Duration("delay", delay))
		if err := c.cfg.Sleep(ctx, delay); err != nil {
			return outcome{err: fmt.Errorf("apiclient: %s %s: waiting to retry: %w", p.method, p.endpoint, err)}
		}
	}
}

// attempt sends the request once and reads the whole answer.
func (c *Client) attempt(ctx context.Context, p *prepared, n int) outcome {
	actx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var body io.Reader
	if p.body.data != nil {
		body = bytes.NewReader(p.body.data)
	}
	req, err := http.NewRequestWithContext(actx, p.wire, p.url.String(), body)
	if err != nil {
		return outcome{err: fmt.Errorf("apiclient: %s %s: %w", p.method, p.endpoint, err)}
	}
	req.Header = p.header.Clone()
	c.logRequest(ctx, p, n)
	start := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(ctx, actx, p, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return c.transportError(ctx, actx, p, err)
	}
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return outcome{err: fmt.Errorf("apiclient: %s %s: %w (over %d bytes)", p.method, p.endpoint, ErrTooLarge, c.cfg.MaxResponseBytes)}
	}
	out := outcome{status: res.StatusCode, header: res.Header, body: data}
	c.logResponse(ctx, p, out, time.Since(start))
	return out
}

// retryDelay says whether out is retried and after how long; why names
// the failure.
func (c *Client) retryDelay(p *prepared, out outcome, attempt int) (delay time.Duration, why string, ok bool) {
	var te *TimeoutError
	var ne *NetworkError
	r := p.retry
	switch {
	case errors.As(out.err, &te):
		why = "timeout"
		ok = slices.Contains(r.RetryOn, http.StatusRequestTimeout)
	case errors.As(out.err, &ne):
		why = "network error"
		ok = !r.NoNetworkRetry
	case out.err != nil:
		return 0, "", false
	default:
		why = fmt.Sprintf("status %d", out.status)
		ok = slices.Contains(r.RetryOn, out.status)
	}
	if !ok || !r.Enabled || !p.idempotent || attempt >= r.MaxAttempts {
		return 0, why, false
	}
	if out.err == nil && (out.status == http.StatusTooManyRequests || out.status == http.StatusServiceUnavailable) {
		if d, has := retryAfter(out.header, c.cfg.Now()); has {
			if d > r.MaxDelay {
				return 0, why + fmt.Sprintf(", Retry-After %s over MaxDelay", d), false
			}
			return d, why + ", Retry-After", true
		}
	}
	return backoff(r, attempt, c.cfg.Rand), why, true
}

// backoff returns the delay after the failed attempt n (1-based).
func backoff(r Retry, n int, rnd func() float64) time.Duration {
	var d time.Duration
	switch r.Backoff {
	case Linear:
		d = r.BaseDelay * time.Duration(n)
	case Fixed:
		d = r.BaseDelay
	default:
		d = r.BaseDelay
		for i := 1; i < n && d < r.MaxDelay; i++ {
			d *= 2
		}
	}
	if r.Jitter > 0 {
		f := 1 - r.Jitter + 2*r.Jitter*rnd()
		d = time.Duration(float64(d) * f)
	}
	return min(d, r.MaxDelay)
}

// retryAfter reads Retry-After: delay-seconds (digits only) or an HTTP
// date. More seconds than a time.Duration holds read as the longest
// Duration, which Retry.MaxDelay then refuses.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	secs, err := strconv.ParseUint(v, 10, 64)
	switch {
	case err == nil && secs <= math.MaxInt64/uint64(time.Second):
		return time.Duration(secs) * time.Second, true
	case err == nil, errors.Is(err, strconv.ErrRange):
		return math.MaxInt64, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
