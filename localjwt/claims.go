package localjwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apilayer/apilayer/authn"
)

// maxTokenLen bounds the tokens Verify looks at. Cookies cannot hold more
// than about 4 KiB; an Authorization header could, so a limit keeps huge
// inputs from costing base64 and JSON work.
const maxTokenLen = 64 << 10

// header is the part of the JOSE header Verify reads before it picks a key.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// parseHeader decodes the protected header of a compact JWS.
func parseHeader(token string) (header, error) {
	if len(token) > maxTokenLen {
		return header{}, invalid("token longer than %d bytes", maxTokenLen)
	}
	if strings.Count(token, ".") != 2 {
		return header{}, invalid("not a compact JWS")
	}
	h64, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h64)
	if err != nil {
		return header{}, invalid("header is not base64url")
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return header{}, invalid("header is not a JSON object with a string alg")
	}
	return h, nil
}

// invalid returns an error that wraps authn.ErrInvalid with a reason. The
// reason never contains the token.
func invalid(format string, args ...any) error {
	return fmt.Errorf("localjwt: %s: %w", fmt.Sprintf(format, args...), authn.ErrInvalid)
}

// clip shortens an attacker-controlled header value for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// claims decodes a verified payload: a JSON object, numbers as json.Number.
func decodeClaims(payload []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var c map[string]any
	if err := dec.Decode(&c); err != nil || c == nil {
		return nil, invalid("payload is not a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("payload has data after the JSON object")
	}
	return c, nil
}

// numericDate reads the NumericDate claim name. It reports ok false when
// the claim is absent and an error when it is present but not a number.
func numericDate(c map[string]any, name string) (t time.Time, ok bool, err error) {
	v, ok := c[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return time.Time{}, true, invalid("%s is not a number", name)
	}
	f, perr := strconv.ParseFloat(string(n), 64)
	if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, true, invalid("%s is not a number", name)
	}
	// Clamp absurd values so that they stay absurd instead of overflowing.
	f = max(min(f, 1<<40), -(1 << 40))
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// checkClaims validates the registered claims of c at now.
func (v *Verifier) checkClaims(c map[string]any, now time.Time) (exp time.Time, err error) {
	exp, hasExp, err := numericDate(c, "exp")
	if err != nil {
		return time.Time{}, err
	}
	if !hasExp && v.requireExp {
		return time.Time{}, invalid("exp missing")
	}
	if hasExp && !now.Before(exp.Add(v.leeway)) {
		return time.Time{}, invalid("token expired")
	}
	nbf, ok, err := numericDate(c, "nbf")
	if err != nil {
		return time.Time{}, err
	}
	if ok && now.Add(v.leeway).Before(nbf) {
		return time.Time{}, invalid("token not valid yet (nbf)")
	}
	iat, ok, err := numericDate(c, "iat")
	if err != nil {
		return time.Time{}, err
	}
	if ok && now.Add(v.leeway).Before(iat) {
		return time.Time{}, invalid("token issued in the future (iat)")
	}
	if v.issuer != "" {
		if iss, _ := c["iss"].(string); iss != v.issuer {
			return time.Time{}, invalid("wrong issuer")
		}
	}
	if v.audience != "" && !hasAudience(c["aud"], v.audience) {
		return time.Time{}, invalid("wrong audience")
	}
	return exp, nil
}

// hasAudience reports whether aud (a string or an array of strings) names
// want.
func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, e := range a {
			if s, ok := e.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}

// tokenType reads the token type: the configured claim, then token_type,
// else "user".
func (v *Verifier) tokenType(c map[string]any) string {
	for _, name := range [...]string{v.typeClaim, "token_type"} {
		if s, ok := c[name].(string); ok && s != "" {
			return s
		}
	}
	return "user"
}
