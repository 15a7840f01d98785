// Package csrf protects state-changing requests against cross-site request
// forgery (csrf.*, docs/security.md): a Fetch Metadata / Origin check
// and a session-bound double-submit token.
//
// # Two parts, two places in the pipeline
//
// [Protection.CheckOrigin] needs nothing but the request, so the gateway runs
// it early, before the token cascade: a forged request is refused before any
// backend call. It answers Pass, Fail (with a [Reason]) or NeedToken.
// [Protection.CheckToken] needs the session binding, so it runs after
// validation and refresh. The package decides; the caller responds (403
// {"success":false,"message":"CSRF validation failed.","code":"csrf"} through package
// respond, and the audit event csrf:fail with the reason). [Protection.Handler]
// does both with the empty binding, for library users without sessions.
//
// Strategies:
//   - fetch-metadata: the origin check alone. same-origin and none pass,
//     cross-site fails, same-site passes only with TrustSameSite, an Origin in
//     TrustedOrigins (or CORSOrigins) passes, and a request with neither
//     Sec-Fetch-Site nor Origin is not from a browser and passes. Without
//     Sec-Fetch-Site, an Origin that matches Host passes.
//   - double-submit: the token alone; CheckOrigin answers NeedToken for every
//     method that is not ignored.
//   - both (default): same-origin, trusted same-site and trusted origins pass;
//     cross-site, untrusted same-site and unknown Sec-Fetch-Site values fail;
//     no Sec-Fetch-Site, or none, needs the token. A CORS origin
//     (Options.CORSOrigins) counts as trusted for the Fetch Metadata check but,
//     under both, still needs the token.
//
// Methods in IgnoreMethods (GET, HEAD, OPTIONS by default) pass every check;
// they are compared case-insensitively (next-api-layer ignored lower-case
// entries).
//
// # Why net/http.CrossOriginProtection
//
// The Fetch Metadata decision is delegated to the standard library's
// [net/http.CrossOriginProtection] (Go 1.25+), whose semantics apilayer adopts:
// it is maintained with the browsers, handles the Origin-versus-Host fallback
// for browsers without Sec-Fetch-Site, and validates trusted origins with
// AddTrustedOrigin. Three things it does not do are done around it:
//   - TrustSameSite: CrossOriginProtection refuses every same-site request
//     whose Origin is not trusted, and has no switch for it. CheckOrigin lets
//     Sec-Fetch-Site: same-site pass itself when TrustSameSite is set, before
//     consulting it; otherwise the request goes to it and fails unless its
//     Origin was added with AddTrustedOrigin.
//   - Configurable safe methods: it always lets GET, HEAD and OPTIONS through.
//     CheckOrigin applies IgnoreMethods first; a GET that IgnoreMethods does
//     not list is asked about as if it were a POST.
//   - Strategy both: no Sec-Fetch-Site, or none, would pass there; here it
//     means NeedToken, decided before it is consulted. A CORS origin is not
//     added to it under both, so its requests reach the token check.
//
// Behind a proxy that rewrites Host, the Origin-versus-Host fallback (old
// browsers only) fails closed; list the public origin in TrustedOrigins.
//
// # Tokens
//
// A token is "<hex hmac>.<hex random>": 32 random bytes, and HMAC-SHA256
// keyed with the secret over a context string, the random value and the
// session binding, each length-prefixed. It is verified in constant time
// against the current secret and every previous one (rotation). The binding
// is the caller's: the user's id for an authenticated user, "" for guests and
// anonymous visitors. So a token minted for one user fails for another
// (next-api-layer's tokens were not bound), survives a token refresh, and is
// replaced at login and logout.
//
// [Protection.Ensure] issues the cookie to every visitor that lacks a token
// valid for its binding, guests and anonymous visitors included
// (next-api-layer issued it to logged-in users only), and leaves a valid one
// alone (next-api-layer rotated it on every response). The cookie is
// readable by script (not HttpOnly), SameSite=Strict, Path=/.
//
// An empty Secret makes a random per-process key: tokens then fail
// after a restart and across instances. The caller warns about it; the
// gateway's configuration refuses it with the Redis store.
package csrf
