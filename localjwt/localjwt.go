package localjwt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/internal/jwks"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Defaults of Options.
const (
	DefaultTokenTypeClaim = "type"
	DefaultMinRefetch     = 5 * time.Second
	DefaultMaxAge         = time.Hour
)

// Options configures a Verifier. Exactly one of Secret, PublicKeyPEM and
// JWKSURL must be set, and Algorithms must not be empty.
type Options struct {
	// Secret is the HMAC key, for HS256, HS384 and HS512.
	Secret []byte
	// PublicKeyPEM is a PEM public key ("PUBLIC KEY", "RSA PUBLIC KEY" or
	// "CERTIFICATE"): RSA for RS*/PS*, ECDSA P-256/P-384/P-521 for
	// ES256/ES384/ES512, Ed25519 for EdDSA.
	PublicKeyPEM []byte
	// JWKSURL is the URL of a JSON Web Key Set with the public keys.
	JWKSURL string
	// Algorithms are the accepted algorithms. The token header's alg must
	// be listed, and every listed algorithm must fit the key (for a JWKS:
	// be asymmetric); otherwise New fails.
	Algorithms []string
	// Issuer, when set, must equal the iss claim.
	Issuer string
	// Audience, when set, must be the aud claim or one of its elements.
	Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat. Zero means none.
	Leeway time.Duration
	// RequireExp makes a token without exp invalid. When false, such a
	// token never expires (next-api-layer's behaviour).
	RequireExp bool
	// TokenTypeClaim names the claim that holds the token type; token_type
	// is read next, and "user" is the default. Empty means "type".
	TokenTypeClaim string
	// MinRefetch is the least time between two JWKS fetches caused by
	// tokens whose kid is not in the set. Zero means 5s.
	MinRefetch time.Duration
	// MaxAge is the age from which a JWKS is refetched in the background
	// (after a Verify notices it, so that a key removed from the set stops
	// verifying). Zero means 1h.
	MaxAge time.Duration
	// HTTPClient makes the JWKS fetches; it is yours to close. If nil, a
	// client with a 10s timeout and its own connections, which Close
	// closes.
	HTTPClient *http.Client
	// Now is the clock. If nil, time.Now is used.
	Now func() time.Time
	// Logger receives JWKS fetch failures and user-object reductions,
	// never tokens. If nil, nothing is logged.
	Logger *slog.Logger
}

// Verifier verifies JWTs locally, without calling the backend. It is safe
// for concurrent use. Close it when done if it uses a JWKS.
type Verifier struct {
	allowed    []string
	static     []jwks.Key  // the key of Secret or PublicKeyPEM; nil with a JWKS
	jwks       *jwks.Cache // nil without a JWKS
	issuer     string
	audience   string
	leeway     time.Duration
	requireExp bool
	typeClaim  string
	now        func() time.Time
	log        *slog.Logger
	closeOnce  sync.Once
}

