package assertion

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// The algorithms an assertion may be signed with (identity.algorithm).
const (
	EdDSA = "EdDSA" // Ed25519
	ES256 = "ES256" // ECDSA on P-256 with SHA-256
	RS256 = "RS256" // RSA PKCS #1 v1.5 with SHA-256, keys of at least MinRSABits
)

// MinRSABits is the smallest RSA key accepted for RS256.
const MinRSABits = 2048

// maxRSABits bounds RSA keys: a larger key makes every signature slow and
// is more likely a mistake than a choice.
const maxRSABits = 8192

// algorithms lists the supported algorithms in the order of the docs.
var algorithms = [...]string{EdDSA, ES256, RS256}

// Algorithms returns the supported algorithms: EdDSA, ES256 and RS256.
func Algorithms() []string { return algorithms[:] }

// ValidAlgorithm reports whether name is a supported algorithm (exact
// spelling, as JOSE writes it).
func ValidAlgorithm(name string) bool {
	for _, a := range algorithms {
		if a == name {
			return true
		}
	}
	return false
}

// jwaOf returns the jwx algorithm of a supported name.
func jwaOf(name string) jwa.SignatureAlgorithm {
	switch name {
	case ES256:
		return jwa.ES256()
	case RS256:
		return jwa.RS256()
	default:
		return jwa.EdDSA()
	}
}

// algorithmOf returns the algorithm a public key is used with, or an
// error naming the problem (wrong curve, RSA key too small...).
func algorithmOf(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", errors.New("malformed Ed25519 key")
		}
		return EdDSA, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("ECDSA key on %s; ES256 needs P-256", k.Curve.Params().Name)
		}
		return ES256, nil
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < MinRSABits || n > maxRSABits {
			return "", fmt.Errorf("RSA key of %d bits; RS256 needs %d to %d", n, MinRSABits, maxRSABits)
		}
		return RS256, nil
	default:
		return "", fmt.Errorf("unsupported key type %T (want Ed25519, ECDSA P-256 or RSA)", pub)
	}
}

// keyKind names the kind of key an algorithm needs, for error messages.
func keyKind(alg string) string {
	switch alg {
	case ES256:
		return "an ECDSA P-256 key"
	case RS256:
		return fmt.Sprintf("an RSA key of %d to %d bits", MinRSABits, maxRSABits)
	default:
		return "an Ed25519 key"
	}
}

// describeKey names the kind of a public key, for error messages.
func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return "an Ed25519 key"
	case *ecdsa.PublicKey:
		return "an ECDSA " + k.Curve.Params().Name + " key"
	case *rsa.PublicKey:
		return fmt.Sprintf("an RSA key of %d bits", k.N.BitLen())
	default:
		return fmt.Sprintf("a %T key", pub)
	}
}

// publicKey is one key of the published set.
type publicKey struct {
	alg string
	kid string // RFC 7638 thumbprint
	key crypto.PublicKey
	jwk jwk.Key // the public JWK with use, alg and kid
}

// keyFile is a parsed identity.keyFile: the signing key, then the other
// keys it publishes.
type keyFile struct {
	signer    crypto.Signer
	signing   publicKey
	published []publicKey // signing first, then the others, without duplicates
}

