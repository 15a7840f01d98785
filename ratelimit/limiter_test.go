package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/ratelimit"
	"github.com/apilayer/apilayer/ratelimit/storetest"
)

var t0 = time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)

func newLimiter(t *testing.T, opts ratelimit.Options) (*ratelimit.Limiter, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(t0)
	opts.Now = clock.Now
	l, err := ratelimit.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, clock
}

// check runs Check for a request to path with the given method and headers.
func check(t *testing.T, l *ratelimit.Limiter, method, path, key string, hdr ...string) ratelimit.Decision {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return l.Check(t.Context(), r, path, key)
}

type want struct {
	allowed    bool
	limit      int
	remaining  int
	retryAfter time.Duration
}

func expect(t *testing.T, what string, d ratelimit.Decision, w want) {
	t.Helper()
	if d.Skipped || d.Allowed != w.allowed || d.Limit != w.limit || d.Remaining != w.remaining || d.RetryAfter != w.retryAfter || d.Err != nil {
		t.Fatalf("%s: got %+v, want %+v", what, d, w)
	}
}

func TestLimiterCountsOnce(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Options{MaxRequests: 3, Window: time.Minute})
	for i, w := range []want{
		{true, 3, 2, 0},
		{true, 3, 1, 0},
		{true, 3, 0, 0},
		{false, 3, 0, 20 * time.Second},
	} {
		d := check(t, l, "GET", "/page", "ip:192.0.2.1")
		expect(t, "request "+string(rune('1'+i)), d, w)
	}
	expect(t, "other key", check(t, l, "GET", "/page", "ip:192.0.2.2"), want{true, 3, 2, 0})
	expect(t, "user key", check(t, l, "GET", "/page", "user:192.0.2.1"), want{true, 3, 2, 0})
}

func TestLimiterResetInstant(t *testing.T) {
	l, clock := newLimiter(t, ratelimit.Options{MaxRequests: 4, Window: time.Minute})
	clock.Advance(500 * time.Millisecond)
	d := check(t, l, "GET", "/", "k")
	if want := t0.Add(500*time.Millisecond + 15*time.Second); !d.Reset.Equal(want) {
		t.Errorf("Reset = %v, want %v (full again one refill later)", d.Reset, want)
	}
}

func TestLimiterRules(t *testing.T) {
	const login = "/api/auth/login"
	t.Run("rule tighter than the global limit", func(t *testing.T) {
		l, _ := newLimiter(t, ratelimit.Options{
			MaxRequests: 10, Window: time.Minute,
			Rules: []ratelimit.Rule{{Path: login, MaxRequests: 3, Window: time.Minute}},
		})
		expect(t, "login 1", check(t, l, "POST", login, "ip:a"), want{true, 3, 2, 0})
		expect(t, "login 2", check(t, l, "POST", login, "ip:a"), want{true, 3, 1, 0})
		expect(t, "login 3", check(t, l, "POST", login, "ip:a"), want{true, 3, 0, 0})
		expect(t, "login 4", check(t, l, "POST", login, "ip:a"), want{false, 3, 0, 20 * time.Second})
		// The four login requests were allowed by the global limit and
		// counted there once each.
		expect(t, "other path", check(t, l, "GET", "/dashboard", "ip:a"), want{true, 10, 5, 0})
		expect(t, "login, other client", check(t, l, "POST", login, "ip:b"), want{true, 3, 2, 0})
	})

	t.Run("global tighter than the rule", func(t *testing.T) {
		l, _ := newLimiter(t, ratelimit.Options{
			MaxRequests: 2, Window: time.Minute,
			Rules: []ratelimit.Rule{{Path: login, MaxRequests: 5, Window: time.Minute}},
		})
		expect(t, "login 1", check(t, l, "POST", login, "k"), want{true, 2, 1, 0})
		expect(t, "login 2", check(t, l, "POST", login, "k"), want{true, 2, 0, 0})
		expect(t, "login 3", check(t, l, "POST", login, "k"), want{false, 2, 0, 30 * time.Second})
	})

	t.Run("both must allow; a globally blocked request spends no rule budget", func(t *testing.T) {
		l, clock := newLimiter(t, ratelimit.Options{
			MaxRequests: 2, Window: time.Minute,
			Rules: []ratelimit.Rule{{Path: "/api/auth/**", MaxRequests: 3, Window: time.Hour}},
		})
		expect(t, "1", check(t, l, "POST", login, "k"), want{true, 2, 1, 0})
		expect(t, "2", check(t, l, "POST", login, "k"), want{true, 2, 0, 0})
		expect(t, "3", check(t, l, "POST", login, "k"), want{false, 2, 0, 30 * time.Second})
		clock.Advance(30 * time.Second)
		// The rule has one request left: request 3 did not spend it.
		// Remaining ties at 0; the rule's bucket takes longer to refill.
		expect(t, "4", check(t, l, "POST", "/api/auth/register", "k"), want{true, 3, 0, 0})
		clock.Advance(30 * time.Second)
		expect(t, "5", check(t, l, "POST", login, "k"), want{false, 3, 0, 20*time.Minute - 60*time.Second})
	})

	t.Run("zero rule window means the global window", func(t *testing.T) {
		l, _ := newLimiter(t, ratelimit.Options{
			MaxRequests: 100, Window: 10 * time.Second,
			Rules: []ratelimit.Rule{{Path: "/x/*", MaxRequests: 1}},
		})
		check(t, l, "GET", "/x/1", "k")
		expect(t, "blocked", check(t, l, "GET", "/x/2", "k"), want{false, 1, 0, 10 * time.Second})
	})
}

