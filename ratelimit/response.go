package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apilayer/apilayer/respond"
)

// SetHeaders writes X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset (epoch seconds, rounded up) for a counted request, and
// Retry-After (seconds, rounded up, at least 1) when it is blocked. A
// skipped decision writes nothing.
func (d Decision) SetHeaders(h http.Header) {
	if d.Skipped {
		return
	}
	// The names in net/http's canonical form, set directly: Header.Set
	// would allocate a canonical copy of "X-RateLimit-Limit" every time.
	h[headerLimit] = []string{strconv.Itoa(d.Limit)}
	h[headerRemaining] = []string{strconv.Itoa(d.Remaining)}
	h[headerReset] = []string{strconv.FormatInt(ceilUnix(d.Reset), 10)}
	if !d.Allowed {
		h["Retry-After"] = []string{strconv.FormatInt(d.retryAfterSeconds(), 10)}
	}
}

// X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset as
// http.CanonicalHeaderKey spells them (header names are case-insensitive).
const (
	headerLimit     = "X-Ratelimit-Limit"
	headerRemaining = "X-Ratelimit-Remaining"
	headerReset     = "X-Ratelimit-Reset"
)

// Deny answers a blocked request: the headers of SetHeaders, status 429 and
// {"success":false,"message":"Too many requests. Please try again later.","retryAfter":N}
// where N is the Retry-After value.
func (d Decision) Deny(w http.ResponseWriter) {
	d.SetHeaders(w.Header())
	respond.JSON(w, http.StatusTooManyRequests, denyBody{
		Message:    respond.MsgTooManyRequests,
		RetryAfter: d.retryAfterSeconds(),
	})
}

type denyBody struct {
	Success    bool   `json:"success"`
	Message    string `json:"message"`
	RetryAfter int64  `json:"retryAfter"`
}

func (d Decision) retryAfterSeconds() int64 {
	s := int64((d.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// IsPrefetch reports whether r is a GET or HEAD prefetch
// (rateLimit.skipPrefetch):
// Next-Router-Prefetch is "1", Sec-Purpose contains "prefetch", or Purpose,
// X-Purpose or X-Moz is "prefetch" (values are case-sensitive). Other
// methods are never prefetches: these headers are client-controlled, and a
// POST carrying one must still be counted.
func IsPrefetch(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	h := r.Header
	return h.Get("Next-Router-Prefetch") == "1" ||
		strings.Contains(h.Get("Sec-Purpose"), "prefetch") ||
		h.Get("Purpose") == "prefetch" ||
		h.Get("X-Purpose") == "prefetch" ||
		h.Get("X-Moz") == "prefetch"
}
