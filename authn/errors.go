package authn

import "errors"

// ErrInvalid is the verdict "this token is not valid": the backend answered
// so (a 4xx, or a 2xx that backend.mapping rejects), or a local JWT check
// failed.
var ErrInvalid = errors.New("authn: token invalid")

// ErrUnavailable is wrapped by every error that means the token could not
// be checked: the backend timed out, refused the connection, answered 5xx
// or 429, or its breaker is open; a JWKS could not be fetched. It is not an
// answer about the token: nobody is logged out because of it.
var ErrUnavailable = errors.New("authn: unavailable")

// Reason classifies a failed refresh.
type Reason string

// The refresh failure reasons (docs/token-management.md).
const (
	ReasonReuse   Reason = "reuse"   // refresh.reuseStatusCodes or refresh.reuseCodes: the session ends everywhere
	ReasonExpired Reason = "expired" // 401
	ReasonRevoked Reason = "revoked" // 403
	ReasonNetwork Reason = "network" // the backend was unavailable (wraps ErrUnavailable)
	ReasonUnknown Reason = "unknown" // anything else, including a 2xx without a token
)
