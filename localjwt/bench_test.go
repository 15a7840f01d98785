package localjwt_test

import (
	"context"
	"testing"

	"github.com/apilayer/apilayer/localjwt"
	"github.com/lestrrat-go/jwx/v3/jwa"
)

func benchmarkVerify(b *testing.B, o localjwt.Options, token string) {
	o.Now, o.RequireExp = fixed(epoch), true
	v := newVerifier(b, o)
	ctx := context.Background()
	if _, err := v.Verify(ctx, token); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyHS256(b *testing.B) {
	benchmarkVerify(b, localjwt.Options{Secret: secret, Algorithms: []string{"HS256"}},
		sign(b, jwa.HS256(), secret, claims(nil), nil))
}

func BenchmarkVerifyEdDSA(b *testing.B) {
	k := newEd25519(b)
	benchmarkVerify(b, localjwt.Options{PublicKeyPEM: pemOf(b, k.Public()), Algorithms: []string{"EdDSA"}},
		sign(b, jwa.EdDSA(), k, claims(nil), nil))
}
