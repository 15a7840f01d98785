package backend

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
)

// userKeys returns the sorted top-level keys of a JSON object.
func userKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("UserJSON %.80s...: %v", b, err)
	}
	return slices.Sorted(maps.Keys(m))
}

// X-Auth-User is at most 16 KiB once base64-encoded: a user object whose
// JSON encodes to exactly 16384 bytes of base64 passes whole, one byte
// more of JSON is reduced.
func TestUserHeaderBoundary(t *testing.T) {
	// {"bio":"<pad>","id":1} is 17 bytes plus the pad.
	for _, c := range []struct {
		name      string
		jsonLen   int
		truncated bool
	}{
		{"12288 bytes of JSON, 16384 of base64", 12288, false},
		{"12289 bytes of JSON, 16388 of base64", 12289, true},
		{"well under", 100, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			pad := strings.Repeat("p", c.jsonLen-17)
			var id Identity
			id.SetUser(map[string]any{"id": json.Number("1"), "bio": pad}, slog.New(slog.NewTextHandler(&logs, nil)))
			if id.Truncated != c.truncated {
				t.Errorf("Truncated = %v, want %v (UserJSON %d bytes)", id.Truncated, c.truncated, len(id.UserJSON))
			}
			if len(id.Header) > MaxUserHeader || id.Header != base64.StdEncoding.EncodeToString(id.UserJSON) {
				t.Errorf("Header is %d bytes (max %d), or not the base64 of UserJSON", len(id.Header), MaxUserHeader)
			}
			if c.truncated {
				if got := userKeys(t, id.UserJSON); !slices.Equal(got, []string{"id"}) {
					t.Errorf("reduced UserJSON keys = %v, want [id]", got)
				}
				if !strings.Contains(logs.String(), "reduced") {
					t.Errorf("no warning logged: %q", logs.String())
				}
			} else {
				if len(id.UserJSON) != c.jsonLen {
					t.Errorf("UserJSON is %d bytes, want %d unchanged", len(id.UserJSON), c.jsonLen)
				}
				if c.jsonLen == 12288 && len(id.Header) != 16384 {
					t.Errorf("Header is %d bytes, want 16384", len(id.Header))
				}
				if logs.Len() != 0 {
					t.Errorf("logged %q for a user that fits", logs.String())
				}
			}
		})
	}
}

// The reduction keeps id, sub, email, name, type, role and roles first, then
// drops the largest remaining fields until the header fits; when those keys
// alone do not fit, they are dropped largest first too.
func TestUserHeaderReduced(t *testing.T) {
	big := func(n int) string { return strings.Repeat("x", n) }
	for _, c := range []struct {
		name string
		user map[string]any
		want []string // the keys kept
	}{
		{"one big field dropped, the others kept", map[string]any{
			"id": json.Number("7"), "email": "a@example.com", "name": "Alice", "roles": []any{"admin"},
			"bio": big(13000), "theme": "dark", "locale": "tr", "prefs": map[string]any{"tz": "UTC"},
		}, []string{"email", "id", "locale", "name", "prefs", "roles", "theme"}},
		{"the largest of two big fields goes first", map[string]any{
			"id": json.Number("7"), "a": big(7000), "b": big(6000), "c": "small",
		}, []string{"b", "c", "id"}},
		{"every big field goes, largest first", map[string]any{
			"id": json.Number("7"), "a": big(7000), "b": big(6500), "c": big(6000), "d": "small",
		}, []string{"c", "d", "id"}},
		{"a big kept key goes after the others", map[string]any{
			"id": json.Number("7"), "email": "a@example.com", "name": big(13000), "bio": "short", "theme": "dark",
		}, []string{"email", "id"}},
		{"kept keys before larger other ones", map[string]any{
			"sub": "u-1", "type": "user", "role": "admin", "avatar": big(12300),
		}, []string{"role", "sub", "type"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var id Identity
			id.SetUser(c.user, slog.New(slog.DiscardHandler))
			if !id.Truncated {
				t.Error("Truncated = false")
			}
			if n := base64.StdEncoding.EncodedLen(len(id.UserJSON)); n > MaxUserHeader {
				t.Errorf("X-Auth-User would be %d bytes", n)
			}
			if got := userKeys(t, id.UserJSON); !slices.Equal(got, c.want) {
				t.Errorf("kept keys = %v, want %v", got, c.want)
			}
			if len(id.User) != len(c.user) {
				t.Error("the User map itself lost fields")
			}
		})
	}
}

// Truncated survives the JSON form of an identity, the form of a shared
// cache.
func TestTruncatedRoundTrip(t *testing.T) {
	var id Identity
	id.SetUser(map[string]any{"id": json.Number("1"), "bio": strings.Repeat("x", 20000)}, slog.New(slog.DiscardHandler))
	b, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	var back Identity
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Truncated || back.HeaderValue() != id.Header {
		t.Errorf("after a round trip: Truncated = %v, header equal = %v", back.Truncated, back.HeaderValue() == id.Header)
	}
}