// parseKeyFile reads the PEM blocks of data. The first must be a private
// key that fits alg; the others (public or private keys, of any supported
// algorithm) are published in the JWKS but never sign: the previous or
// next keys of a rotation (docs/signed-identity.md).
func parseKeyFile(data []byte, alg string) (*keyFile, error) {
	if !ValidAlgorithm(alg) {
		return nil, fmt.Errorf("assertion: unknown algorithm %q (want EdDSA, ES256 or RS256)", alg)
	}
	var blocks []*pem.Block
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) == 0 {
		return nil, errors.New("assertion: key file: no PEM block found (want a PEM private key)")
	}
	priv, err := parsePrivateBlock(blocks[0])
	if err != nil {
		return nil, fmt.Errorf("assertion: key file: first block: %w", err)
	}
	if got, err := algorithmOf(priv.Public()); err != nil || got != alg {
		return nil, fmt.Errorf("assertion: key file: %s needs %s (got %s)", alg, keyKind(alg), describeKey(priv.Public()))
	}
	kf := &keyFile{signer: priv}
	if kf.signing, err = newPublicKey(priv.Public(), alg); err != nil {
		return nil, err
	}
	kf.published = []publicKey{kf.signing}
	for i, b := range blocks[1:] {
		var pub crypto.PublicKey
		if b.Type == "PUBLIC KEY" {
			pub, err = x509.ParsePKIXPublicKey(b.Bytes)
		} else {
			var p crypto.Signer
			p, err = parsePrivateBlock(b)
			if p != nil {
				pub = p.Public()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("assertion: key file: block %d: %w", i+2, err)
		}
		a, err := algorithmOf(pub)
		if err != nil {
			return nil, fmt.Errorf("assertion: key file: block %d: %w", i+2, err)
		}
		pk, err := newPublicKey(pub, a)
		if err != nil {
			return nil, err
		}
		if !kf.publishes(pk.kid) {
			kf.published = append(kf.published, pk)
		}
	}
	return kf, nil
}

// publishes reports whether the key set already holds kid.
func (kf *keyFile) publishes(kid string) bool {
	for _, p := range kf.published {
		if p.kid == kid {
			return true
		}
	}
	return false
}

// parsePrivateBlock parses a PKCS #8 "PRIVATE KEY", a SEC 1 "EC PRIVATE
// KEY" or a PKCS #1 "RSA PRIVATE KEY". Encrypted keys are refused: the
// gateway has no passphrase to open them with.
func parsePrivateBlock(b *pem.Block) (crypto.Signer, error) {
	if _, encrypted := b.Headers["Proc-Type"]; encrypted || b.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("encrypted private keys are not supported (store the key unencrypted with file permissions 0600)")
	}
	var (
		key any
		err error
	)
	switch b.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		if strings.Contains(b.Type, "PUBLIC") || b.Type == "CERTIFICATE" {
			return nil, fmt.Errorf("got a %s; the gateway signs, so it needs the private key", b.Type)
		}
		return nil, fmt.Errorf("unsupported PEM block %q (want PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot parse the %s: %w", b.Type, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	if ek, ok := s.(ed25519.PrivateKey); ok && len(ek) != ed25519.PrivateKeySize {
		return nil, errors.New("malformed Ed25519 private key")
	}
	return s, nil
}

// newPublicKey makes the published form of pub: its JWK with use "sig",
// alg and kid, the RFC 7638 thumbprint.
func newPublicKey(pub crypto.PublicKey, alg string) (publicKey, error) {
	k, err := jwk.Import(pub)
	if err != nil {
		return publicKey{}, fmt.Errorf("assertion: cannot make a JWK of the key: %w", err)
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return publicKey{}, fmt.Errorf("assertion: key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	for _, f := range []struct {
		name  string
		value any
	}{{jwk.KeyUsageKey, jwk.ForSignature}, {jwk.AlgorithmKey, jwaOf(alg)}, {jwk.KeyIDKey, kid}} {
		if err := k.Set(f.name, f.value); err != nil {
			return publicKey{}, fmt.Errorf("assertion: JWK %s: %w", f.name, err)
		}
	}
	return publicKey{alg: alg, kid: kid, key: pub, jwk: k}, nil
}

// generateKey makes a new private key for alg.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		return rsa.GenerateKey(rand.Reader, MinRSABits)
	default:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
}

// CheckKeyFile reports whether data, the content of identity.keyFile, is
// usable with algorithm: its first PEM block a private key that fits it
// (an Ed25519 key for EdDSA, ECDSA P-256 for ES256, RSA of 2048 to 8192
// bits for RS256), and any further block a public or private key of a
// supported algorithm. The error names the problem, never the key.
func CheckKeyFile(data []byte, algorithm string) error {
	_, err := parseKeyFile(data, algorithm)
	return err
}
