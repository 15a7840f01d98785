package localjwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/localjwt"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var secret = []byte("0123456789abcdef0123456789abcdef")

// claims returns a claim set for sub valid around epoch, with extra merged in
// (a nil value deletes the claim).
func claims(extra map[string]any) map[string]any {
	c := map[string]any{
		"sub":   "42",
		"name":  "Alice",
		"email": "alice@example.com",
		"roles": []string{"user"},
		"iat":   epoch.Add(-time.Minute).Unix(),
		"exp":   epoch.Add(time.Hour).Unix(),
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// sign returns a compact JWS of c signed with alg and key; hdr adds
// protected header fields (kid...).
func sign(t testing.TB, alg jwa.SignatureAlgorithm, key any, c map[string]any, hdr map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	h.Set("typ", "JWT")
	for k, v := range hdr {
		if err := h.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

// forge builds a compact JWS by hand: header and claims as given, and a
// signature made by sig over the signing input (nil: empty signature).
func forge(t testing.TB, hdr, c map[string]any, sig func(input []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	var s []byte
	if sig != nil {
		s = sig([]byte(input))
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(s)
}

// hs256 signs with HMAC-SHA256 and key.
func hs256(key []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(in)
		return m.Sum(nil)
	}
}

// pemOf encodes a public key as a PEM PUBLIC KEY block.
func pemOf(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func newECDSA(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEd25519(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newVerifier calls New and closes the verifier at cleanup.
func newVerifier(t testing.TB, o localjwt.Options) *localjwt.Verifier {
	t.Helper()
	v, err := localjwt.New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// fixed returns a clock that always reads at.
func fixed(at time.Time) func() time.Time { return func() time.Time { return at } }

// wantInvalid fails unless err says "invalid" (and not "unavailable").
func wantInvalid(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, authn.ErrInvalid) || errors.Is(err, authn.ErrUnavailable) {
		t.Errorf("err = %v, want authn.ErrInvalid only", err)
	}
}

// wantUnavailable fails unless err says "unavailable" (and not "invalid").
func wantUnavailable(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, authn.ErrUnavailable) || errors.Is(err, authn.ErrInvalid) {
		t.Errorf("err = %v, want authn.ErrUnavailable only", err)
	}
}
