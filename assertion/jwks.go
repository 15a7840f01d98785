package assertion

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// JWKSMaxAge is how long HTTP caches may keep the key set. A verifier
// that meets an unknown kid refetches at once; only a shared cache in
// between could hold the old set this long.
const JWKSMaxAge = 5 * time.Minute

// marshalSet returns the JSON of a key set holding keys, in their order.
func marshalSet(keys []publicKey) ([]byte, error) {
	set := jwk.NewSet()
	for _, k := range keys {
		if err := set.AddKey(k.jwk); err != nil {
			return nil, fmt.Errorf("assertion: key set: %w", err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("assertion: key set: %w", err)
	}
	return b, nil
}

// JWKS returns the public keys as a JSON Web Key Set: the signing key,
// then the other keys of the key file, each with kty, its public
// parameters, use "sig", alg and kid. It never holds private parameters.
func (s *Signer) JWKS() []byte { return slices.Clone(s.jwks) }

// JWKSHandler returns the handler of JWKSPath: GET and HEAD answer the key
// set as application/jwk-set+json with Cache-Control public for
// JWKSMaxAge and an ETag (a matching If-None-Match gets 304); other
// methods get 405. The gateway serves it without authentication: the
// keys are public.
func (s *Signer) JWKSHandler() http.Handler {
	sum := sha256.Sum256(s.jwks)
	return &jwksHandler{
		body: s.jwks,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`,
		cc:   fmt.Sprintf("public, max-age=%d", int(JWKSMaxAge/time.Second)),
	}
}

type jwksHandler struct {
	body     []byte
	etag, cc string
}

func (h *jwksHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/jwk-set+json")
	hd.Set("Cache-Control", h.cc)
	hd.Set("ETag", h.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	// ServeContent answers If-None-Match with 304, HEAD without a body,
	// and sets Content-Length.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.body))
}
