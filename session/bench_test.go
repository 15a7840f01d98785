package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
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

// mapVerifier is a local verifier that does no crypto: the hot path of
// local mode without the cost of a signature check.
type mapVerifier map[string]Identity

func (v mapVerifier) Verify(_ context.Context, token string) (Identity, error) {
	id, ok := v[token]
	if !ok {
		return Identity{}, backend.ErrInvalid
	}
	return id, nil
}

// BenchmarkAuthenticateLocal measures local mode's steady state: a local
// verification and, with revalidation, one lookup of the confirmation.
func BenchmarkAuthenticateLocal(b *testing.B) {
	for _, interval := range []time.Duration{0, time.Hour} {
		b.Run(fmt.Sprint("revalidate=", interval), func(b *testing.B) {
			c := newClock()
			v := mapVerifier{"L": {Type: "user", User: map[string]any{"sub": "1"}, Exp: c.Now().Add(2 * time.Hour)}}
			f := newFake(b, c)
			f.add("L", "user", c.Now().Add(2*time.Hour))
			o := defaults()
			o.Backend, o.Now, o.Local, o.RevalidateInterval = f.client(b, time.Second), c.Now, v, interval
			m, err := New(o)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			ctx := context.Background()
			in := Input{User: "L", ClientID: "ua|ip"}
			if o := m.Authenticate(ctx, in); o.State != StateUser {
				b.Fatalf("warm-up: %+v", o)
			}
			b.ReportAllocs()
			for b.Loop() {
				if o := m.Authenticate(ctx, in); o.State != StateUser {
					b.Fatal(o.State)
				}
			}
			if n := f.validates.Load(); n > 1 {
				b.Fatalf("%d validate calls, want at most the first confirmation", n)
			}
		})
	}
}
