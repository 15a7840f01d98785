package backend

import (
	"errors"
	"fmt"
)

// ErrInvalid is returned by Validate when the backend answered that the
// token is not valid: a 4xx, or a 2xx that the mapping rejects (not JSON,
// success false, the user not an object).
var ErrInvalid = errors.New("backend: token invalid")

// ErrUnavailable is wrapped by every error that means the backend could not
// be asked: timeout, connection error, 5xx or 429. It is not an answer about
// the token, so callers must not log anybody out because of it.
var ErrUnavailable = errors.New("backend: unavailable")

// ErrBadResponse is wrapped by Login and Register when the backend's answer
// is not a JSON object (or is larger than the response size cap).
var ErrBadResponse = errors.New("backend: bad response")

// Reason classifies a failed refresh (SPEC.md section 4.3).
type Reason string

// The refresh failure reasons.
const (
	ReasonReuse   Reason = "reuse"   // status in ReuseStatusCodes or code in ReuseCodes
	ReasonExpired Reason = "expired" // 401
	ReasonRevoked Reason = "revoked" // 403
	ReasonNetwork Reason = "network" // the backend was unavailable (wraps ErrUnavailable)
	ReasonUnknown Reason = "unknown" // anything else, including a 2xx without a token
)

// RefreshError is the error of a failed Refresh.
type RefreshError struct {
	Reason Reason
	Status int   // the backend's status; 0 when it did not answer
	Err    error // the cause, if any; wraps ErrUnavailable for ReasonNetwork
}

func (e *RefreshError) Error() string {
	s := "backend: refresh failed: " + string(e.Reason)
	if e.Status != 0 {
		s += fmt.Sprintf(" (status %d)", e.Status)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause, so errors.Is(err, ErrUnavailable) holds for a
// ReasonNetwork failure.
func (e *RefreshError) Unwrap() error { return e.Err }
