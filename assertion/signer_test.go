package assertion_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/internal/testkit"
)

// Every algorithm: what the Signer makes, the Verifier accepts, from the
// PEM public key and from the Signer's own JWKS, with every claim intact.
func TestRoundTrip(t *testing.T) {
	for _, alg := range assertion.Algorithms() {
		t.Run(alg, func(t *testing.T) {
			clock := testkit.NewClock(epoch)
			s := newSigner(t, alg, 0, clock)
			tok, err := s.Sign(assertion.Identity{User: alice, Type: "user", Locale: "tr"})
			if err != nil {
				t.Fatal(err)
			}
			jwksSrv := httptest.NewServer(s.JWKSHandler())
			defer jwksSrv.Close()
			fromJWKS, err := assertion.NewVerifier(context.Background(), assertion.VerifierOptions{
				JWKSURL: jwksSrv.URL, Audience: audience, Now: clock.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer fromJWKS.Close()

			want := &assertion.Claims{
				Subject: "42", Type: "user", Locale: "tr", Issuer: "apilayer", Audience: []string{audience},
				User: map[string]any{
					"id": json.Number("42"), "name": "Alice", "email": "alice@example.com", "roles": []any{"admin"},
				},
				IssuedAt: time.Unix(epoch.Unix(), 0), Expiry: time.Unix(epoch.Add(time.Minute).Unix(), 0), KeyID: s.KeyID(),
			}
			for name, v := range map[string]*assertion.Verifier{
				"pem": pemVerifier(t, clock, publicPEM(t, key(alg, 0))), "jwks": fromJWKS,
			} {
				got, err := v.Verify(context.Background(), tok)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: claims\n got %+v\nwant %+v", name, got, want)
				}
			}
			if hdr, _ := segments(t, tok); hdr["alg"] != alg || hdr["kid"] != s.KeyID() || hdr["typ"] != "JWT" {
				t.Errorf("header %v: want alg %s, kid %s, typ JWT", hdr, alg, s.KeyID())
			}
		})
	}
}

// The claims, exactly: sub by the user id rule, aud and locale only when
// set, a guest's typ, exp = iat + ttl.
func TestSignClaims(t *testing.T) {
	clock := testkit.NewClock(epoch.Add(400 * time.Millisecond)) // iat is the whole second
	iat, exp := json.Number(fmt.Sprint(epoch.Unix())), json.Number(fmt.Sprint(epoch.Unix()+90))
	for _, tc := range []struct {
		name     string
		audience string
		id       assertion.Identity
		want     map[string]any
	}{
		{
			name: "user", audience: audience,
			id:   assertion.Identity{User: json.RawMessage(`{"id":7,"name":"Bob"}`), Type: "user", Locale: "en"},
			want: map[string]any{"iss": "apilayer", "aud": audience, "iat": iat, "exp": exp, "sub": "7", "typ": "user", "locale": "en", "user": map[string]any{"id": json.Number("7"), "name": "Bob"}},
		},
		{
			name: "sub when there is no id",
			id:   assertion.Identity{User: json.RawMessage(`{"id":null,"sub":"u-1","email":"b@x"}`), Type: "user"},
			want: map[string]any{"iss": "apilayer", "iat": iat, "exp": exp, "sub": "u-1", "typ": "user", "user": map[string]any{"id": nil, "sub": "u-1", "email": "b@x"}},
		},
		{
			name: "email when there is neither",
			id:   assertion.Identity{User: json.RawMessage(`{"ID":1,"email":"b@x"}`), Type: "admin"},
			want: map[string]any{"iss": "apilayer", "iat": iat, "exp": exp, "sub": "b@x", "typ": "admin", "user": map[string]any{"ID": json.Number("1"), "email": "b@x"}},
		},
		{
			name: "guest without an id", audience: audience,
			id:   assertion.Identity{User: json.RawMessage(`{"type":"guest"}`), Type: "guest", Locale: "de"},
			want: map[string]any{"iss": "apilayer", "aud": audience, "iat": iat, "exp": exp, "typ": "guest", "locale": "de", "user": map[string]any{"type": "guest"}},
		},
		{
			name: "no user object",
			id:   assertion.Identity{Type: "guest"},
			want: map[string]any{"iss": "apilayer", "iat": iat, "exp": exp, "typ": "guest"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := assertion.NewSigner(assertion.SignerOptions{
				KeyPEM: privatePEM(t, key(assertion.EdDSA, 0)), Audience: tc.audience, TTL: 90 * time.Second, Now: clock.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := s.Sign(tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if _, got := segments(t, tok); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("claims\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	s := newSigner(t, assertion.EdDSA, 0, testkit.NewClock(epoch))
	for _, tc := range []struct {
		name string
		id   assertion.Identity
	}{
		{"no type", assertion.Identity{User: alice}},
		{"an array", assertion.Identity{User: json.RawMessage(`["secret-value"]`), Type: "user"}},
		{"a string", assertion.Identity{User: json.RawMessage(`"secret-value"`), Type: "user"}},
		{"broken JSON", assertion.Identity{User: json.RawMessage(`{"name":"secret-value"`), Type: "user"}},
		{"two objects", assertion.Identity{User: json.RawMessage(`{"a":1}{"name":"secret-value"}`), Type: "user"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := s.Sign(tc.id)
			if err == nil || tok != "" {
				t.Fatalf("Sign = %q, %v; want an error", tok, err)
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Errorf("error %q repeats the user object", err)
			}
		})
	}
}

// The reuse window: the same identity gets the same token until half its
// TTL has passed, then a new one; another identity never gets it.
// ES256 signatures are randomized, so a new signature is a new token even
// within the same second.
func TestReuseWindow(t *testing.T) {
	clock := testkit.NewClock(epoch)
	s := newSigner(t, assertion.ES256, 0, clock)
	id := assertion.Identity{User: alice, Type: "user", Locale: "en"}
	first, err := s.Sign(id)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(id assertion.Identity) string {
		t.Helper()
		tok, err := s.Sign(id)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	// A copy of the same JSON is the same identity; the caller may reuse
	// its buffer afterwards without changing the cached entry.
	buf := bytes.Clone(alice)
	if got := sign(assertion.Identity{User: buf, Type: "user", Locale: "en"}); got != first {
		t.Error("the same identity in another buffer got a new token")
	}
	copy(buf, `{"id":43`)
	for _, tc := range []struct {
		name string
		id   assertion.Identity
	}{
		{"another user", assertion.Identity{User: buf, Type: "user", Locale: "en"}},
		{"another type", assertion.Identity{User: alice, Type: "admin", Locale: "en"}},
		{"another locale", assertion.Identity{User: alice, Type: "user", Locale: "tr"}},
		{"no locale", assertion.Identity{User: alice, Type: "user"}},
	} {
		if got := sign(tc.id); got == first {
			t.Errorf("%s: got the token of another identity", tc.name)
		}
	}

	clock.Advance(30*time.Second - time.Nanosecond)
	if got := sign(id); got != first {
		t.Error("a new token before half the TTL")
	}
	clock.Advance(time.Nanosecond)
	second := sign(id)
	if second == first {
		t.Fatal("the same token at half the TTL")
	}
	if _, c := segments(t, second); c["iat"] != json.Number(fmt.Sprint(epoch.Unix()+30)) {
		t.Errorf("new token iat %v, want %d", c["iat"], epoch.Unix()+30)
	}
	if got := sign(id); got != second {
		t.Error("the new token is not reused")
	}
}

// With a fraction of a second past iat, the window still ends when the
// token has half its TTL left.
func TestReuseWindowFromWholeSeconds(t *testing.T) {
	clock := testkit.NewClock(epoch.Add(900 * time.Millisecond))
	s := newSigner(t, assertion.ES256, 0, clock)
	id := assertion.Identity{User: alice, Type: "user"}
	first, _ := s.Sign(id)
	clock.Set(epoch.Add(30*time.Second - time.Nanosecond))
	if got, _ := s.Sign(id); got != first {
		t.Error("new token before exp - ttl/2")
	}
	clock.Set(epoch.Add(30 * time.Second))
	if got, _ := s.Sign(id); got == first {
		t.Error("the token is reused with less than half its TTL left")
	}
}

// The cache holds at most CacheSize identities: the oldest goes first.
func TestReuseCacheBound(t *testing.T) {
	clock := testkit.NewClock(epoch)
	s, err := assertion.NewSigner(assertion.SignerOptions{
		Algorithm: assertion.ES256, KeyPEM: privatePEM(t, key(assertion.ES256, 0)), CacheSize: 2, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]assertion.Identity, 3)
	toks := make([]string, 3)
	for i := range ids {
		ids[i] = assertion.Identity{User: json.RawMessage(fmt.Sprintf(`{"id":%d}`, i)), Type: "user"}
		if toks[i], err = s.Sign(ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	// 1 and 2 are cached (hits change nothing), 0 was pushed out.
	for _, i := range []int{2, 1, 0} {
		got, _ := s.Sign(ids[i])
		if want := i != 0; (got == toks[i]) != want {
			t.Errorf("identity %d: reused %v, want %v", i, got == toks[i], want)
		}
	}
}

// Concurrent signing (run with -race): every token is valid and carries
// its own identity.
func TestSignConcurrent(t *testing.T) {
	clock := testkit.NewClock(epoch)
	s := newSigner(t, assertion.EdDSA, 0, clock)
	v := pemVerifier(t, clock, publicPEM(t, key(assertion.EdDSA, 0)))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				n := (g + i) % 5
				tok, err := s.Sign(assertion.Identity{User: json.RawMessage(fmt.Sprintf(`{"id":%d}`, n)), Type: "user"})
				if err != nil {
					errs <- err
					return
				}
				c, err := v.Verify(context.Background(), tok)
				if err == nil && c.Subject != fmt.Sprint(n) {
					err = fmt.Errorf("identity %d got the token of %s", n, c.Subject)
				}
				if err != nil {
					errs <- err
					return
				}
				if i%50 == 0 {
					clock.Advance(500 * time.Millisecond) // 16s in all: every token keeps 30s
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNewSignerRefuses(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	ecDER, _ := x509.MarshalECPrivateKey(key(assertion.ES256, 0).(*ecdsa.PrivateKey))
	ed := privatePEM(t, key(assertion.EdDSA, 0))
	for _, tc := range []struct {
		name string
		o    assertion.SignerOptions
		want string
	}{
		{"unknown algorithm", assertion.SignerOptions{Algorithm: "HS256"}, `unknown algorithm "HS256"`},
		{"alg none", assertion.SignerOptions{Algorithm: "none"}, `unknown algorithm "none"`},
		{"ttl too short", assertion.SignerOptions{TTL: time.Second}, "ttl must be between 2s and 1h0m0s (got 1s)"},
		{"ttl too long", assertion.SignerOptions{TTL: 2 * time.Hour}, "ttl must be between"},
		{"negative ttl", assertion.SignerOptions{TTL: -time.Minute}, "ttl must be between"},
		{"negative cache", assertion.SignerOptions{CacheSize: -1}, "cache size"},
		{"not PEM", assertion.SignerOptions{KeyPEM: []byte("secret-value")}, "no PEM block"},
		{"a public key", assertion.SignerOptions{KeyPEM: publicPEM(t, key(assertion.EdDSA, 0))}, "got a PUBLIC KEY; the gateway signs, so it needs the private key"},
		{"Ed25519 for ES256", assertion.SignerOptions{Algorithm: assertion.ES256, KeyPEM: ed}, "ES256 needs an ECDSA P-256 key (got an Ed25519 key)"},
		{"P-384 for ES256", assertion.SignerOptions{Algorithm: assertion.ES256, KeyPEM: privatePEM(t, p384)}, "ES256 needs an ECDSA P-256 key (got an ECDSA P-384 key)"},
		{"P-256 for EdDSA", assertion.SignerOptions{KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})}, "EdDSA needs an Ed25519 key (got an ECDSA P-256 key)"},
		{"RSA 1024", assertion.SignerOptions{Algorithm: assertion.RS256, KeyPEM: privatePEM(t, rsa1024)}, "RS256 needs an RSA key of 2048 to 8192 bits (got an RSA key of 1024 bits)"},
		{"encrypted", assertion.SignerOptions{KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})}, "encrypted private keys are not supported"},
		{"garbage in the block", assertion.SignerOptions{KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("secret-value")})}, "cannot parse the PRIVATE KEY"},
		{"bad second block", assertion.SignerOptions{KeyPEM: append(bytes.Clone(ed), publicPEM(t, p384)...)}, "block 2: ECDSA key on P-384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := assertion.NewSigner(tc.o)
			if err == nil {
				t.Fatalf("NewSigner = %v, want an error", s)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Errorf("error %q repeats the key file", err)
			}
			if len(tc.o.KeyPEM) > 0 {
				alg := tc.o.Algorithm
				if alg == "" {
					alg = assertion.EdDSA
				}
				if err := assertion.CheckKeyFile(tc.o.KeyPEM, alg); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("CheckKeyFile = %v, want an error containing %q", err, tc.want)
				}
			}
		})
	}
}

// Every PEM form of a private key that the algorithm takes.
func TestKeyFileForms(t *testing.T) {
	ec := key(assertion.ES256, 0).(*ecdsa.PrivateKey)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	rk := key(assertion.RS256, 0).(*rsa.PrivateKey)
	for _, tc := range []struct {
		name, alg string
		pem       []byte
	}{
		{"PKCS #8 Ed25519", assertion.EdDSA, privatePEM(t, key(assertion.EdDSA, 0))},
		{"PKCS #8 P-256", assertion.ES256, privatePEM(t, ec)},
		{"SEC 1 P-256", assertion.ES256, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})},
		{"PKCS #8 RSA", assertion.RS256, privatePEM(t, rk)},
		{"PKCS #1 RSA", assertion.RS256, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := assertion.CheckKeyFile(tc.pem, tc.alg); err != nil {
				t.Fatal(err)
			}
			s, err := assertion.NewSigner(assertion.SignerOptions{Algorithm: tc.alg, KeyPEM: tc.pem})
			if err != nil {
				t.Fatal(err)
			}
			if s.Generated() {
				t.Error("Generated() with a key file")
			}
		})
	}
}

// Without a key file, a key is generated and reported, and each Signer
// gets its own.
func TestGeneratedKey(t *testing.T) {
	a, err := assertion.NewSigner(assertion.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := assertion.NewSigner(assertion.SignerOptions{})
	if !a.Generated() || a.Algorithm() != assertion.EdDSA || a.TTL() != assertion.DefaultTTL {
		t.Errorf("zero options: generated %v, algorithm %s, ttl %s", a.Generated(), a.Algorithm(), a.TTL())
	}
	if a.KeyID() == b.KeyID() {
		t.Error("two generated keys have the same kid")
	}
}

// A key file with more blocks publishes them all and signs with the
// first: a verifier of the JWKS accepts tokens of either key, which is
// what a rolling key rotation needs.
func TestKeyFileRotation(t *testing.T) {
	clock := testkit.NewClock(epoch)
	next := newSigner(t, assertion.ES256, 0, clock)
	both := append(privatePEM(t, key(assertion.EdDSA, 0)), publicPEM(t, key(assertion.ES256, 0))...)
	both = append(both, privatePEM(t, key(assertion.EdDSA, 0))...) // a duplicate is published once
	cur, err := assertion.NewSigner(assertion.SignerOptions{KeyPEM: both, Audience: audience, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(cur.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 || set.Keys[0]["kid"] != cur.KeyID() || set.Keys[1]["kid"] != next.KeyID() || set.Keys[1]["alg"] != "ES256" {
		t.Fatalf("JWKS %s: want the signing key, then the ES256 key", cur.JWKS())
	}
	srv := httptest.NewServer(cur.JWKSHandler())
	defer srv.Close()
	v, err := assertion.NewVerifier(context.Background(), assertion.VerifierOptions{JWKSURL: srv.URL, Audience: audience, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for name, s := range map[string]*assertion.Signer{"current": cur, "next": next} {
		tok, err := s.Sign(assertion.Identity{User: alice, Type: "user"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("%s key: %v", name, err)
		}
		if c.KeyID != s.KeyID() {
			t.Errorf("%s key: verified by kid %s, want %s", name, c.KeyID, s.KeyID())
		}
	}
	if _, err := v.Verify(context.Background(), "x"); !errors.Is(err, assertion.ErrInvalid) {
		t.Errorf("garbage: %v", err)
	}
}
