package assertion_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/apilayer/apilayer/assertion"
)

// benchUser is a typical X-Auth-User object (about 200 bytes).
var benchUser = json.RawMessage(`{"id":1842,"name":"Alice Martin","email":"alice.martin@example.com","roles":["user","editor"],"type":"user","avatar":"https://cdn.example.com/a/1842.png","plan":"pro"}`)

// BenchmarkSign measures what signing adds to a forwarded request: "hit"
// is the steady state (the identity's token is reused: a hash, a map
// lookup, a comparison), "fresh" a new signature for each request (the
// clock moves past the reuse window every time), per algorithm.
func BenchmarkSign(b *testing.B) {
	id := assertion.Identity{User: benchUser, Type: "user", Locale: "en"}
	for _, alg := range assertion.Algorithms() {
		b.Run("hit/"+alg, func(b *testing.B) {
			s, err := assertion.NewSigner(assertion.SignerOptions{Algorithm: alg, KeyPEM: privatePEM(b, key(alg, 0)), Audience: audience})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Sign(id); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(id); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("fresh/"+alg, func(b *testing.B) {
			var n time.Duration
			now := func() time.Time { n++; return epoch.Add(n * time.Minute) }
			s, err := assertion.NewSigner(assertion.SignerOptions{Algorithm: alg, KeyPEM: privatePEM(b, key(alg, 0)), Audience: audience, Now: now})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignHitParallel is the steady state with every core signing
// for the same few identities (the read lock is shared).
func BenchmarkSignHitParallel(b *testing.B) {
	s, err := assertion.NewSigner(assertion.SignerOptions{KeyPEM: privatePEM(b, key(assertion.EdDSA, 0)), Audience: audience})
	if err != nil {
		b.Fatal(err)
	}
	id := assertion.Identity{User: benchUser, Type: "user", Locale: "en"}
	s.Sign(id)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Sign(id); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSignAndSetHeader is the whole steady-state cost the pipeline
// adds: Sign and setting the header on the outgoing request.
func BenchmarkSignAndSetHeader(b *testing.B) {
	s, err := assertion.NewSigner(assertion.SignerOptions{KeyPEM: privatePEM(b, key(assertion.EdDSA, 0)), Audience: audience})
	if err != nil {
		b.Fatal(err)
	}
	id := assertion.Identity{User: benchUser, Type: "user", Locale: "en"}
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		tok, err := s.Sign(id)
		if err != nil {
			b.Fatal(err)
		}
		h[assertion.DefaultHeader] = []string{tok}
	}
}

// BenchmarkVerify is the web app's cost per request, per algorithm.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range assertion.Algorithms() {
		b.Run(alg, func(b *testing.B) {
			s, err := assertion.NewSigner(assertion.SignerOptions{Algorithm: alg, KeyPEM: privatePEM(b, key(alg, 0)), Audience: audience})
			if err != nil {
				b.Fatal(err)
			}
			tok, err := s.Sign(assertion.Identity{User: benchUser, Type: "user", Locale: "en"})
			if err != nil {
				b.Fatal(err)
			}
			v, err := assertion.NewVerifier(context.Background(), assertion.VerifierOptions{PublicKeyPEM: publicPEM(b, key(alg, 0)), Audience: audience})
			if err != nil {
				b.Fatal(err)
			}
			defer v.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
