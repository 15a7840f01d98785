package assertion_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// epoch is a whole second: iat is in whole seconds, so the reuse window
// starts exactly there.
var epoch = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

const audience = "http://app.test"

var alice = json.RawMessage(`{"id":42,"name":"Alice","email":"alice@example.com","roles":["admin"]}`)

// testKeys are generated once per test binary (RSA takes a while).
var testKeys = sync.OnceValue(func() map[string][2]crypto.Signer {
	gen := func(alg string) crypto.Signer {
		var (
			k   crypto.Signer
			err error
		)
		switch alg {
		case assertion.EdDSA:
			_, k, err = ed25519.GenerateKey(rand.Reader)
		case assertion.ES256:
			k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		case assertion.RS256:
			k, err = rsa.GenerateKey(rand.Reader, 2048)
		}
		if err != nil {
			panic(err)
		}
		return k
	}
	m := map[string][2]crypto.Signer{}
	for _, a := range assertion.Algorithms() {
		m[a] = [2]crypto.Signer{gen(a), gen(a)}
	}
	return m
})

// key returns test key i (0 or 1) of alg.
func key(alg string, i int) crypto.Signer { return testKeys()[alg][i] }

// privatePEM is key in PKCS #8 PEM.
func privatePEM(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// publicPEM is the public half of key in SPKI PEM.
func publicPEM(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// newSigner returns a Signer of alg with test key i, the test audience
// and clock.
func newSigner(t testing.TB, alg string, i int, clock *testkit.Clock) *assertion.Signer {
	t.Helper()
	s, err := assertion.NewSigner(assertion.SignerOptions{
		Algorithm: alg, KeyPEM: privatePEM(t, key(alg, i)), Audience: audience, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pemVerifier returns a Verifier of the public keys given, with the test
// audience and clock.
func pemVerifier(t testing.TB, clock *testkit.Clock, pems ...[]byte) *assertion.Verifier {
	t.Helper()
	v, err := assertion.NewVerifier(context.Background(), assertion.VerifierOptions{
		PublicKeyPEM: []byte(strings.Join(bytesToStrings(pems), "")), Audience: audience, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func bytesToStrings(b [][]byte) []string {
	out := make([]string, len(b))
	for i, x := range b {
		out[i] = string(x)
	}
	return out
}

// sign mints a token the gateway would never make: claims and header
// fields as given, signed with k and alg.
func sign(t testing.TB, alg jwa.SignatureAlgorithm, k any, hdr map[string]any, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	for name, v := range hdr {
		if err := h.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := jws.Sign(payload, jws.WithKey(alg, k, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

// goodClaims are the claims of a valid assertion at epoch, with extra
// merged in (a nil value deletes the claim).
func goodClaims(extra map[string]any) map[string]any {
	c := map[string]any{
		"iss": "apilayer", "aud": audience, "iat": epoch.Unix(), "exp": epoch.Add(time.Minute).Unix(),
		"sub": "42", "typ": "user", "user": map[string]any{"id": 42}, "locale": "en",
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

// b64 is base64url without padding, as JWS writes its segments.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// segments splits a compact JWS.
func segments(t testing.TB, tok string) (hdr, payload map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&hdr, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			t.Fatal(err)
		}
	}
	return hdr, payload
}

// jwksServer serves a key set that the test can change, and counts the
// fetches.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int32
	mu      sync.Mutex
	body    []byte // guarded by mu
	status  int    // guarded by mu; 0 = 200
}

func newJWKSServer(t testing.TB, body []byte) *jwksServer {
	s := &jwksServer{body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		body, status := s.body, s.status
		s.mu.Unlock()
		if status != 0 {
			http.Error(w, "down", status)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve makes the server answer body (status 0) or fail with status.
func (s *jwksServer) serve(body []byte, status int) {
	s.mu.Lock()
	s.body, s.status = body, status
	s.mu.Unlock()
}

// jwksOf returns the key set of the signers' keys together.
func jwksOf(t testing.TB, signers ...*assertion.Signer) []byte {
	t.Helper()
	var keys []json.RawMessage
	for _, s := range signers {
		var set struct{ Keys []json.RawMessage }
		if err := json.Unmarshal(s.JWKS(), &set); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, set.Keys...)
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
