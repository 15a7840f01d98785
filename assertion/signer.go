package assertion

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Defaults and limits of the identity keys (docs/configuration.md).
const (
	// Issuer is the iss claim of every assertion.
	Issuer = "apilayer"
	// DefaultHeader is the request header that carries the assertion to
	// the web app (identity.header).
	DefaultHeader = "X-Auth-Assertion"
	// DefaultAlgorithm is the default of identity.algorithm.
	DefaultAlgorithm = EdDSA
	// DefaultTTL is the default of identity.ttl.
	DefaultTTL = 60 * time.Second
	// MinTTL and MaxTTL bound identity.ttl. iat and exp are whole seconds,
	// so below 2s a token could reach the web app with less than half its
	// lifetime left; above an hour a captured assertion stays usable for
	// too long.
	MinTTL = 2 * time.Second
	MaxTTL = time.Hour
	// DefaultCacheSize is the default of SignerOptions.CacheSize.
	DefaultCacheSize = 10000
	// JWKSPath is where the gateway serves the public keys.
	JWKSPath = "/_apilayer/jwks.json"
)

// defaultCacheBytes bounds the memory of the reuse cache: identities and
// tokens of about 1 KiB each fill DefaultCacheSize entries; larger ones
// push older entries out sooner.
const defaultCacheBytes = 32 << 20

// SignerOptions configures NewSigner. The zero value works: EdDSA with a
// generated key, a 60s TTL and no aud claim.
type SignerOptions struct {
	// Algorithm is EdDSA, ES256 or RS256 (identity.algorithm). Empty means
	// EdDSA.
	Algorithm string

	// KeyPEM is the content of identity.keyFile: a PEM private key that
	// fits Algorithm (Ed25519 for EdDSA, ECDSA P-256 for ES256, RSA of
	// 2048 to 8192 bits for RS256). Further PEM blocks (public or private
	// keys of any of the three algorithms) are published in the JWKS but
	// never sign: the previous or next key of a rotation
	// (docs/signed-identity.md). If empty, a key is generated;
	// [Signer.Generated] reports it, so that the caller can warn: every
	// restart then changes the key, and instances sharing the work must
	// share a key file.
	KeyPEM []byte

	// TTL is the lifetime of an assertion (identity.ttl), from MinTTL to
	// MaxTTL, in whole seconds (a fraction is rounded up). Zero means
	// DefaultTTL. A token is reused for the same identity for up to half
	// of it.
	TTL time.Duration

	// Audience is the aud claim (identity.audience; the gateway's default
	// is upstream.url without a trailing slash). If empty, assertions
	// have no aud claim.
	Audience string

	// CacheSize bounds the number of identities whose token is kept for
	// reuse. Zero means DefaultCacheSize.
	CacheSize int

	// Now is the clock. If nil, time.Now is used.
	Now func() time.Time
}

// Identity is what one forwarded request says about its visitor: the
// claims an assertion carries besides iss, aud, iat and exp. Anonymous
// visitors have none and get no assertion.
type Identity struct {
	// User is the user object as the web app receives it in X-Auth-User
	// (the JSON of backend.Identity.UserJSON, tokens removed and reduced
	// when large): the user claim. It must be a JSON object, or empty
	// for none. Sign does not keep a reference to it.
	User json.RawMessage
	// Type is the token type (user, guest, ...): the typ claim. Required.
	Type string
	// Locale is the request's locale (X-Locale): the locale claim, left
	// out when empty.
	Locale string
}

// Signer signs the assertions of forwarded requests. It is safe for
// concurrent use and holds no goroutine: there is nothing to close.
type Signer struct {
	alg       string
	jwa       jwa.SignatureAlgorithm
	key       crypto.Signer
	kid       string
	ttl       time.Duration
	ttlSec    int64
	audience  string
	generated bool
	jwks      []byte // the JSON of the public key set
	now       func() time.Time

	seed  maphash.Seed
	cache *reuseCache
}

// NewSigner checks o and returns a Signer. It fails on an unknown
// algorithm, a TTL out of bounds, or a key that cannot be read or does
// not fit the algorithm; the error never contains key material.
func NewSigner(o SignerOptions) (*Signer, error) {
	s := &Signer{
		alg:      o.Algorithm,
		ttl:      o.TTL,
		audience: o.Audience,
		now:      o.Now,
		seed:     maphash.MakeSeed(),
	}
	if s.alg == "" {
		s.alg = DefaultAlgorithm
	}
	if !ValidAlgorithm(s.alg) {
		return nil, fmt.Errorf("assertion: unknown algorithm %q (want EdDSA, ES256 or RS256)", s.alg)
	}
	s.jwa = jwaOf(s.alg)
	if s.ttl == 0 {
		s.ttl = DefaultTTL
	}
	if s.ttl < MinTTL || s.ttl > MaxTTL {
		return nil, fmt.Errorf("assertion: ttl must be between %s and %s (got %s)", MinTTL, MaxTTL, o.TTL)
	}
	s.ttlSec = int64((s.ttl + time.Second - 1) / time.Second)
	s.ttl = time.Duration(s.ttlSec) * time.Second
	if s.now == nil {
		s.now = time.Now
	}
	size := o.CacheSize
	if size < 0 {
		return nil, fmt.Errorf("assertion: cache size must not be negative (got %d)", size)
	}
	if size == 0 {
		size = DefaultCacheSize
	}
	s.cache = newReuseCache(size, defaultCacheBytes)

	var kf *keyFile
	if len(o.KeyPEM) > 0 {
		var err error
		if kf, err = parseKeyFile(o.KeyPEM, s.alg); err != nil {
			return nil, err
		}
	} else {
		key, err := generateKey(s.alg)
		if err != nil {
			return nil, fmt.Errorf("assertion: generating a %s key: %w", s.alg, err)
		}
		pk, err := newPublicKey(key.Public(), s.alg)
		if err != nil {
			return nil, err
		}
		kf = &keyFile{signer: key, signing: pk, published: []publicKey{pk}}
		s.generated = true
	}
	s.key, s.kid = kf.signer, kf.signing.kid
	var err error
	if s.jwks, err = marshalSet(kf.published); err != nil {
		return nil, err
	}
	return s, nil
}

