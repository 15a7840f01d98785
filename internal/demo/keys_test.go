package demo_test

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// fetchJWKS gets .well-known/jwks.json from kit.
func fetchJWKS(t *testing.T, kit *testkit.Backend) (int, []byte) {
	t.Helper()
	res, err := kit.Client().Get(kit.URL() + ".well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// kidOf returns the kid of a token's header.
func kidOf(t *testing.T, tok string) string {
	t.Helper()
	m, err := jws.ParseString(tok)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := m.Signatures()[0].ProtectedHeaders().KeyID()
	return kid
}

func TestSigning(t *testing.T) {
	tests := []struct {
		signing string
		alg     string
		pubType any
	}{
		{"", "HS256", nil},
		{"HS256", "HS256", nil},
		{"EdDSA", "EdDSA", ed25519.PublicKey{}},
		{"RS256", "RS256", &rsa.PublicKey{}},
	}
	for _, tt := range tests {
		t.Run("signing="+tt.signing, func(t *testing.T) {
			clock := testkit.NewClock(epoch)
			kit := testkit.NewBackend(t, demo.BackendOptions{Signing: tt.signing, Now: clock.Now})
			d := kit.Demo()
			if d.Signing() != tt.alg {
				t.Errorf("Signing() = %q, want %q", d.Signing(), tt.alg)
			}
			f := &fixture{t: t, clock: clock, kit: kit}
			access, _ := f.login("alice", "alice-password")
			expect(t, f.call("GET", "auth/me", access, nil), 200, "", "")
			m, err := jws.ParseString(access)
			if err != nil {
				t.Fatal(err)
			}
			if alg, _ := m.Signatures()[0].ProtectedHeaders().Algorithm(); alg.String() != tt.alg {
				t.Errorf("token alg = %v, want %s", alg, tt.alg)
			}
			status, body := fetchJWKS(t, kit)
			if tt.pubType == nil {
				if status != http.StatusNotFound || d.JWKS() != nil || d.PublicKeyPEM() != nil || d.Key() == nil {
					t.Errorf("HS256: jwks status %d, JWKS %q, PEM %q, Key nil %v", status, d.JWKS(), d.PublicKeyPEM(), d.Key() == nil)
				}
				return
			}
			if status != http.StatusOK || d.Key() != nil {
				t.Fatalf("jwks status %d, Key() = %x", status, d.Key())
			}
			set, err := jwk.Parse(body)
			if err != nil || set.Len() != 1 {
				t.Fatalf("JWKS %s: %v", body, err)
			}
			k, _ := set.Key(0)
			kid, _ := k.KeyID()
			alg, _ := k.Algorithm()
			if kid == "" || kid != kidOf(t, access) || alg.String() != tt.alg {
				t.Errorf("JWKS key kid %q alg %v, token kid %q", kid, alg, kidOf(t, access))
			}
			if isPriv, _ := jwk.IsPrivateKey(k); isPriv {
				t.Error("JWKS publishes a private key")
			}
			if _, err := jwt.ParseString(access, jwt.WithKeySet(set), jwt.WithValidate(false)); err != nil {
				t.Errorf("token does not verify with the JWKS: %v", err)
			}
			block, _ := pem.Decode(d.PublicKeyPEM())
			if block == nil || block.Type != "PUBLIC KEY" {
				t.Fatalf("PublicKeyPEM = %q", d.PublicKeyPEM())
			}
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%T", pub) != fmt.Sprintf("%T", tt.pubType) {
				t.Errorf("PublicKeyPEM holds a %T, want %T", pub, tt.pubType)
			}
			sa, _ := jwa.LookupSignatureAlgorithm(tt.alg)
			if _, err := jwt.ParseString(access, jwt.WithKey(sa, pub), jwt.WithValidate(false)); err != nil {
				t.Errorf("token does not verify with PublicKeyPEM: %v", err)
			}
		})
	}
}

// TestRotateKey checks that a rotation signs new tokens with a new kid
// while tokens of the previous key keep working and its key stays in the
// JWKS, until the next rotation.
func TestRotateKey(t *testing.T) {
	for _, signing := range []string{"HS256", "EdDSA", "RS256"} {
		t.Run(signing, func(t *testing.T) {
			clock := testkit.NewClock(epoch)
			kit := testkit.NewBackend(t, demo.BackendOptions{Signing: signing, Now: clock.Now})
			f := &fixture{t: t, clock: clock, kit: kit}
			d := kit.Demo()
			first, _ := f.login("alice", "alice-password")
			if err := d.RotateKey(); err != nil {
				t.Fatal(err)
			}
			second, _ := f.login("alice", "alice-password")
			if kidOf(t, first) == kidOf(t, second) {
				t.Fatalf("kid %q unchanged by RotateKey", kidOf(t, first))
			}
			expect(t, f.call("GET", "auth/me", first, nil), 200, "", "")
			expect(t, f.call("GET", "auth/me", second, nil), 200, "", "")
			if signing != "HS256" {
				_, body := fetchJWKS(t, kit)
				set, err := jwk.Parse(body)
				if err != nil || set.Len() != 2 {
					t.Fatalf("JWKS after one rotation: %s (%v)", body, err)
				}
				for _, tok := range []string{first, second} {
					if _, ok := set.LookupKeyID(kidOf(t, tok)); !ok {
						t.Errorf("JWKS lacks kid %q", kidOf(t, tok))
					}
				}
			}
			if err := d.RotateKey(); err != nil {
				t.Fatal(err)
			}
			expect(t, f.call("GET", "auth/me", first, nil), 401, "", "")
			expect(t, f.call("GET", "auth/me", second, nil), 200, "", "")
		})
	}
}

func TestUnsupportedSigningPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewBackend(Signing: none) did not panic")
		}
	}()
	demo.NewBackend(demo.BackendOptions{Signing: "none"})
}
