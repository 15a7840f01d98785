package session

import (
	"context"
	"testing"
	"time"
)

// BenchmarkAuthenticateCacheHit measures a request whose token validation
// is served from the cache.
func BenchmarkAuthenticateCacheHit(b *testing.B) {
	e := setup(b, 0, func(o *Options) { o.CacheTTL = time.Hour })
	e.f.add("U", "user", e.clock.Now().Add(2*time.Hour))
	ctx := context.Background()
	in := Input{User: "U"}
	if o := e.m.Authenticate(ctx, in); o.State != StateUser {
		b.Fatalf("warm-up: %+v", o)
	}
	b.ReportAllocs()
	for b.Loop() {
		if o := e.m.Authenticate(ctx, in); o.State != StateUser {
			b.Fatal(o.State)
		}
	}
	if n := e.f.validates.Load(); n != 1 {
		b.Fatalf("%d validate calls, want 1", n)
	}
}

func BenchmarkAuthenticateCacheHitParallel(b *testing.B) {
	e := setup(b, 0, func(o *Options) { o.CacheTTL = time.Hour })
	e.f.add("U", "user", e.clock.Now().Add(2*time.Hour))
	ctx := context.Background()
	e.m.Authenticate(ctx, Input{User: "U"})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.m.Authenticate(ctx, Input{User: "U"})
		}
	})
}
