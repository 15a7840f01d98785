package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/apilayer/apilayer/ratelimit"
)

func ExampleLimiter() {
	now := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)
	l, err := ratelimit.New(ratelimit.Options{
		Window:      time.Minute,
		MaxRequests: 100,
		Rules:       []ratelimit.Rule{{Path: "/api/auth/login", MaxRequests: 2, Window: time.Minute}},
		SkipRoutes:  []string{"/assets/**"},
		Now:         func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := l.Check(r.Context(), r, r.URL.Path, "ip:192.0.2.7")
		if !d.Allowed {
			d.Deny(w) // 429 with Retry-After and the JSON body
			return
		}
		d.SetHeaders(w.Header())
		w.WriteHeader(http.StatusNoContent)
	})

	for _, path := range []string{"/api/auth/login", "/api/auth/login", "/api/auth/login", "/assets/app.js"} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("POST", path, nil))
		h := rec.Header()
		fmt.Printf("%s %d remaining=%q retry-after=%q\n", path, rec.Code, h.Get("X-RateLimit-Remaining"), h.Get("Retry-After"))
	}
	// Output:
	// /api/auth/login 204 remaining="1" retry-after=""
	// /api/auth/login 204 remaining="0" retry-after=""
	// /api/auth/login 429 remaining="0" retry-after="30"
	// /assets/app.js 204 remaining="" retry-after=""
}

func ExampleMemoryStore() {
	now := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)
	s := ratelimit.NewMemoryStore(ratelimit.MemoryOptions{MaxKeys: 10_000, Now: func() time.Time { return now }})
	defer s.Close()

	limit := ratelimit.Limit{Burst: 3, Period: 3 * time.Second} // one more every second
	for range 4 {
		res, _ := s.Allow(context.Background(), "ip:192.0.2.7", limit)
		fmt.Printf("allowed=%v remaining=%d retryAfter=%v resetAfter=%v\n", res.Allowed, res.Remaining, res.RetryAfter, res.ResetAfter)
	}
	// Output:
	// allowed=true remaining=2 retryAfter=0s resetAfter=1s
	// allowed=true remaining=1 retryAfter=0s resetAfter=2s
	// allowed=true remaining=0 retryAfter=0s resetAfter=3s
	// allowed=false remaining=0 retryAfter=1s resetAfter=3s
}

func ExampleClientKey() {
	for _, ip := range []string{"192.0.2.7", "::ffff:192.0.2.7", "2001:db8:1:2::100", "2001:db8:1:2::105"} {
		fmt.Println(ratelimit.ClientKey(netip.MustParseAddr(ip), ratelimit.DefaultIPv6PrefixLength))
	}
	// Output:
	// ip:192.0.2.7
	// ip:192.0.2.7
	// ip:2001:db8:1:2::/64
	// ip:2001:db8:1:2::/64
}
