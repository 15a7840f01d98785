package authn

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Identity is what the backend (or a locally verified JWT) says about a
// valid token.
//
// Its user object never contains tokens: the values at the mapping's
// accessToken and refreshToken pointers (when they point inside the user
// object) and the fields named token, accessToken, refreshToken,
// access_token and refresh_token, at any depth, are removed.
type Identity struct {
	// Type is the token type (backend.mapping.tokenType; "user" when
	// missing).
	Type string `json:"type"`
	// User is the user object (backend.mapping.user, or the claims in local
	// mode) with every token removed.
	// Numbers are json.Number. Treat it as read-only: it may be shared.
	User map[string]any `json:"user"`
	// UserJSON is the JSON encoding of User, reduced (see [PublicUser]) when
	// its base64 would take more than MaxUserHeader bytes.
	UserJSON json.RawMessage `json:"userJSON"`
	// Header is UserJSON in standard base64, the value of X-Auth-User,
	// encoded once when the identity is made rather than on every request.
	// It is not stored (an identity read back from a shared cache has it
	// empty; HeaderValue encodes it then).
	Header string `json:"-"`
	// Exp is the token's expiry (backend.mapping.expiresAt, or exp);
	// zero when unknown.
	Exp time.Time `json:"exp"`
	// Truncated reports that UserJSON was reduced to fit X-Auth-User: the
	// web app then also receives X-Auth-User-Truncated: 1, and knows to
	// ask the backend for the whole user when it needs more.
	Truncated bool `json:"truncated,omitempty"`
}

// SetUser makes user the identity's user object: it removes the token
// fields from user (in place, see [PublicUser]) and sets User, UserJSON,
// Header and Truncated from it. log receives the warning of a reduction.
func (id *Identity) SetUser(user map[string]any, log *slog.Logger) {
	id.User = user
	id.UserJSON, id.Truncated = publicUser(user, log)
	id.Header = base64.StdEncoding.EncodeToString(id.UserJSON)
}

// HeaderValue returns the X-Auth-User value of the identity.
func (id *Identity) HeaderValue() string {
	if id.Header != "" || len(id.UserJSON) == 0 {
		return id.Header
	}
	return base64.StdEncoding.EncodeToString(id.UserJSON)
}

// MaxUserHeader is the largest X-Auth-User value, in bytes of base64
// (docs/api-reference.md): many servers refuse a larger header (Node's
// default limit for all headers together is 16 KiB).
const MaxUserHeader = 16 << 10

// MaxUserJSON is the largest Identity.UserJSON, in bytes: the JSON whose
// base64 is MaxUserHeader bytes.
const MaxUserJSON = MaxUserHeader / 4 * 3

// tokenNames are the fields removed from every user object.
var tokenNames = [...]string{"token", "accessToken", "refreshToken", "access_token", "refresh_token"}

// keptKeys are the keys a reduced UserJSON keeps first.
var keptKeys = [...]string{"id", "sub", "email", "name", "type", "role", "roles"}

// PublicUser makes user fit to leave the gateway (docs/api-reference.md): it
// removes the token fields (token, accessToken, refreshToken, access_token,
// refresh_token) from every object in it, at any depth, and returns its
// JSON. When the base64 of that JSON would take more than MaxUserHeader
// bytes, the JSON is reduced: the keys id, sub, email, name, type, role and
// roles are kept first, and the other fields are left out, the largest
// first, until it fits; if those keys alone are too large, they are left
// out largest first too. A reduction is logged as a warning in log (which
// never shows a value). user is changed in place (tokens only).
//
// [Identity.SetUser] also records whether the JSON was reduced.
func PublicUser(user map[string]any, log *slog.Logger) json.RawMessage {
	b, _ := publicUser(user, log)
	return b
}

// fits reports whether a JSON of n bytes fits X-Auth-User.
func fits(n int) bool { return base64.StdEncoding.EncodedLen(n) <= MaxUserHeader }

// publicUser is PublicUser, reporting whether the JSON was reduced.
func publicUser(user map[string]any, log *slog.Logger) (json.RawMessage, bool) {
	StripTokens(user)
	b, err := encode(user)
	if err == nil && fits(len(b)) {
		return b, false
	}

	// The encoding of an object is "{", its members "key":value in key
	// order separated by ",", and "}": the size of each member, measured
	// once, gives the size of any subset without encoding it.
	type member struct {
		key  string
		size int
		kept bool // one of keptKeys: left out only after every other
	}
	members := make([]member, 0, len(user))
	small := make(map[string]any, len(user))
	sum := 0
	for k, v := range user {
		mb, err := encode(map[string]any{k: v})
		if err != nil {
			continue // cannot be sent at all
		}
		members = append(members, member{key: k, size: len(mb) - 2, kept: slices.Contains(keptKeys[:], k)})
		small[k] = v
		sum += len(mb) - 2
	}
	size := func() int { return 2 + sum + max(len(small)-1, 0) }
	slices.SortFunc(members, func(a, b member) int {
		switch {
		case a.kept != b.kept:
			if a.kept {
				return 1
			}
			return -1
		case a.size != b.size:
			return cmp.Compare(b.size, a.size)
		}
		return strings.Compare(a.key, b.key)
	})
	for _, m := range members {
		if fits(size()) {
			break
		}
		delete(small, m.key)
		sum -= m.size
	}
	out, err := encode(small)
	if err != nil || !fits(len(out)) {
		out = json.RawMessage("{}") // not reached: the sizes add up exactly
	}
	log.Warn("user object reduced for X-Auth-User",
		slog.Int("bytes", len(b)), slog.Int("keys", len(user)), slog.Int("kept", len(small)))
	return out, true
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

// StripTokens removes the token fields (token, accessToken, refreshToken,
// access_token, refresh_token) from every object in v, at any depth.
func StripTokens(v any) {
	switch x := v.(type) {
	case map[string]any:
		for _, name := range tokenNames {
			delete(x, name)
		}
		for _, e := range x {
			StripTokens(e)
		}
	case []any:
		for _, e := range x {
			StripTokens(e)
		}
	}
}
