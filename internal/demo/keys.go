package demo

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// The signing algorithms of BackendOptions.Signing.
const (
	SigningHS256 = "HS256"
	SigningEdDSA = "EdDSA"
	SigningRS256 = "RS256"
)

// signingKey is one key of the backend: the signing key and its public
// half (for HS256 both are the secret).
type signingKey struct {
	kid    string
	secret []byte  // HS256 only
	priv   jwk.Key // with kid and alg
	pub    jwk.Key // with kid, alg and use; nil for HS256
}

// keyRing is the current signing key and the one before it, which still
// verifies (and stays in the JWKS) after a rotation.
type keyRing struct {
	alg  jwa.SignatureAlgorithm
	cur  *signingKey
	prev *signingKey // nil before the first rotation
	set  jwk.Set     // verification keys of cur and prev
	jwks []byte      // the public JWKS document; nil for HS256
}

// newSigningKey generates a key for alg. secret, if non-nil, is the
// HS256 key to use instead of a random one.
func newSigningKey(alg jwa.SignatureAlgorithm, secret []byte) (*signingKey, error) {
	k := &signingKey{kid: rand.Text()[:16]}
	var raw any
	switch alg {
	case jwa.HS256():
		if secret == nil {
			secret = make([]byte, 32)
			rand.Read(secret)
		}
		k.secret, raw = secret, secret
	case jwa.EdDSA():
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("demo: generate Ed25519 key: %w", err)
		}
		raw = priv
	case jwa.RS256():
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("demo: generate RSA key: %w", err)
		}
		raw = priv
	default:
		return nil, fmt.Errorf("demo: unsupported signing algorithm %q", alg)
	}
	priv, err := jwk.Import(raw)
	if err != nil {
		return nil, fmt.Errorf("demo: import key: %w", err)
	}
	if err := setKeyFields(priv, k.kid, alg); err != nil {
		return nil, err
	}
	k.priv = priv
	if alg != jwa.HS256() {
		pub, err := priv.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("demo: public key: %w", err)
		}
		if err := pub.Set(jwk.KeyUsageKey, "sig"); err != nil {
			return nil, fmt.Errorf("demo: public key: %w", err)
		}
		k.pub = pub
	}
	return k, nil
}

func setKeyFields(k jwk.Key, kid string, alg jwa.SignatureAlgorithm) error {
	if err := k.Set(jwk.KeyIDKey, kid); err != nil {
		return fmt.Errorf("demo: key id: %w", err)
	}
	if err := k.Set(jwk.AlgorithmKey, alg); err != nil {
		return fmt.Errorf("demo: key alg: %w", err)
	}
	return nil
}

// newKeyRing returns a ring whose current key is k.
func newKeyRing(alg jwa.SignatureAlgorithm, cur, prev *signingKey) (*keyRing, error) {
	r := &keyRing{alg: alg, cur: cur, prev: prev, set: jwk.NewSet()}
	pubs := jwk.NewSet()
	for _, k := range []*signingKey{cur, prev} {
		if k == nil {
			continue
		}
		verify := k.pub
		if verify == nil {
			verify = k.priv // HS256: the secret verifies
		}
		if err := r.set.AddKey(verify); err != nil {
			return nil, fmt.Errorf("demo: key set: %w", err)
		}
		if k.pub != nil {
			if err := pubs.AddKey(k.pub); err != nil {
				return nil, fmt.Errorf("demo: key set: %w", err)
			}
		}
	}
	if pubs.Len() > 0 {
		b, err := json.Marshal(pubs)
		if err != nil {
			return nil, fmt.Errorf("demo: encode JWKS: %w", err)
		}
		r.jwks = b
	}
	return r, nil
}

// ring returns the current key ring.
func (b *Backend) ring() *keyRing {
	b.keyMu.RLock()
	defer b.keyMu.RUnlock()
	return b.keys
}

// RotateKey replaces the signing key with a new one under a new kid. The
// previous key still verifies, and stays in the JWKS, until the next
// rotation. With HS256 the new key is a new random secret (see Key).
func (b *Backend) RotateKey() error {
	b.keyMu.Lock()
	defer b.keyMu.Unlock()
	k, err := newSigningKey(b.keys.alg, nil)
	if err != nil {
		return err
	}
	r, err := newKeyRing(b.keys.alg, k, b.keys.cur)
	if err != nil {
		return err
	}
	b.keys = r
	return nil
}

// Signing returns the signing algorithm: HS256, EdDSA or RS256.
func (b *Backend) Signing() string { return b.ring().alg.String() }

// JWKS returns the JSON Web Key Set of the public keys (the current key
// and, after a rotation, the previous one), each with kid, alg and use. It
// is nil with HS256.
func (b *Backend) JWKS() []byte {
	r := b.ring()
	if r.jwks == nil {
		return nil
	}
	return append([]byte(nil), r.jwks...)
}

// PublicKeyPEM returns the current public key as a PEM "PUBLIC KEY" block,
// or nil with HS256.
func (b *Backend) PublicKeyPEM() []byte {
	r := b.ring()
	if r.cur.pub == nil {
		return nil
	}
	var raw any
	if err := jwk.Export(r.cur.pub, &raw); err != nil {
		return nil
	}
	der, err := x509.MarshalPKIXPublicKey(raw)
	if err != nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// handleJWKS serves GET .well-known/jwks.json: the public keys, or 404 with
// HS256 (a shared secret is never published).
func (b *Backend) handleJWKS(w http.ResponseWriter, r *http.Request) {
	doc := b.ring().jwks
	if doc == nil {
		writeError(w, http.StatusNotFound, "Not found.")
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(doc)
}

// initKeys creates the first key of opts.Signing.
func (b *Backend) initKeys(opts BackendOptions) error {
	var alg jwa.SignatureAlgorithm
	switch opts.Signing {
	case "", SigningHS256:
		alg = jwa.HS256()
	case SigningEdDSA:
		alg = jwa.EdDSA()
	case SigningRS256:
		alg = jwa.RS256()
	default:
		return fmt.Errorf("demo: BackendOptions.Signing: unsupported algorithm %q (want HS256, EdDSA or RS256)", opts.Signing)
	}
	var secret []byte
	if alg == jwa.HS256() && opts.Key != nil {
		secret = append([]byte{}, opts.Key...)
	}
	k, err := newSigningKey(alg, secret)
	if err != nil {
		return err
	}
	r, err := newKeyRing(alg, k, nil)
	if err != nil {
		return err
	}
	b.keys = r
	return nil
}