// Algorithm returns the signing algorithm.
func (s *Signer) Algorithm() string { return s.alg }

// KeyID returns the kid of the signing key: its RFC 7638 thumbprint.
func (s *Signer) KeyID() string { return s.kid }

// Generated reports whether the key was generated at start rather than
// read from SignerOptions.KeyPEM.
func (s *Signer) Generated() bool { return s.generated }

// TTL returns the lifetime of the assertions.
func (s *Signer) TTL() time.Duration { return s.ttl }

// errNoType is Sign's error for an identity without a token type.
var errNoType = errors.New("assertion: the identity has no token type")

// Sign returns the assertion of id as a compact JWS: claims iss, aud (when
// set), iat, exp (iat + TTL), sub (the user id, see [UserID]), typ, user
// and locale; header alg, kid and typ JWT.
//
// The same identity (same user JSON, type and locale) gets the same token
// until half of its lifetime has passed, so every token the web app
// receives has at least half its TTL left, and a steady stream of
// requests costs a hash and a map lookup rather than a signature.
//
// Sign fails when id has no Type or when User is not a JSON object; the
// error never contains the user object.
func (s *Signer) Sign(id Identity) (string, error) {
	if id.Type == "" {
		return "", errNoType
	}
	h := s.hash(id)
	now := s.now()
	if e := s.cache.get(h, now); e != nil && e.typ == id.Type && e.locale == id.Locale && bytes.Equal(e.user, id.User) {
		return e.token, nil
	}
	token, exp, err := s.sign(id, now)
	if err != nil {
		return "", err
	}
	s.cache.put(h, &cacheEntry{
		typ:    id.Type,
		locale: id.Locale,
		user:   slices.Clone(id.User),
		token:  token,
		until:  exp.Add(-s.ttl / 2),
	})
	return token, nil
}

// hash is the cache key of id. The seed is random per Signer, so no one
// can choose identities that collide; a collision would only cost a
// signature (Sign compares the identities).
func (s *Signer) hash(id Identity) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(id.Type)
	h.WriteByte(0)
	h.WriteString(id.Locale)
	h.WriteByte(0)
	h.Write(id.User)
	return h.Sum64()
}

// claims is the payload of an assertion, in this order.
type claims struct {
	Iss    string          `json:"iss"`
	Aud    string          `json:"aud,omitempty"`
	Iat    int64           `json:"iat"`
	Exp    int64           `json:"exp"`
	Sub    string          `json:"sub,omitempty"`
	Typ    string          `json:"typ"`
	Locale string          `json:"locale,omitempty"`
	User   json.RawMessage `json:"user,omitempty"`
}

// sign makes a new token for id at now and returns it with its expiry.
func (s *Signer) sign(id Identity, now time.Time) (string, time.Time, error) {
	c := claims{Iss: Issuer, Aud: s.audience, Iat: now.Unix(), Typ: id.Type, Locale: id.Locale}
	c.Exp = c.Iat + s.ttlSec
	if u := bytes.TrimSpace(id.User); len(u) > 0 && !bytes.Equal(u, []byte("null")) {
		user, err := decodeObject(u)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("assertion: the user is not a JSON object: %w", err)
		}
		c.User, c.Sub = u, UserID(user)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("assertion: encoding the claims: %w", err)
	}
	hdr := jws.NewHeaders()
	for _, f := range []struct{ k, v string }{{jws.KeyIDKey, s.kid}, {jws.TypeKey, "JWT"}} {
		if err := hdr.Set(f.k, f.v); err != nil {
			return "", time.Time{}, fmt.Errorf("assertion: header %s: %w", f.k, err)
		}
	}
	tok, err := jws.Sign(payload, jws.WithKey(s.jwa, s.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("assertion: signing with %s: %w", s.alg, err)
	}
	return string(tok), time.Unix(c.Exp, 0), nil
}

// UserID returns the user id an assertion's sub claim carries: the user
// object's id, else its sub, else its email, as text; "" when it has none
// of them. It is the rule the gateway uses wherever it needs a user id
// (the CSRF token binding, audit events).
func UserID(user map[string]any) string {
	for _, k := range [...]string{"id", "sub", "email"} {
		if v, ok := user[k]; ok && v != nil {
			if s := fmt.Sprint(v); s != "" {
				return s
			}
		}
	}
	return ""
}
