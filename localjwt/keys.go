package localjwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwa"
)

// algorithm is one supported JWS algorithm and the key it needs.
type algorithm struct {
	alg jwa.SignatureAlgorithm
	fit func(key any) bool
}

// algorithms are the supported algorithms: the same list as the gateway's
// config validation (validate.local.algorithms). "none" is not one of them.
var algorithms = map[string]algorithm{
	"HS256": {jwa.HS256(), isSecret},
	"HS384": {jwa.HS384(), isSecret},
	"HS512": {jwa.HS512(), isSecret},
	"RS256": {jwa.RS256(), isRSA},
	"RS384": {jwa.RS384(), isRSA},
	"RS512": {jwa.RS512(), isRSA},
	"PS256": {jwa.PS256(), isRSA},
	"PS384": {jwa.PS384(), isRSA},
	"PS512": {jwa.PS512(), isRSA},
	"ES256": {jwa.ES256(), isCurve(elliptic.P256())},
	"ES384": {jwa.ES384(), isCurve(elliptic.P384())},
	"ES512": {jwa.ES512(), isCurve(elliptic.P521())},
	"EdDSA": {jwa.EdDSA(), isEd25519},
}

func isSecret(k any) bool {
	b, ok := k.([]byte)
	return ok && len(b) > 0
}

func isRSA(k any) bool {
	_, ok := k.(*rsa.PublicKey)
	return ok
}

func isCurve(c elliptic.Curve) func(any) bool {
	return func(k any) bool {
		e, ok := k.(*ecdsa.PublicKey)
		return ok && e.Curve == c
	}
}

func isEd25519(k any) bool {
	e, ok := k.(ed25519.PublicKey)
	return ok && len(e) == ed25519.PublicKeySize
}

// keyKind names the kind of key k for error messages.
func keyKind(k any) string {
	switch k := k.(type) {
	case []byte:
		return "an HMAC secret"
	case *rsa.PublicKey:
		return "an RSA public key"
	case *ecdsa.PublicKey:
		return "an ECDSA " + k.Curve.Params().Name + " public key"
	case ed25519.PublicKey:
		return "an Ed25519 public key"
	default:
		return fmt.Sprintf("a %T key", k)
	}
}

// parsePublicKeyPEM reads the first PEM block of data: a PKIX "PUBLIC KEY",
// a PKCS #1 "RSA PUBLIC KEY" or a "CERTIFICATE" (its public key is used).
// Private keys are refused: the gateway only ever needs the public half.
func parsePublicKeyPEM(data []byte) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("localjwt: public key: no PEM block found")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		if strings.Contains(block.Type, "PRIVATE") {
			return nil, fmt.Errorf("localjwt: public key: got a %s; give the public key only", block.Type)
		}
		return nil, fmt.Errorf("localjwt: public key: unsupported PEM block %q (want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("localjwt: public key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PublicKey, ed25519.PublicKey:
		return k, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k, nil
		}
		return nil, fmt.Errorf("localjwt: public key: unsupported ECDSA curve %s", k.Curve.Params().Name)
	default:
		return nil, fmt.Errorf("localjwt: public key: unsupported key type %T (want RSA, ECDSA or Ed25519)", key)
	}
}
