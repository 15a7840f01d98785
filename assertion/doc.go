// Package assertion signs and verifies the gateway's identity assertions:
// a short-lived JWS that tells the web app who the visitor is, so that the
// app can trust it even when requests may reach it by other paths than the
// gateway (docs/signed-identity.md). The gateway signs with identity.sign;
// the keys are in identity.keyFile.
//
// # The assertion
//
// Every request the gateway forwards to the web app with an identity (a
// signed-in user or a guest; anonymous visitors get none) carries a
// compact JWS in the identity.header request header (X-Auth-Assertion):
//
//	header  {"alg":"EdDSA","kid":"<RFC 7638 thumbprint>","typ":"JWT"}
//	claims  {"iss":"apilayer","aud":"https://app.example.com","iat":…,"exp":…,
//	         "sub":"42","typ":"user","locale":"en","user":{…the X-Auth-User object…}}
//
// sub is the user id as text ([UserID]), typ the token type (user, guest,
// ...), user the object of X-Auth-User. aud defaults to upstream.url
// without a trailing slash. exp is iat + identity.ttl (default 60s). The
// algorithms are EdDSA (Ed25519, the default), ES256 (P-256) and RS256.
//
// # Signing: Signer
//
// [NewSigner] reads the PEM key of identity.keyFile (or generates one,
// which [Signer.Generated] reports). [Signer.Sign] returns the token of
// one identity. Tokens are reused: the same identity (user JSON, type,
// locale) gets the same token until half its lifetime has passed, from a
// bounded cache keyed by a seeded 64-bit hash and confirmed by comparing
// the identity, so the steady state costs a hash and a map lookup per
// request and never a signature. [Signer.JWKSHandler] serves the public
// keys at JWKSPath.
//
// # Verifying: Verifier and Middleware
//
// A Go web app verifies with a [Verifier] built from the gateway's JWKS URL
// or its PEM public key. The algorithm is pinned (the token cannot choose
// "none", nor HS256 with the public key as the secret), iss must be
// "apilayer", aud must name VerifierOptions.Audience when set, and exp
// and iat are checked with a small leeway. A JWKS is fetched once, and
// again when a token names an unknown kid (at most once per MinRefetch,
// shared by concurrent callers) or once it is older than MaxAge; keys are
// never logged. [Middleware] puts the verified [Claims] in the request
// context ([FromContext]) and refuses, or with Optional lets through as
// anonymous, requests without a valid assertion.
//
// JavaScript servers verify the same tokens with @apilayer/next
// (APILAYER_JWKS_URL or APILAYER_PUBLIC_KEY).
package assertion