func TestLimiterSkipRoutes(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Options{
		MaxRequests: 50,
		SkipRoutes:  []string{"/x/**", "/static/*", "/health"},
	})
	for _, tc := range []struct {
		path    string
		skipped bool
	}{
		{"/x", true}, // next-api-layer's bug: "/x/**" never matched "/x"
		{"/x/", true},
		{"/x/a", true},
		{"/x/a/b", true},
		{"/xy", false},
		{"/y/x", false},
		{"/static/app.js", true},
		{"/static", false},
		{"/static/a/b", false},
		{"/health", true},
		{"/health/", true},
		{"/healthz", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			key := "k" + tc.path
			d := check(t, l, "GET", tc.path, key)
			if d.Skipped != tc.skipped || !d.Allowed {
				t.Fatalf("Check(%q) = %+v, want skipped %v and allowed", tc.path, d, tc.skipped)
			}
			next := check(t, l, "GET", "/counted", key)
			wantRemaining := 49
			if !tc.skipped {
				wantRemaining = 48
			}
			if next.Remaining != wantRemaining {
				t.Errorf("Remaining after %q = %d, want %d", tc.path, next.Remaining, wantRemaining)
			}
		})
	}
}

// With CaseInsensitive (access.caseInsensitive), rules and skipRoutes match
// the path in any letter case; without it, exactly.
func TestLimiterCaseInsensitive(t *testing.T) {
	for _, fold := range []bool{true, false} {
		l, _ := newLimiter(t, ratelimit.Options{
			MaxRequests: 50, Window: time.Minute, CaseInsensitive: fold,
			Rules:      []ratelimit.Rule{{Path: "/api/auth/login", MaxRequests: 2}},
			SkipRoutes: []string{"/static/**"},
		})
		d := check(t, l, "GET", "/Static/app.js", "k")
		if d.Skipped != fold {
			t.Errorf("caseInsensitive %v: /Static/app.js skipped = %v", fold, d.Skipped)
		}
		check(t, l, "POST", "/api/auth/LOGIN", "k")
		check(t, l, "POST", "/api/auth/Login", "k")
		d = check(t, l, "POST", "/API/auth/login", "k")
		if d.Allowed == fold {
			t.Errorf("caseInsensitive %v: third login in other cases allowed = %v (%+v)", fold, d.Allowed, d)
		}
	}
}

func TestLimiterPathFromRequest(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Options{SkipRoutes: []string{"/x/**"}})
	r := httptest.NewRequest("GET", "/%78/./a//b", nil) // cleans to /x/a/b
	if d := l.Check(t.Context(), r, "", "k"); !d.Skipped {
		t.Errorf("Check with an empty path = %+v, want skipped on the cleaned URL path", d)
	}
}

