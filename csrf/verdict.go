package csrf

// Outcome is what the origin check decided. The zero value is Fail, so a
// forgotten assignment refuses rather than lets through.
type Outcome uint8

const (
	// Fail: refuse the request (403, audit csrf:fail with the reason).
	Fail Outcome = iota
	// Pass: the request may go on without a token.
	Pass
	// NeedToken: the decision rests on the double-submit token, checked
	// after validation with the session binding.
	NeedToken
)

// String returns "fail", "pass" or "need-token".
func (o Outcome) String() string {
	switch o {
	case Pass:
		return "pass"
	case NeedToken:
		return "need-token"
	default:
		return "fail"
	}
}

// Verdict is the result of [Protection.CheckOrigin].
type Verdict struct {
	Outcome Outcome
	Reason  Reason // set when Outcome is Fail
}

// Reason says why a request failed. It is meant for the audit event
// csrf:fail (metadata) and for logs, never for the client. A Reason is also
// the error that [Protection.CheckToken] and [Protection.Check] return; use
// errors.As to get it back, and string(reason) for the audit metadata
// (fmt prints a Reason through Error, with the "csrf: " prefix).
type Reason string

// Reasons of the origin check.
const (
	// ReasonCrossSite: Sec-Fetch-Site: cross-site from an untrusted origin.
	ReasonCrossSite Reason = "cross-site-request"
	// ReasonSameSite: Sec-Fetch-Site: same-site without TrustSameSite, from
	// an untrusted origin.
	ReasonSameSite Reason = "same-site-not-trusted"
	// ReasonUnknownSite: a Sec-Fetch-Site value that no browser sends.
	ReasonUnknownSite Reason = "unknown-sec-fetch-site"
	// ReasonOriginMismatch: no Sec-Fetch-Site (an old browser) and an Origin
	// that neither matches Host nor is trusted (StrategyFetchMetadata only).
	ReasonOriginMismatch Reason = "origin-mismatch"
)

// Reasons of the token check.
const (
	ReasonMissingCookie Reason = "missing-cookie" // no token cookie, or an empty one
	ReasonMissingHeader Reason = "missing-header" // no token header, or an empty one
	ReasonMismatch      Reason = "mismatch"       // the header repeats no token cookie
	ReasonBadFormat     Reason = "bad-format"     // not "<64 hex>.<64 hex>"
	ReasonBadSignature  Reason = "bad-signature"  // not signed for this binding by any secret
)

// Error implements error: "csrf: <reason>".
func (r Reason) Error() string { return "csrf: " + string(r) }
