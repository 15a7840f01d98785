package audit

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// SignatureHeader carries the HMAC-SHA256 of a webhook body.
const SignatureHeader = "X-Apilayer-Signature"

// Sign returns the X-Apilayer-Signature value of body for secret:
// "sha256=" and the hex HMAC-SHA256. Receivers compare it with
// hmac.Equal.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// webhook POSTs JSON arrays of events to a URL.
type webhook struct {
	url     string // full URL, never logged
	name    string // scheme://host/path, safe to log
	secret  []byte
	client  *http.Client
	retries int
	backoff time.Duration
	maxWait time.Duration
	attempt time.Duration
	body    bytes.Buffer
}

func newWebhook(u *url.URL, opts Options) *webhook {
	w := &webhook{
		url:     u.String(),
		name:    u.Scheme + "://" + u.Host + u.Path,
		client:  opts.HTTPClient,
		retries: opts.MaxRetries,
		backoff: opts.RetryBackoff,
		maxWait: opts.MaxBackoff,
		attempt: opts.AttemptTimeout,
	}
	if opts.WebhookSecret != "" {
		w.secret = []byte(opts.WebhookSecret)
	}
	if w.client == nil {
		w.client = &http.Client{}
	}
	switch {
	case w.retries == 0:
		w.retries = DefaultMaxRetries
	case w.retries < 0:
		w.retries = 0
	}
	if w.backoff <= 0 {
		w.backoff = DefaultRetryBackoff
	}
	if w.maxWait <= 0 {
		w.maxWait = DefaultMaxBackoff
	}
	if w.attempt <= 0 {
		w.attempt = DefaultAttemptTimeout
	}
	return w
}

// send posts the batch, retrying on network errors, 5xx and 429. Waits
// between attempts end early when stop is closed (the Logger is closing:
// the batch is given up rather than holding Close for a backoff), and ctx
// aborts an attempt in flight.
func (w *webhook) send(ctx context.Context, stop <-chan struct{}, events [][]byte) error {
	w.body.Reset()
	w.body.WriteByte('[')
	for i, e := range events {
		if i > 0 {
			w.body.WriteByte(',')
		}
		w.body.Write(e)
	}
	w.body.WriteByte(']')
	body := w.body.Bytes()
	var sig string
	if w.secret != nil {
		sig = Sign(w.secret, body)
	}

	for n := 0; ; n++ {
		retry, after, err := w.post(ctx, body, sig)
		if err == nil {
			return nil
		}
		if !retry || n >= w.retries {
			return err
		}
		wait := w.wait(n, after)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
			return fmt.Errorf("%w (closing, not retried)", err)
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (closing, not retried)", err)
		}
	}
}

// wait is the pause before retry n+1: the backoff doubled n times, capped,
// with jitter (a random value in its upper half, so receivers recovering
// from an outage are not hit by every gateway at once). A Retry-After from
// the receiver is honoured up to the cap.
func (w *webhook) wait(n int, after time.Duration) time.Duration {
	d := w.backoff
	for i := 0; i < n && d < w.maxWait; i++ {
		d *= 2
	}
	d = min(d, w.maxWait)
	d = d/2 + rand.N(d/2+1)
	if after > d {
		d = min(after, w.maxWait)
	}
	return d
}

// post makes one attempt. retry reports whether another attempt may
// succeed; after is the receiver's Retry-After.
func (w *webhook) post(ctx context.Context, body []byte, sig string) (retry bool, after time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.attempt)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, 0, fmt.Errorf("audit: webhook %s: %w", w.name, errors.Unwrap(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "apilayer-audit")
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	res, err := w.client.Do(req)
	if err != nil {
		// A *url.Error repeats the URL, whose query may hold a secret:
		// keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return true, 0, fmt.Errorf("audit: webhook %s: %w", w.name, err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return false, 0, nil
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		var after time.Duration
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
			after = time.Duration(s) * time.Second
		}
		return true, after, fmt.Errorf("audit: webhook %s: status %d", w.name, res.StatusCode)
	default:
		return false, 0, fmt.Errorf("audit: webhook %s: status %d (not retried)", w.name, res.StatusCode)
	}
}

func (w *webhook) close() error { return nil }