// New returns a Verifier for o. It fails when o does not name exactly one
// key source, when an algorithm is unknown or does not fit the key, or when
// the key cannot be read. With a JWKS URL, New fetches the set once,
// bounded by ctx; a failure there is logged, not returned, and the fetch is
// retried when a token needs it.
func New(ctx context.Context, o Options) (*Verifier, error) {
	v := &Verifier{
		allowed:    slices.Clone(o.Algorithms),
		issuer:     o.Issuer,
		audience:   o.Audience,
		leeway:     o.Leeway,
		requireExp: o.RequireExp,
		typeClaim:  o.TokenTypeClaim,
		now:        o.Now,
		log:        o.Logger,
	}
	if v.typeClaim == "" {
		v.typeClaim = DefaultTokenTypeClaim
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}

	var errs []error
	sources := 0
	for _, set := range []bool{len(o.Secret) > 0, len(o.PublicKeyPEM) > 0, o.JWKSURL != ""} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		errs = append(errs, fmt.Errorf("localjwt: set exactly one of Secret, PublicKeyPEM and JWKSURL (got %d)", sources))
	}
	if len(v.allowed) == 0 {
		errs = append(errs, errors.New("localjwt: algorithms: list at least one algorithm"))
	}
	for _, name := range v.allowed {
		if _, ok := algorithms[name]; !ok {
			errs = append(errs, fmt.Errorf("localjwt: algorithms: unknown algorithm %q (want HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA)", name))
		}
	}
	if o.Leeway < 0 {
		errs = append(errs, fmt.Errorf("localjwt: leeway must not be negative (got %s)", o.Leeway))
	}
	if o.MinRefetch < 0 || o.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("localjwt: MinRefetch and MaxAge must not be negative (got %s, %s)", o.MinRefetch, o.MaxAge))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	switch {
	case len(o.Secret) > 0:
		if err := v.setStatic(slices.Clone(o.Secret)); err != nil {
			return nil, err
		}
		if len(o.Secret) < 32 {
			// RFC 7518 section 3.2 wants at least the hash size.
			v.log.Warn("localjwt: HMAC secret shorter than 32 bytes is weak", slog.Int("bytes", len(o.Secret)))
		}
	case len(o.PublicKeyPEM) > 0:
		key, err := parsePublicKeyPEM(o.PublicKeyPEM)
		if err != nil {
			return nil, err
		}
		if err := v.setStatic(key); err != nil {
			return nil, err
		}
	default:
		if err := v.setJWKS(ctx, o); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// setStatic checks that every allowed algorithm fits key and uses it.
func (v *Verifier) setStatic(key any) error {
	var errs []error
	for _, name := range v.allowed {
		if !algorithms[name].fit(key) {
			errs = append(errs, fmt.Errorf("localjwt: algorithms: %s does not fit %s", name, keyKind(key)))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	v.static = []jwks.Key{{Key: key}}
	return nil
}

// Verify verifies token and returns the identity it carries. The
// algorithm is never taken from the token alone: the header's alg must be
// in Options.Algorithms, and the signature is checked with that algorithm
// and a configured key that fits it.
//
// An invalid token (bad format or signature, disallowed alg, expired, not
// yet valid, wrong iss or aud, missing exp when required) gives an error
// that wraps authn.ErrInvalid with the reason. A token whose kid is not
// in the JWKS while the JWKS cannot be fetched gives an error that wraps
// authn.ErrUnavailable. The Identity's User is the claim set without
// token fields.
func (v *Verifier) Verify(ctx context.Context, token string) (authn.Identity, error) {
	h, err := parseHeader(token)
	if err != nil {
		return authn.Identity{}, err
	}
	if !slices.Contains(v.allowed, h.Alg) {
		return authn.Identity{}, invalid("alg %q not allowed", clip(h.Alg))
	}
	keys := v.static
	if v.jwks != nil {
		if keys, err = v.jwks.Keys(ctx, h.Alg, h.Kid); err != nil {
			return authn.Identity{}, fmt.Errorf("localjwt: %w", err)
		}
	}
	alg := algorithms[h.Alg].alg
	var payload []byte
	for _, k := range keys {
		// VerifyCompactFast pins both the key and the algorithm, refuses a
		// header whose alg differs, and refuses crit and b64 headers.
		if payload, err = jws.VerifyCompactFast(k.Key, []byte(token), alg); err == nil {
			break
		}
	}
	if err != nil {
		return authn.Identity{}, invalid("signature does not verify with alg %s", h.Alg)
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return authn.Identity{}, err
	}
	exp, err := v.checkClaims(claims, v.now())
	if err != nil {
		return authn.Identity{}, err
	}
	id := authn.Identity{Type: v.tokenType(claims), Exp: exp}
	id.SetUser(claims, v.log)
	return id, nil
}

// Close stops the background JWKS fetches, waits for them, and closes the
// connections of the HTTP client it made (not of Options.HTTPClient). It
// is idempotent; Verify keeps working with the keys already fetched.
func (v *Verifier) Close() error {
	v.closeOnce.Do(func() {
		if v.jwks != nil {
			v.jwks.Close()
		}
	})
	return nil
}
