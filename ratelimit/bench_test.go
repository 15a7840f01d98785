package ratelimit_test

import (
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apilayer/apilayer/ratelimit"
)

func BenchmarkLimiterCheck(b *testing.B) {
	l, err := ratelimit.New(ratelimit.Options{
		Window: time.Minute, MaxRequests: 1 << 30,
		Rules:      []ratelimit.Rule{{Path: "/api/auth/login", MaxRequests: 5}},
		SkipRoutes: []string{"/assets/**", "/health"},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/dashboard/settings", nil)
		key := "ip:192.0.2." + strconv.FormatInt(next.Add(1), 10)
		for pb.Next() {
			if d := l.Check(r.Context(), r, "/dashboard/settings", key); !d.Allowed {
				b.Fatal("blocked")
			}
		}
	})
}
