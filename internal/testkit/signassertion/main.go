// Command signassertion prints assertions signed by the gateway's
// assertion package, with the keys that verify them, as JSON: the
// fixture of clients/next/test/gosigned.test.ts, which checks that
// @apilayer/next accepts what the Go side signs (docs/signed-identity.md).
//
// For each algorithm it generates a key, signs through a PEM key file as
// identity.keyFile would give it, and prints the PEM public key, the JWKS,
// a user's and a guest's assertion, all for the audience http://app.test.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"time"

	"github.com/apilayer/apilayer/assertion"
)

// Case is what the fixture prints for one algorithm.
type Case struct {
	Alg          string          `json:"alg"`
	KeyID        string          `json:"kid"`
	PublicKeyPEM string          `json:"publicKeyPEM"`
	JWKS         json.RawMessage `json:"jwks"`
	User         string          `json:"user"`
	Guest        string          `json:"guest"`
}

// Output is the whole fixture.
type Output struct {
	Now      int64           `json:"now"` // the signing time, unix seconds
	Audience string          `json:"audience"`
	UserJSON json.RawMessage `json:"userJSON"`
	Cases    []Case          `json:"cases"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "signassertion:", err)
		os.Exit(1)
	}
}

func run() error {
	now := time.Now()
	out := Output{
		Now:      now.Unix(),
		Audience: "http://app.test",
		UserJSON: json.RawMessage(`{"id":42,"name":"Ayşe","email":"ayse@example.com","roles":["admin"],"note":"<\u2028>"}`),
	}
	for _, alg := range assertion.Algorithms() {
		key, err := generate(alg)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		s, err := assertion.NewSigner(assertion.SignerOptions{
			Algorithm: alg,
			KeyPEM:    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
			Audience:  out.Audience,
			Now:       func() time.Time { return now },
		})
		if err != nil {
			return err
		}
		pub, err := x509.MarshalPKIXPublicKey(key.Public())
		if err != nil {
			return err
		}
		c := Case{Alg: alg, KeyID: s.KeyID(), PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})), JWKS: s.JWKS()}
		if c.User, err = s.Sign(assertion.Identity{User: out.UserJSON, Type: "user", Locale: "tr"}); err != nil {
			return err
		}
		if c.Guest, err = s.Sign(assertion.Identity{User: json.RawMessage(`{"type":"guest"}`), Type: "guest"}); err != nil {
			return err
		}
		out.Cases = append(out.Cases, c)
	}
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(out)
}

func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case assertion.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case assertion.RS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	default:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
}
