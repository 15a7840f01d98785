package assertion_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/lestrrat-go/jwx/v3/jwa"
)

// forge builds a compact JWS by hand: the header and claims given, and
// the signature sig makes of the signing input.
func forge(t *testing.T, hdr, claims map[string]any, sig func(input []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(h) + "." + b64(c)
	return input + "." + b64(sig([]byte(input)))
}

// Everything an attacker or a mistake could send is refused as invalid.
func TestVerifyRefuses(t *testing.T) {
	clock := testkit.NewClock(epoch)
	edKey := key(assertion.EdDSA, 0)
	edPub := publicPEM(t, edKey)
	s := newSigner(t, assertion.EdDSA, 0, clock)
	kid := s.KeyID()
	good, err := s.Sign(assertion.Identity{User: alice, Type: "user"})
	if err != nil {
		t.Fatal(err)
	}
	hdr := map[string]any{"kid": kid}
	edSign := func(claims map[string]any) string { return sign(t, jwa.EdDSA(), edKey, hdr, claims) }
	hmacWith := func(secret []byte) func([]byte) []byte {
		return func(in []byte) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write(in)
			return m.Sum(nil)
		}
	}
	parts := strings.Split(good, ".")
	spki, _ := x509.MarshalPKIXPublicKey(edKey.Public())

	for _, tc := range []struct {
		name  string
		token string
	}{
		{"signed by another key", mustSign(t, newSigner(t, assertion.EdDSA, 1, clock))},
		{"alg none", forge(t, map[string]any{"alg": "none", "kid": kid}, goodClaims(nil), func([]byte) []byte { return nil })},
		{"alg none, signature kept", forge(t, map[string]any{"alg": "none", "kid": kid}, goodClaims(nil), func([]byte) []byte { return []byte(parts[2]) })},
		{"HS256 with the PEM public key as secret", forge(t, map[string]any{"alg": "HS256", "kid": kid}, goodClaims(nil), hmacWith(edPub))},
		{"HS256 with the raw public key as secret", forge(t, map[string]any{"alg": "HS256", "kid": kid}, goodClaims(nil), hmacWith(edKey.Public().(ed25519.PublicKey)))},
		{"HS256 with the SPKI bytes as secret", forge(t, map[string]any{"alg": "HS256", "kid": kid}, goodClaims(nil), hmacWith(spki))},
		{"header says ES256, signed with EdDSA", forge(t, map[string]any{"alg": "ES256", "kid": kid}, goodClaims(nil), func(in []byte) []byte { return ed25519.Sign(edKey.(ed25519.PrivateKey), in) })},
		{"tampered payload", parts[0] + "." + b64([]byte(`{"iss":"apilayer","aud":"http://app.test","iat":1796558400,"exp":1796558460,"sub":"1","typ":"admin"}`)) + "." + parts[2]},
		{"tampered signature", parts[0] + "." + parts[1] + "." + b64([]byte(strings.Repeat("x", 64)))},
		{"payload of another token", parts[0] + "." + strings.Split(edSign(goodClaims(map[string]any{"sub": "1"})), ".")[1] + "." + parts[2]},
		{"expired beyond the leeway", edSign(goodClaims(map[string]any{"exp": epoch.Add(-5 * time.Second).Unix()}))},
		{"issued in the future", edSign(goodClaims(map[string]any{"iat": epoch.Add(6 * time.Second).Unix()}))},
		{"not valid yet", edSign(goodClaims(map[string]any{"nbf": epoch.Add(6 * time.Second).Unix()}))},
		{"another issuer", edSign(goodClaims(map[string]any{"iss": "someone"}))},
		{"no issuer", edSign(goodClaims(map[string]any{"iss": nil}))},
		{"another audience", edSign(goodClaims(map[string]any{"aud": "http://other.test"}))},
		{"an audience list without ours", edSign(goodClaims(map[string]any{"aud": []string{"http://other.test"}}))},
		{"no audience", edSign(goodClaims(map[string]any{"aud": nil}))},
		{"no exp", edSign(goodClaims(map[string]any{"exp": nil}))},
		{"exp a string", edSign(goodClaims(map[string]any{"exp": "tomorrow"}))},
		{"no iat", edSign(goodClaims(map[string]any{"iat": nil}))},
		{"no typ", edSign(goodClaims(map[string]any{"typ": nil}))},
		{"empty typ", edSign(goodClaims(map[string]any{"typ": ""}))},
		{"user not an object", edSign(goodClaims(map[string]any{"user": "admin"}))},
		{"sub a number", edSign(goodClaims(map[string]any{"sub": 42}))},
		{"crit header", sign(t, jwa.EdDSA(), edKey, map[string]any{"kid": kid, "crit": []string{"exp"}}, goodClaims(nil))},
		{"not a JWS", "not-a-token"},
		{"four segments", good + ".x"},
		{"header not base64", "!!!." + parts[1] + "." + parts[2]},
		{"header not JSON", b64([]byte("alg")) + "." + parts[1] + "." + parts[2]},
		{"too long", good + strings.Repeat("A", 64<<10)},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := pemVerifier(t, clock, edPub)
			c, err := v.Verify(context.Background(), tc.token)
			if !errors.Is(err, assertion.ErrInvalid) {
				t.Fatalf("Verify = %+v, %v; want ErrInvalid", c, err)
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
	if _, err := pemVerifier(t, clock, edPub).Verify(context.Background(), good); err != nil {
		t.Fatalf("the good token: %v", err)
	}
}

// mustSign returns s's token for alice.
func mustSign(t *testing.T, s *assertion.Signer) string {
	t.Helper()
	tok, err := s.Sign(assertion.Identity{User: alice, Type: "user"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// p384SPKI is the SPKI DER of a new P-384 public key.
func p384SPKI(t *testing.T) []byte {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// The leeway: a token expired by less than it is accepted; aud is not
// checked without an Audience; a list aud that names ours is accepted.
func TestVerifyAccepts(t *testing.T) {
	clock := testkit.NewClock(epoch)
	edKey := key(assertion.EdDSA, 0)
	s := newSigner(t, assertion.EdDSA, 0, clock)
	hdr := map[string]any{"kid": s.KeyID()}
	for _, tc := range []struct {
		name     string
		claims   map[string]any
		audience string
		leeway   time.Duration
	}{
		{"expired within the default leeway", goodClaims(map[string]any{"exp": epoch.Add(-4 * time.Second).Unix()}), audience, 0},
		{"expired within a longer leeway", goodClaims(map[string]any{"exp": epoch.Add(-time.Minute).Unix()}), audience, 2 * time.Minute},
		{"iat slightly ahead", goodClaims(map[string]any{"iat": epoch.Add(4 * time.Second).Unix()}), audience, 0},
		{"aud not checked", goodClaims(map[string]any{"aud": "http://other.test"}), "", 0},
		{"no aud, not checked", goodClaims(map[string]any{"aud": nil}), "", 0},
		{"aud list naming ours", goodClaims(map[string]any{"aud": []string{"x", audience}}), audience, 0},
		{"fractional dates", goodClaims(map[string]any{"iat": float64(epoch.Unix()) + 0.5, "exp": float64(epoch.Unix()) + 60.25}), audience, 0},
		{"no user, no sub, no locale", goodClaims(map[string]any{"user": nil, "sub": nil, "locale": nil}), audience, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := assertion.NewVerifier(context.Background(), assertion.VerifierOptions{
				PublicKeyPEM: publicPEM(t, edKey), Audience: tc.audience, Leeway: tc.leeway, Now: clock.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(context.Background(), sign(t, jwa.EdDSA(), edKey, hdr, tc.claims)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The Signer's tokens expire: with the default TTL and leeway, a token
// is accepted until exp + 5s.
func TestVerifyExpiry(t *testing.T) {
	clock := testkit.NewClock(epoch)
	s := newSigner(t, assertion.ES256, 0, clock)
	v := pemVerifier(t, clock, publicPEM(t, key(assertion.ES256, 0)))
	tok, _ := s.Sign(assertion.Identity{User: alice, Type: "guest"})
	clock.Advance(time.Minute + assertion.DefaultLeeway - time.Nanosecond)
	if c, err := v.Verify(context.Background(), tok); err != nil || !c.IsGuest() || c.Authenticated() {
		t.Fatalf("before exp + leeway: %+v, %v; want a guest", c, err)
	}
	clock.Advance(time.Nanosecond)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, assertion.ErrInvalid) {
		t.Fatalf("at exp + leeway: %v, want ErrInvalid", err)
	}
}

// Algorithms pins what a verifier accepts, whatever the key could do.
func TestVerifierAlgorithms(t *testing.T) {
	clock := testkit.NewClock(epoch)
	edTok, _ := newSigner(t, assertion.EdDSA, 0, clock).Sign(assertion.Identity{User: alice, Type: "user"})
	esTok, _ := newSigner(t, assertion.ES256, 0, clock).Sign(assertion.Identity{User: alice, Type: "user"})
	both := append(publicPEM(t, key(assertion.EdDSA, 0)), publicPEM(t, key(assertion.ES256, 0))...)

	v, err := assertion.NewVerifier(context.Background(), assertion.VerifierOptions{
		PublicKeyPEM: publicPEM(t, key(assertion.ES256, 0)), Algorithms: []string{"ES256"}, Audience: audience, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), esTok); err != nil {
		t.Errorf("ES256 token: %v", err)
	}
	if _, err := v.Verify(context.Background(), edTok); !errors.Is(err, assertion.ErrInvalid) {
		t.Errorf("EdDSA token with Algorithms [ES256]: %v, want ErrInvalid", err)
	}
	for _, tc := range []struct {
		name string
		o    assertion.VerifierOptions
		want string
	}{
		{"a key the algorithms do not allow", assertion.VerifierOptions{PublicKeyPEM: both, Algorithms: []string{"ES256"}}, "block 1 is an Ed25519 key, for EdDSA, which Algorithms does not allow"},
		{"HS256", assertion.VerifierOptions{PublicKeyPEM: both, Algorithms: []string{"HS256"}}, `unknown algorithm "HS256"`},
		{"none", assertion.VerifierOptions{JWKSURL: "http://127.0.0.1:1/jwks.json", Algorithms: []string{"none"}}, `unknown algorithm "none"`},
		{"no key", assertion.VerifierOptions{}, "set exactly one of JWKSURL and PublicKeyPEM"},
		{"both keys", assertion.VerifierOptions{PublicKeyPEM: both, JWKSURL: "http://127.0.0.1:1/"}, "set exactly one"},
		{"a private key", assertion.VerifierOptions{PublicKeyPEM: privatePEM(t, key(assertion.EdDSA, 0))}, "is a PRIVATE KEY; give the public key only"},
		{"not PEM", assertion.VerifierOptions{PublicKeyPEM: []byte("nothing")}, "no PEM block found"},
		{"not a URL", assertion.VerifierOptions{JWKSURL: "file:///etc/keys"}, "absolute http(s) URL"},
		{"negative leeway", assertion.VerifierOptions{PublicKeyPEM: both, Leeway: -time.Second}, "must not be negative"},
		{"a P-384 key", assertion.VerifierOptions{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: p384SPKI(t)})}, "ECDSA key on P-384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := assertion.NewVerifier(context.Background(), tc.o)
			if err == nil {
				v.Close()
				t.Fatal("NewVerifier succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}
