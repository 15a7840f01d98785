package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// outcome is the result of a call before it becomes a Response: the last
// answer, or the error that prevented one.
type outcome struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// finish turns an outcome into this caller's Response and error.
func (c *Client) finish(p *prepared, out outcome) (*Response, error) {
	if out.err != nil {
		return nil, out.err
	}
	res := newResponse(out.status, out.header.Clone(), bytes.Clone(out.body))
	if res.Status >= 200 && res.Status < 300 {
		return res, nil
	}
	he := &HTTPError{Method: p.method, Endpoint: p.endpoint, Status: res.Status, Response: res}
	switch {
	case res.Status == http.StatusUnauthorized:
		reason := InvalidToken
		if saysExpired(res) {
			reason = ExpiredToken
		}
		return res, &AuthError{Reason: reason, Method: p.method, Endpoint: p.endpoint, HTTP: he}
	case res.Status == http.StatusUnprocessableEntity, res.Status == http.StatusBadRequest && len(res.Errors) > 0:
		return res, &ValidationError{HTTP: he, Fields: res.Errors, order: res.errorOrder}
	case res.Status == http.StatusTooManyRequests:
		d, _ := retryAfter(res.Header, c.cfg.Now())
		return res, &RateLimitError{HTTP: he, RetryAfter: d, Limit: headerInt(res.Header, "X-RateLimit-Limit"), Remaining: headerInt(res.Header, "X-RateLimit-Remaining")}
	}
	return res, he
}

// saysExpired reports whether a 401 says the token expired, in its
// message, its "code" or "error" field, or WWW-Authenticate.
func saysExpired(r *Response) bool {
	texts := []string{r.Message, r.Header.Get("WWW-Authenticate")}
	if r.IsJSON() {
		var f struct {
			Code  any `json:"code"`
			Error any `json:"error"`
		}
		if b := bytes.TrimSpace(r.Body); len(b) > 0 && b[0] == '{' {
			_ = json.Unmarshal(b, &f)
			texts = append(texts, fmt.Sprint(f.Code), fmt.Sprint(f.Error))
		}
	}
	for _, t := range texts {
		if strings.Contains(strings.ToLower(t), "expired") {
			return true
		}
	}
	return false
}

// headerInt reads a header holding a non-negative int (digits only); -1
// when it is absent or holds anything else.
func headerInt(h http.Header, name string) int {
	n, err := strconv.ParseUint(strings.TrimSpace(h.Get(name)), 10, strconv.IntSize-1)
	if err != nil {
		return -1
	}
	return int(n)
}

func (c *Client) transportError(ctx, actx context.Context, p *prepared, err error) outcome {
	if ctx.Err() != nil {
		return outcome{err: fmt.Errorf("apiclient: %s %s: %w", p.method, p.endpoint, context.Cause(ctx))}
	}
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		c.debug(ctx, "apiclient: timeout", slog.String("method", p.method), slog.String("endpoint", p.endpoint), slog.Duration("timeout", p.timeout))
		return outcome{err: &TimeoutError{Method: p.method, Endpoint: p.endpoint, Timeout: p.timeout, Err: context.DeadlineExceeded}}
	}
	// url.Error repeats the URL, whose query may hold secrets: keep the cause.
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	c.debug(ctx, "apiclient: network error", slog.String("method", p.method), slog.String("endpoint", p.endpoint), slog.String("error", err.Error()))
	return outcome{err: &NetworkError{Method: p.method, Endpoint: p.endpoint, Err: err}}
}
