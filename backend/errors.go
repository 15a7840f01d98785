package backend

import (
	"errors"
	"fmt"

	"github.com/apilayer/apilayer/authn"
)

// ErrInvalid is returned by Validate when the backend answered that the
// token is not valid: a 4xx, or a 2xx that the mapping rejects (not JSON,
// success false, the user not an object). It is authn.ErrInvalid.
var ErrInvalid = authn.ErrInvalid

// ErrUnavailable is wrapped by every error that means the backend could not
// be asked: timeout, connection error, 5xx or 429. It is not an answer about
// the token, so callers must not log anybody out because of it. It is
// authn.ErrUnavailable.
var ErrUnavailable = authn.ErrUnavailable

// ErrBadResponse is wrapped by Login and Register when the backend's answer
// is not a JSON object (or is larger than the response size cap).
var ErrBadResponse = errors.New("backend: bad response")

// Reason classifies a failed refresh: authn.Reason.
type Reason = authn.Reason

// The refresh failure reasons.
const (
	ReasonReuse   = authn.ReasonReuse   // status in ReuseStatusCodes or code in ReuseCodes
	ReasonExpired = authn.ReasonExpired // 401
	ReasonRevoked = authn.ReasonRevoked // 403
	ReasonNetwork = authn.ReasonNetwork // the backend was unavailable (wraps ErrUnavailable)
	ReasonUnknown = authn.ReasonUnknown // anything else, including a 2xx without a token
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