func TestIsPrefetch(t *testing.T) {
	for _, tc := range []struct {
		name, method, header, value string
		want                        bool
	}{
		{"next router", "GET", "Next-Router-Prefetch", "1", true},
		{"next router other value", "GET", "Next-Router-Prefetch", "0", false},
		{"sec-purpose", "GET", "Sec-Purpose", "prefetch", true},
		{"sec-purpose prerender", "HEAD", "Sec-Purpose", "prefetch;prerender", true},
		{"purpose", "GET", "Purpose", "prefetch", true},
		{"purpose is case-sensitive", "GET", "Purpose", "Prefetch", false},
		{"x-purpose", "GET", "X-Purpose", "prefetch", true},
		{"x-moz", "GET", "X-Moz", "prefetch", true},
		{"no header", "GET", "Accept", "text/html", false},
		{"POST is never a prefetch", "POST", "Next-Router-Prefetch", "1", false},
		{"DELETE is never a prefetch", "DELETE", "Sec-Purpose", "prefetch", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/", nil)
			r.Header.Set(tc.header, tc.value)
			if got := ratelimit.IsPrefetch(r); got != tc.want {
				t.Errorf("IsPrefetch = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLimiterPrefetch(t *testing.T) {
	t.Run("skipPrefetch on", func(t *testing.T) {
		l, _ := newLimiter(t, ratelimit.Options{MaxRequests: 10, SkipPrefetch: true})
		for range 5 {
			if d := check(t, l, "GET", "/p", "k", "Next-Router-Prefetch", "1"); !d.Skipped {
				t.Fatalf("prefetch GET: %+v, want skipped", d)
			}
		}
		expect(t, "prefetch POST is counted", check(t, l, "POST", "/p", "k", "Next-Router-Prefetch", "1"), want{true, 10, 9, 0})
		expect(t, "plain GET", check(t, l, "GET", "/p", "k"), want{true, 10, 8, 0})
	})
	t.Run("skipPrefetch off", func(t *testing.T) {
		l, _ := newLimiter(t, ratelimit.Options{MaxRequests: 10})
		expect(t, "prefetch GET is counted", check(t, l, "GET", "/p", "k", "Sec-Purpose", "prefetch"), want{true, 10, 9, 0})
	})
}

func TestDecisionSetHeaders(t *testing.T) {
	reset := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name string
		d    ratelimit.Decision
		want map[string]string // "" = absent
	}{
		{"allowed", ratelimit.Decision{Allowed: true, Limit: 100, Remaining: 42, Reset: reset},
			map[string]string{"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "42", "X-RateLimit-Reset": "1800000000", "Retry-After": ""}},
		{"reset rounded up", ratelimit.Decision{Allowed: true, Limit: 5, Remaining: 0, Reset: reset.Add(time.Millisecond)},
			map[string]string{"X-RateLimit-Reset": "1800000001", "Retry-After": ""}},
		{"blocked", ratelimit.Decision{Limit: 5, Reset: reset, RetryAfter: 12 * time.Second},
			map[string]string{"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "Retry-After": "12"}},
		{"retry-after rounded up", ratelimit.Decision{Limit: 5, Reset: reset, RetryAfter: 1500 * time.Millisecond},
			map[string]string{"Retry-After": "2"}},
		{"retry-after at least one", ratelimit.Decision{Limit: 5, Reset: reset, RetryAfter: time.Nanosecond},
			map[string]string{"Retry-After": "1"}},
		{"skipped writes nothing", ratelimit.Decision{Skipped: true, Allowed: true},
			map[string]string{"X-RateLimit-Limit": "", "X-RateLimit-Remaining": "", "X-RateLimit-Reset": "", "Retry-After": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			tc.d.SetHeaders(h)
			for k, v := range tc.want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestDecisionDeny(t *testing.T) {
	d := ratelimit.Decision{Limit: 5, Reset: time.Unix(1_800_000_000, 0), RetryAfter: 2500 * time.Millisecond}
	rec := httptest.NewRecorder()
	d.Deny(rec)
	if rec.Code != http.StatusTooManyRequests {
		t.Errorf("status = %d, want 429", rec.Code)
	}
	if got, want := strings.TrimSpace(rec.Body.String()), `{"success":false,"message":"Too many requests. Please try again later.","retryAfter":3}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	for k, v := range map[string]string{"Retry-After": "3", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1800000000"} {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
}

// middleware is the way the gateway uses a Limiter: decide, then respond.
func middleware(l *ratelimit.Limiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := l.Check(r.Context(), r, r.URL.Path, "ip:"+r.Header.Get("X-Test-Client"))
		if !d.Allowed {
			d.Deny(w)
			return
		}
		d.SetHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

func TestLimiterOverHTTP(t *testing.T) {
	l, _ := newLimiter(t, ratelimit.Options{MaxRequests: 2, Window: time.Minute, SkipRoutes: []string{"/health"}})
	var calls int
	srv := httptest.NewServer(middleware(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		io.WriteString(w, "ok")
	})))
	defer srv.Close()

	get := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+path, nil)
		req.Header.Set("X-Test-Client", "a")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	for i, tc := range []struct {
		path, status, remaining, retryAfter string
	}{
		{"/a", "200 OK", "1", ""},
		{"/health", "200 OK", "", ""},
		{"/b", "200 OK", "0", ""},
		{"/c", "429 Too Many Requests", "0", "30"},
	} {
		res := get(tc.path)
		if res.Status != tc.status || res.Header.Get("X-RateLimit-Remaining") != tc.remaining || res.Header.Get("Retry-After") != tc.retryAfter {
			t.Errorf("request %d %s: %s remaining %q retry-after %q, want %s %q %q", i, tc.path,
				res.Status, res.Header.Get("X-RateLimit-Remaining"), res.Header.Get("Retry-After"), tc.status, tc.remaining, tc.retryAfter)
		}
		if tc.remaining != "" && res.Header.Get("X-RateLimit-Limit") != "2" {
			t.Errorf("request %d: X-RateLimit-Limit = %q, want 2", i, res.Header.Get("X-RateLimit-Limit"))
		}
	}
	if calls != 3 {
		t.Errorf("handler called %d times, want 3 (a blocked request goes no further)", calls)
	}
}

// failingStore fails every call, as a Redis store does while Redis is down.
type failingStore struct{ calls int }

var errDown = errors.New("connection refused")

func (s *failingStore) Allow(context.Context, string, ratelimit.Limit) (ratelimit.Result, error) {
	s.calls++
	return ratelimit.Result{}, errDown
}

func TestLimiterStoreFailureFallsBack(t *testing.T) {
	store := &failingStore{}
	l, _ := newLimiter(t, ratelimit.Options{MaxRequests: 2, Window: time.Minute, Store: store,
		Logger: slogDiscard()})
	for i, allowed := range []bool{true, true, false} {
		d := check(t, l, "GET", "/", "k")
		if d.Allowed != allowed || !errors.Is(d.Err, errDown) {
			t.Errorf("request %d: %+v, want allowed %v with the store error", i, d, allowed)
		}
	}
	if store.calls != 3 {
		t.Errorf("store called %d times, want 3 (it is tried on every call)", store.calls)
	}
}

// Without Options.Logger, the store-failure warning is discarded like
// every other component's log, not written to the process's default
// logger; the gateway passes its own.
func TestLimiterLoggerOption(t *testing.T) {
	for _, tt := range []struct {
		name  string
		given bool // Options.Logger set
	}{
		{name: "nil discards"},
		{name: "given receives", given: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defaults := testkit.DefaultLog(t)
			var given strings.Builder
			o := ratelimit.Options{Store: &failingStore{}}
			if tt.given {
				o.Logger = slog.New(slog.NewTextHandler(&given, nil))
			}
			l, _ := newLimiter(t, o)
			check(t, l, "GET", "/", "k")
			if got := defaults(); len(got) != 0 {
				t.Errorf("default logger got %q", got)
			}
			if logged := strings.Contains(given.String(), "ratelimit: store failed"); logged != tt.given {
				t.Errorf("given logger has the warning: %v, want %v", logged, tt.given)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	_, err := ratelimit.New(ratelimit.Options{
		MaxRequests: -1,
		SkipRoutes:  []string{"/a**"},
		Rules: []ratelimit.Rule{
			{Path: "", MaxRequests: 1},
			{Path: "relative/*", MaxRequests: 1},
			{Path: "/ok", MaxRequests: 0},
		},
	})
	if err == nil {
		t.Fatal("New accepted invalid options")
	}
	for _, want := range []string{"maxRequests -1", "skipRoutes", "rules[0].path", "rules[1].path: must start with /", "rules[2]: maxRequests 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestDenyBodyIsJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	ratelimit.Decision{Limit: 1, RetryAfter: time.Minute}.Deny(rec)
	var body struct {
		Success    *bool
		Message    string
		RetryAfter int
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Success == nil || *body.Success || body.RetryAfter != 60 {
		t.Errorf("body = %s", rec.Body)
	}
}
