package assertion

import (
	"cmp"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apilayer/apilayer/internal/jwks"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Defaults of VerifierOptions.
const (
	DefaultLeeway     = 5 * time.Second
	DefaultMinRefetch = 30 * time.Second
	DefaultMaxAge     = 10 * time.Minute
)

// maxTokenLen bounds the assertions Verify reads: the user object is
// under 12 KiB, so a valid assertion is well under it.
const maxTokenLen = 64 << 10

// VerifierOptions configures NewVerifier. Exactly one of JWKSURL and
// PublicKeyPEM must be set.
type VerifierOptions struct {
	// JWKSURL is the gateway's key set, such as
	// https://app.example.com/_apilayer/jwks.json. It is fetched by
	// NewVerifier, refetched when an assertion names a kid it lacks (at
	// most once per MinRefetch) and in the background once older than
	// MaxAge.
	JWKSURL string
	// PublicKeyPEM holds the gateway's public keys as PEM "PUBLIC KEY"
	// blocks (one, or several during a key rotation); a CERTIFICATE's key
	// is used too. Private keys are refused.
	PublicKeyPEM []byte

	// Algorithms are the accepted algorithms, among EdDSA, ES256 and
	// RS256. If empty, all three; a key is only ever used with its own.
	Algorithms []string
	// Issuer is the iss the assertion must carry. Empty means "apilayer".
	Issuer string
	// Audience, when set, must be the aud (or one of its values): the
	// gateway's identity.audience, by default its upstream.url without
	// a trailing slash. Empty: aud is not checked.
	Audience string
	// Leeway is the clock skew allowed on exp, iat and nbf. Zero means
	// DefaultLeeway.
	Leeway time.Duration

	// MinRefetch is the least time between two fetches of JWKSURL caused
	// by unknown kids. Zero means DefaultMinRefetch.
	MinRefetch time.Duration
	// MaxAge is the age from which the key set is refetched in the
	// background. Zero means DefaultMaxAge.
	MaxAge time.Duration
	// HTTPClient fetches JWKSURL; it is yours to close. If nil, a client
	// with a 10s timeout and its own connections, which Close closes.
	HTTPClient *http.Client

	// Now is the clock. If nil, time.Now is used.
	Now func() time.Time
	// Logger receives key set fetch failures (the URL without its
	// password, never a key nor a token). If nil, nothing is logged.
	Logger *slog.Logger
}

// Verifier checks assertions for a web app that the gateway forwards to,
// when the app is also reachable some other way (an internal network, a
// second ingress) and must not believe X-Auth-User on its own. It is
// safe for concurrent use; Close it when done.
type Verifier struct {
	allowed []string
	static  jwks.Keys   // PublicKeyPEM; nil with a JWKS
	remote  *jwks.Cache // JWKSURL; nil with a PEM
	check   checker
	now     func() time.Time
	once    sync.Once
}

// NewVerifier checks o and returns a Verifier. With JWKSURL it fetches the
// key set once, bounded by ctx: a failure is logged, not returned (the
// gateway may start after the app), and the fetch is retried when an
// assertion needs it.
func NewVerifier(ctx context.Context, o VerifierOptions) (*Verifier, error) {
	v := &Verifier{
		allowed: slices.Clone(o.Algorithms),
		check:   checker{issuer: o.Issuer, audience: o.Audience, leeway: o.Leeway},
		now:     o.Now,
	}
	if len(v.allowed) == 0 {
		v.allowed = Algorithms()
	}
	if v.check.issuer == "" {
		v.check.issuer = Issuer
	}
	if v.check.leeway == 0 {
		v.check.leeway = DefaultLeeway
	}
	if v.now == nil {
		v.now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if (o.JWKSURL == "") == (len(o.PublicKeyPEM) == 0) {
		errs = append(errs, errors.New("assertion: set exactly one of JWKSURL and PublicKeyPEM"))
	}
	for _, a := range v.allowed {
		if !ValidAlgorithm(a) {
			errs = append(errs, fmt.Errorf("assertion: algorithms: unknown algorithm %q (want EdDSA, ES256 or RS256)", a))
		}
	}
	if o.Leeway < 0 || o.MinRefetch < 0 || o.MaxAge < 0 {
		errs = append(errs, errors.New("assertion: Leeway, MinRefetch and MaxAge must not be negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	if len(o.PublicKeyPEM) > 0 {
		s, err := v.parsePublic(o.PublicKeyPEM)
		if err != nil {
			return nil, err
		}
		v.static = s
		return v, nil
	}
	u, err := url.Parse(o.JWKSURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("assertion: JWKSURL must be an absolute http(s) URL")
	}
	// The cache refetches the set when an assertion names a kid it lacks,
	// at most once per MinRefetch (made-up kids cannot make the verifier
	// hammer the gateway), and in the background once older than MaxAge
	// (a key the gateway dropped stops verifying).
	v.remote = jwks.New(jwks.Options{
		URL:        o.JWKSURL,
		Algorithms: v.allowed,
		Fits: func(alg string, key crypto.PublicKey) bool {
			a, err := algorithmOf(key) // a key is only ever used with its own
			return err == nil && a == alg
		},
		MinRefetch:  cmp.Or(o.MinRefetch, DefaultMinRefetch),
		MaxAge:      cmp.Or(o.MaxAge, DefaultMaxAge),
		HTTPClient:  o.HTTPClient,
		Now:         v.now,
		Logger:      log,
		Invalid:     ErrInvalid,
		Unavailable: ErrUnavailable,
	})
	// A failure is logged and not fatal: the gateway may start after the
	// app, and the fetch is retried when an assertion needs it.
	_ = v.remote.Fetch(ctx)
	return v, nil
}

// parsePublic reads the PEM public keys; each must fit an allowed
// algorithm.
func (v *Verifier) parsePublic(data []byte) (jwks.Keys, error) {
	var s jwks.Keys
	for rest, i := data, 1; ; i++ {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		var (
			pub any
			err error
		)
		switch b.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(b.Bytes); err == nil {
				pub = cert.PublicKey
			}
		default:
			if strings.Contains(b.Type, "PRIVATE") {
				return nil, fmt.Errorf("assertion: public key: block %d is a %s; give the public key only", i, b.Type)
			}
			return nil, fmt.Errorf("assertion: public key: block %d: unsupported PEM block %q (want PUBLIC KEY)", i, b.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("assertion: public key: block %d: %w", i, err)
		}
		alg, err := algorithmOf(pub)
		if err != nil {
			return nil, fmt.Errorf("assertion: public key: block %d: %w", i, err)
		}
		if !slices.Contains(v.allowed, alg) {
			return nil, fmt.Errorf("assertion: public key: block %d is %s, for %s, which Algorithms does not allow", i, describeKey(pub), alg)
		}
		pk, err := newPublicKey(pub, alg)
		if err != nil {
			return nil, err
		}
		s = append(s, jwks.Key{KID: pk.kid, Key: pub, Algs: []string{alg}})
	}
	if len(s) == 0 {
		return nil, errors.New("assertion: public key: no PEM block found")
	}
	return s, nil
}

// header is the part of the protected header Verify reads to pick a key.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// Verify checks an assertion and returns its claims. The algorithm is
// pinned: the header's alg must be allowed, and the signature is checked
// with that algorithm and a trusted key made for it, so "none" and HS256
// signed with the public key are refused. iss must be the Issuer, aud
// must name the Audience when one is set, exp and iat are required and
// checked with the leeway, nbf when present, and typ must be set.
//
// The error wraps ErrInvalid for an assertion that is not valid, and
// ErrUnavailable when its key is not known and the key set cannot be
// fetched. A cancelled ctx (waiting for a fetch) gives its cause. Errors
// never contain the token.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > maxTokenLen {
		return nil, invalid("longer than %d bytes", maxTokenLen)
	}
	h64, _, ok := strings.Cut(token, ".")
	if !ok || strings.Count(token, ".") != 2 {
		return nil, invalid("not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(h64)
	if err != nil {
		return nil, invalid("header is not base64url")
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, invalid("header is not a JSON object with string alg and kid")
	}
	if !slices.Contains(v.allowed, h.Alg) {
		return nil, invalid("alg %q not allowed", clip(h.Alg))
	}
	var keys []jwks.Key
	if v.static != nil {
		if keys = v.static.Find(h.Alg, h.Kid); len(keys) == 0 {
			// The kid is the key's thumbprint; a verifier given the PEM
			// still tries its keys of that alg should the ids differ.
			keys = v.static.Find(h.Alg, "")
		}
	} else if keys, err = v.remote.Keys(ctx, h.Alg, h.Kid); err != nil {
		return nil, fmt.Errorf("assertion: %w", err)
	}
	var (
		payload []byte
		used    jwks.Key
	)
	err = invalid("no key for alg %s", h.Alg)
	for _, k := range keys {
		// VerifyCompactFast checks that the header's alg is the one given,
		// and refuses crit and b64 headers.
		if payload, err = jws.VerifyCompactFast(k.Key, []byte(token), jwaOf(h.Alg)); err == nil {
			used = k
			break
		}
	}
	if err != nil {
		return nil, invalid("signature does not verify with alg %s", h.Alg)
	}
	c, err := v.check.check(payload, v.now())
	if err != nil {
		return nil, err
	}
	c.KeyID = used.KID
	return c, nil
}

// Close stops the background key set fetches, waits for them, and closes
// the connections of the HTTP client it made (not of
// VerifierOptions.HTTPClient). It is idempotent; Verify keeps working
// with the keys already fetched.
func (v *Verifier) Close() error {
	v.once.Do(func() {
		if v.remote != nil {
			v.remote.Close()
		}
	})
	return nil
}
