package backend

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"github.com/apilayer/apilayer/internal/jsonpointer"
	"log/slog"
	"math"
	"strconv"
	"time"
)

// Identity is what the backend says about a valid token.
//
// Its user object never contains tokens: the values at the mapping's
// accessToken and refreshToken pointers (when they point inside the user
// object) and the fields named token, accessToken, refreshToken,
// access_token and refresh_token, at any depth, are removed.
type Identity struct {
	// Type is the token type at mapping.tokenType; "user" when missing.
	Type string `json:"type"`
	// User is the user object at mapping.user with every token removed.
	// Numbers are json.Number. Treat it as read-only: it may be shared.
	User map[string]any `json:"user"`
	// UserJSON is the JSON encoding of User, reduced to the keys id, sub,
	// email, name, type, role and roles when the whole object would take
	// 16 KiB or more (SPEC.md section 4.4).
	UserJSON json.RawMessage `json:"userJSON"`
	// Header is UserJSON in standard base64, the value of X-Auth-User,
	// encoded once when the identity is made rather than on every request.
	// It is not stored (an identity read back from a shared cache has it
	// empty; HeaderValue encodes it then).
	Header string `json:"-"`
	// Exp is the token's expiry from mapping.expiresAt; zero when unknown.
	Exp time.Time `json:"exp"`
}

// HeaderValue returns the X-Auth-User value of the identity.
func (id *Identity) HeaderValue() string {
	if id.Header != "" || len(id.UserJSON) == 0 {
		return id.Header
	}
	return base64.StdEncoding.EncodeToString(id.UserJSON)
}

// MaxUserJSON is the size from which Identity.UserJSON is reduced.
const MaxUserJSON = 16 << 10

// tokenNames are the fields removed from every user object.
var tokenNames = [...]string{"token", "accessToken", "refreshToken", "access_token", "refresh_token"}

// reducedKeys are the keys kept in a reduced UserJSON, in this order.
var reducedKeys = [...]string{"id", "sub", "email", "name", "type", "role", "roles"}

// identity extracts the identity from a decoded backend answer. It reports
// false when mapping.user is not an object. The user object is modified in
// place (its tokens are removed).
func (c *Client) identity(doc any) (Identity, bool) {
	u, _ := c.m.user.Get(doc)
	user, ok := u.(map[string]any)
	if !ok {
		return Identity{}, false
	}
	id := Identity{Type: "user", User: user}
	if t, ok := c.m.tokenType.Get(doc); ok {
		if s, ok := t.(string); ok && s != "" {
			id.Type = s
		}
	}
	if e, ok := c.m.expiresAt.Get(doc); ok {
		id.Exp = unixTime(e)
	}
	for _, p := range [...]jsonpointer.Pointer{c.m.accessToken, c.m.refreshToken} {
		if rel, ok := p.Under(c.m.user); ok {
			rel.Remove(user)
		}
	}
	id.UserJSON = PublicUser(user, c.log)
	id.Header = base64.StdEncoding.EncodeToString(id.UserJSON)
	return id, true
}

// PublicUser makes user fit to leave the gateway (SPEC.md section 4.4): it
// removes the token fields (token, accessToken, refreshToken, access_token,
// refresh_token) from every object in it, at any depth, and returns its
// JSON. When that is MaxUserJSON bytes or more, the JSON is reduced to the
// keys id, sub, email, name, type, role and roles, with a warning in log
// (which never shows a value). user is changed in place.
func PublicUser(user map[string]any, log *slog.Logger) json.RawMessage {
	stripTokens(user)
	b, err := encode(user)
	if err == nil && len(b) < MaxUserJSON {
		return b
	}
	small := make(map[string]any, len(reducedKeys))
	for _, k := range reducedKeys {
		v, ok := user[k]
		if !ok {
			continue
		}
		small[k] = v
		if nb, err := encode(small); err != nil || len(nb) >= MaxUserJSON {
			delete(small, k) // this one value alone is too large: leave it out
		}
	}
	log.Warn("user object reduced for X-Auth-User",
		slog.Int("bytes", len(b)), slog.Int("keys", len(user)), slog.Int("kept", len(small)))
	b, _ = encode(small)
	return b
}

// encode is json.Marshal without HTML escaping.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// unixTime converts a JSON number (or numeric string) of unix seconds.
func unixTime(v any) time.Time {
	var f float64
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			if n <= 0 {
				return time.Time{}
			}
			return time.Unix(n, 0)
		}
		f, _ = x.Float64()
	case float64:
		f = x
	case string:
		f, _ = strconv.ParseFloat(x, 64)
	}
	if f <= 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > 1<<40 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// stripTokens removes the token fields from every object in v, at any depth.
func stripTokens(v any) {
	switch x := v.(type) {
	case map[string]any:
		for _, name := range tokenNames {
			delete(x, name)
		}
		for _, e := range x {
			stripTokens(e)
		}
	case []any:
		for _, e := range x {
			stripTokens(e)
		}
	}
}
