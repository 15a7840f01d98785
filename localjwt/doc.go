// Package localjwt verifies JWTs locally, for validate.mode "local"
// (docs/token-management.md): no call to the JWT backend is ever made.
//
// A Verifier has exactly one key source: an HMAC secret, a PEM public key
// (RSA, ECDSA P-256/P-384/P-521, Ed25519) or a JWKS URL. Verify returns a
// authn.Identity, so the session layer treats both validation modes
// alike: the user object is the claim set without token fields, the type
// comes from the "type" claim (configurable), then "token_type", else
// "user".
//
// # What it fixes in next-api-layer (docs/security.md)
//
//   - The algorithm is never taken from the token. The header's alg must be
//     in Options.Algorithms, every listed algorithm must fit the key (New
//     fails otherwise), and the signature is checked with
//     jws.VerifyCompactFast, which pins the key and the algorithm and
//     refuses a header whose alg differs. So "alg: none" and RS/HS
//     confusion (an HS256 token MACed with the public key's bytes) fail.
//     Tokens with "crit" or "b64" headers are refused.
//   - exp, nbf and iat are checked, with Options.Leeway; a token without
//     exp is refused when Options.RequireExp is set. iss and aud are
//     checked when configured.
//
// # JWKS
//
// The key set is kept by the gateway's own small cache (internal/jwks,
// shared with the signed-identity Verifier of package assertion) instead
// of jwk.Cache (httprc): the gateway needs behaviour that jwk.Cache does
// not give and that must be testable with an injected clock:
//
//   - a token whose kid is unknown triggers one refetch, and such refetches
//     happen at most once per Options.MinRefetch whatever the number of
//     tokens (an attacker sending random kids cannot make the gateway
//     hammer the IdP); concurrent callers share one fetch;
//   - "the IdP is down" is told apart from "the kid is unknown": when the
//     last fetch failed, an unknown kid is authn.ErrUnavailable (users are
//     not logged out because the IdP blinked); a kid that a successfully
//     fetched set lacks is authn.ErrInvalid;
//   - a failed fetch, an empty set or a set without a usable key keeps the
//     last good set; a first fetch failure in New is not fatal;
//   - a set older than Options.MaxAge is refetched in the background when a
//     Verify notices it, so a key removed by the IdP stops verifying. There
//     is no ticker: fetch goroutines are started on demand, owned by the
//     Verifier, and stopped by Close.
//
// A JWKS key is used only with the allowed algorithms that fit its type
// (and curve); a key that names its alg is used with that alg only; keys
// whose use is not "sig" and symmetric keys are ignored.
//
// Errors wrap authn.ErrInvalid or authn.ErrUnavailable with a reason for
// debug logs; they never contain the token. A cancelled caller gets its
// context's error.
package localjwt
