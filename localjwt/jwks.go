package localjwt

import (
	"cmp"
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/internal/jwks"
)

// setJWKS checks the URL and the algorithms, and does the first fetch.
// The cache (internal/jwks) refetches the set when a token names a key it
// lacks, at most once per MinRefetch, and in the background once it is
// older than MaxAge; a JWKS key is used only with the allowed algorithms
// that fit its type and curve.
func (v *Verifier) setJWKS(ctx context.Context, o Options) error {
	u, err := url.Parse(o.JWKSURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("localjwt: JWKSURL must be an absolute http(s) URL")
	}
	var errs []error
	for _, name := range v.allowed {
		if strings.HasPrefix(name, "HS") {
			errs = append(errs, fmt.Errorf("localjwt: algorithms: %s does not fit a JWKS (a JWKS takes RS*, PS*, ES* or EdDSA)", name))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	v.jwks = jwks.New(jwks.Options{
		URL:         o.JWKSURL,
		Algorithms:  v.allowed,
		Fits:        func(alg string, key crypto.PublicKey) bool { return algorithms[alg].fit(key) },
		MinRefetch:  cmp.Or(o.MinRefetch, DefaultMinRefetch),
		MaxAge:      cmp.Or(o.MaxAge, DefaultMaxAge),
		HTTPClient:  o.HTTPClient,
		Now:         v.now,
		Logger:      v.log,
		Invalid:     authn.ErrInvalid,
		Unavailable: authn.ErrUnavailable,
	})
	// A failure is logged and not fatal: the IdP may start later, and
	// the fetch is retried when a token needs it.
	_ = v.jwks.Fetch(ctx)
	return nil
}
