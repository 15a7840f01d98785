package assertion

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
)

// Claims are the claims of a verified assertion.
type Claims struct {
	// Subject is the user id (sub): the user object's id, else its sub,
	// else its email, as text; empty when the user has none of them.
	Subject string
	// Type is the token type (typ): user, guest, or another type of the
	// backend. Never empty.
	Type string
	// User is the user object (user), as the gateway sends it in
	// X-Auth-User, with numbers as json.Number; nil when the assertion
	// has none. Treat it as read-only.
	User map[string]any
	// Locale is the request's locale (locale); empty when unknown.
	Locale string
	// Issuer is iss, Audience the values of aud (empty when absent).
	Issuer   string
	Audience []string
	// IssuedAt and Expiry are iat and exp.
	IssuedAt time.Time
	Expiry   time.Time
	// KeyID is the kid of the key that verified the signature.
	KeyID string
}

// IsGuest reports whether the assertion is a guest's (typ "guest").
func (c *Claims) IsGuest() bool { return c != nil && c.Type == "guest" }

// Authenticated reports whether the assertion is a signed-in user's: it
// has a user object and is not a guest's.
func (c *Claims) Authenticated() bool { return c != nil && c.User != nil && c.Type != "guest" }

// Errors of Verify. Every error of Verify wraps one of them.
var (
	// ErrInvalid: the assertion is not valid (malformed, bad signature,
	// disallowed algorithm, expired, wrong iss or aud, unknown kid).
	ErrInvalid = errors.New("assertion: invalid")
	// ErrUnavailable: the assertion names a key that is not in the key
	// set, and the key set cannot be fetched; it may be valid.
	ErrUnavailable = errors.New("assertion: key set unavailable")
)

// invalid returns an error that wraps ErrInvalid with a reason. Reasons
// never contain the token.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// clip shortens an attacker-controlled value for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// decodeObject decodes a JSON object, numbers as json.Number, with
// nothing after it.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not an object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the object")
	}
	return m, nil
}

// checker holds what Verify checks the claims against.
type checker struct {
	issuer   string
	audience string
	leeway   time.Duration
}

// check reads and checks the claims of a verified payload at now.
func (ck checker) check(payload []byte, now time.Time) (*Claims, error) {
	m, err := decodeObject(payload)
	if err != nil {
		return nil, invalid("payload is not a JSON object")
	}
	c := &Claims{}
	var ok bool
	if c.Issuer, ok = m["iss"].(string); !ok || c.Issuer != ck.issuer {
		return nil, invalid("iss is not %q", ck.issuer)
	}
	if c.Audience, err = audience(m["aud"]); err != nil {
		return nil, err
	}
	if ck.audience != "" && !slices.Contains(c.Audience, ck.audience) {
		return nil, invalid("aud does not name %q", clip(ck.audience))
	}
	if c.Expiry, err = numericDate(m, "exp", true); err != nil {
		return nil, err
	}
	if !now.Before(c.Expiry.Add(ck.leeway)) {
		return nil, invalid("expired")
	}
	if c.IssuedAt, err = numericDate(m, "iat", true); err != nil {
		return nil, err
	}
	if c.IssuedAt.After(now.Add(ck.leeway)) {
		return nil, invalid("iat is in the future")
	}
	nbf, err := numericDate(m, "nbf", false)
	if err != nil {
		return nil, err
	}
	if !nbf.IsZero() && nbf.After(now.Add(ck.leeway)) {
		return nil, invalid("not valid yet (nbf)")
	}
	if c.Type, ok = m["typ"].(string); !ok || c.Type == "" {
		return nil, invalid("typ is missing")
	}
	if v, present := m["sub"]; present {
		if c.Subject, ok = v.(string); !ok {
			return nil, invalid("sub is not a string")
		}
	}
	if v, present := m["locale"]; present {
		if c.Locale, ok = v.(string); !ok {
			return nil, invalid("locale is not a string")
		}
	}
	if v := m["user"]; v != nil {
		if c.User, ok = v.(map[string]any); !ok {
			return nil, invalid("user is not an object")
		}
	}
	return c, nil
}

// audience reads aud: absent, a string, or an array of strings.
func audience(v any) ([]string, error) {
	switch a := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{a}, nil
	case []any:
		out := make([]string, 0, len(a))
		for _, x := range a {
			s, ok := x.(string)
			if !ok {
				return nil, invalid("aud holds a non-string")
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, invalid("aud is neither a string nor an array")
	}
}

// numericDate reads the NumericDate claim name (seconds since the epoch,
// possibly fractional). Absent: the zero time, or an error if required.
func numericDate(m map[string]any, name string, required bool) (time.Time, error) {
	v, present := m[name]
	if !present {
		if required {
			return time.Time{}, invalid("%s is missing", name)
		}
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, invalid("%s is not a number", name)
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil && i >= 0 && i < 1<<40 {
		return time.Unix(i, 0), nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f >= 1<<40 {
		return time.Time{}, invalid("%s is out of range", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}
