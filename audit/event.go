package audit

import (
	"encoding/json"
	"fmt"
	"time"
)

// The event types.
const (
	TypeAuthSuccess       = "auth:success"
	TypeAuthFail          = "auth:fail"
	TypeAuthGuest         = "auth:guest"
	TypeAuthRefresh       = "auth:refresh"
	TypeAuthRefreshFail   = "auth:refresh:fail"
	TypeAuthReuse         = "auth:reuse"
	TypeAccessDenied      = "access:denied"
	TypeCSRFFail          = "csrf:fail"
	TypeRateLimitExceeded = "rateLimit:exceeded"
	TypeError             = "error"
)

// Types returns every event type.
func Types() []string {
	return []string{
		TypeAuthSuccess, TypeAuthFail, TypeAuthGuest, TypeAuthRefresh, TypeAuthRefreshFail,
		TypeAuthReuse, TypeAccessDenied, TypeCSRFFail, TypeRateLimitExceeded, TypeError,
	}
}

// DefaultEvents returns the types enabled by default: every type but
// auth:guest, which would record most anonymous page views.
func DefaultEvents() []string {
	return []string{
		TypeAuthSuccess, TypeAuthFail, TypeAuthRefresh, TypeAuthRefreshFail, TypeAuthReuse,
		TypeAccessDenied, TypeCSRFFail, TypeRateLimitExceeded, TypeError,
	}
}

// Event is one audit record. Its JSON form is
//
//	{"type":"auth:fail","timestamp":"2026-11-26T20:01:02.345Z","ip":"192.0.2.7",
//	 "userId":"42","path":"/dashboard","method":"GET","success":false,
//	 "requestId":"k3x...","metadata":{"reason":"invalid-token"}}
//
// with the timestamp in RFC 3339, UTC, with milliseconds. userId, requestId
// and metadata are left out when empty; the other fields are always there.
type Event struct {
	Type      string
	Timestamp time.Time // zero: set by Emit
	IP        string
	UserID    string
	Path      string
	Method    string
	Success   bool
	RequestID string
	// Metadata must hold JSON-encodable values and no secret (no token,
	// cookie, password). Emit takes ownership of the map.
	Metadata map[string]any
}

// TimeFormat is the layout of Event timestamps, applied to UTC times.
const TimeFormat = "2006-01-02T15:04:05.000Z"

type wireEvent struct {
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	IP        string         `json:"ip"`
	UserID    string         `json:"userId,omitempty"`
	Path      string         `json:"path"`
	Method    string         `json:"method"`
	Success   bool           `json:"success"`
	RequestID string         `json:"requestId,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
}

// MarshalJSON encodes e in the documented shape (see [Event.AppendJSON]).
func (e Event) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(nil)
}

// UnmarshalJSON decodes the documented shape (for consumers and tests).
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	ts, err := time.Parse(time.RFC3339Nano, w.Timestamp)
	if err != nil {
		return fmt.Errorf("audit: event timestamp: %w", err)
	}
	*e = Event{
		Type: w.Type, Timestamp: ts, IP: w.IP, UserID: w.UserID, Path: w.Path,
		Method: w.Method, Success: w.Success, RequestID: w.RequestID, Metadata: w.Metadata,
	}
	return nil
}
