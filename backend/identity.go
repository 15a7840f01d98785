package backend

import (
	"encoding/json"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/internal/jsonpointer"
)

// Identity is what the backend says about a valid token: authn.Identity.
type Identity = authn.Identity

// MaxUserHeader and MaxUserJSON are authn's bounds of X-Auth-User.
const (
	MaxUserHeader = authn.MaxUserHeader
	MaxUserJSON   = authn.MaxUserJSON
)

// identity extracts the identity from a decoded backend answer. It reports
// false when mapping.user is not an object. The user object is modified in
// place (its tokens are removed).
func (c *Client) identity(doc any) (Identity, bool) {
	u, _ := c.m.user.Get(doc)
	user, ok := u.(map[string]any)
	if !ok {
		return Identity{}, false
	}
	id := Identity{Type: "user"}
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
	id.SetUser(user, c.log)
	return id, true
}

// PublicUser is authn.PublicUser.
func PublicUser(user map[string]any, log *slog.Logger) json.RawMessage {
	return authn.PublicUser(user, log)
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
