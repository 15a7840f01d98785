package jwks

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Limits of a key set document.
const (
	maxBytes = 1 << 20 // body size
	maxKeys  = 100     // keys in the set
)

// download fetches and parses the set. A set without a usable key is an
// error: a server that briefly serves no keys must not make every token
// invalid.
func (c *Cache) download(ctx context.Context) (*set, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	res, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: fetch: %w", err) // net/http strips URL passwords
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
		return nil, fmt.Errorf("jwks: fetch: status %d", res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks: read: %w", err)
	}
	if len(body) > maxBytes {
		return nil, fmt.Errorf("jwks: key set larger than %d bytes", maxBytes)
	}
	parsed, err := jwk.Parse(body,
		jwk.WithStrictKeySetParsing(false), jwk.WithIgnoreParseError(true), jwk.WithMaxKeys(maxKeys))
	if err != nil {
		return nil, fmt.Errorf("jwks: parse: %w", err)
	}
	s := &set{fetched: c.now()}
	for i := range parsed.Len() {
		k, _ := parsed.Key(i)
		if u, ok := k.KeyUsage(); ok && u != "sig" {
			continue
		}
		pub, err := jwk.PublicRawKeyOf(k)
		if err != nil {
			continue // a symmetric or unsupported key: never used from a JWKS
		}
		algs := slices.DeleteFunc(slices.Clone(c.algs), func(a string) bool { return !c.fits(a, pub) })
		if a, ok := k.Algorithm(); ok {
			// A key that names its algorithm is used with that one only.
			algs = slices.DeleteFunc(algs, func(n string) bool { return n != a.String() })
		}
		if len(algs) == 0 {
			continue
		}
		kid, _ := k.KeyID()
		s.keys = append(s.keys, Key{KID: kid, Key: pub, Algs: algs})
	}
	if len(s.keys) == 0 {
		return nil, fmt.Errorf("jwks: no key usable with algorithms %v", c.algs)
	}
	return s, nil
}

// redact removes the password of a URL, for logs.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}
