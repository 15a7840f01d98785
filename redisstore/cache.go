package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apilayer/apilayer/session"
)

// Cache is the shared [session.Cache] of a [Store]: validation results
// under KeyPrefix+"cache:"+session.Key(token), as JSON, kept until
// Entry.Until. It refuses a key that is not a SHA-256 hex digest, so no raw
// token can reach Redis through it.
//
// It returns an error wrapping ErrUnavailable when Redis cannot answer;
// wrap it with [CacheWithFallback] to serve from memory instead.
type Cache struct{ s *Store }

// Cache returns the Store's validation cache.
func (s *Store) Cache() *Cache { return &Cache{s: s} }

var _ session.Cache = (*Cache)(nil)

// wireEntry is the JSON of a session.Entry. UserJSON is a string so its
// exact bytes survive (a json.RawMessage would be re-compacted).
type wireEntry struct {
	Valid    bool          `json:"valid"`
	Identity *wireIdentity `json:"identity,omitempty"`
	Fresh    time.Time     `json:"fresh"`
	Stale    time.Time     `json:"stale"`
}

type wireIdentity struct {
	Type     string         `json:"type"`
	User     map[string]any `json:"user"`
	UserJSON string         `json:"userJSON"`
	Exp      time.Time      `json:"exp"`
	// Truncated: UserJSON was reduced to fit X-Auth-User.
	Truncated bool `json:"truncated,omitempty"`
}

func encodeEntry(e session.Entry) ([]byte, error) {
	w := wireEntry{Valid: e.Valid, Fresh: e.Fresh, Stale: e.Stale}
	if id := e.Identity; id != nil {
		w.Identity = &wireIdentity{Type: id.Type, User: id.User, UserJSON: string(id.UserJSON), Exp: id.Exp, Truncated: id.Truncated}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("redisstore: cache: encode: %w", err)
	}
	return b, nil
}

func decodeEntry(b []byte) (session.Entry, error) {
	var w wireEntry
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // numbers of the user object are json.Number, as the backend's
	if err := d.Decode(&w); err != nil {
		return session.Entry{}, fmt.Errorf("redisstore: cache: decode: %w", err)
	}
	e := session.Entry{Valid: w.Valid, Fresh: w.Fresh, Stale: w.Stale}
	if w.Identity != nil {
		e.Identity = &session.Identity{
			Type:      w.Identity.Type,
			User:      w.Identity.User,
			Exp:       w.Identity.Exp,
			Truncated: w.Identity.Truncated,
		}
		if w.Identity.UserJSON != "" {
			e.Identity.UserJSON = json.RawMessage(w.Identity.UserJSON)
		}
	}
	return e, nil
}

// Get implements [session.Cache].
func (c *Cache) Get(ctx context.Context, key string) (session.Entry, bool, error) {
	if err := checkTokenKey(key); err != nil {
		return session.Entry{}, false, err
	}
	b, ok, err := c.s.getRecord(ctx, "cache get", c.s.key("cache", key))
	if err != nil || !ok {
		return session.Entry{}, false, err
	}
	e, err := decodeEntry(b)
	if err != nil {
		return session.Entry{}, false, err
	}
	return e, true, nil
}

// Set implements [session.Cache]. The entry is kept until e.Until; an
// entry already past it deletes the key. An invalid verdict is announced
// to the near caches of every instance ([Store.NearCache]), which may hold
// the token as valid.
func (c *Cache) Set(ctx context.Context, key string, e session.Entry) error {
	if err := checkTokenKey(key); err != nil {
		return err
	}
	b, err := encodeEntry(e)
	if err != nil {
		return err
	}
	var invalidated string
	if !e.Valid {
		invalidated = key
	}
	return c.s.writeRecord(ctx, "cache set", c.s.key("cache", key), b, e.Until(), invalidated)
}

// Delete implements [session.Cache]. The deletion (a logout) is announced
// to the near caches of every instance ([Store.NearCache]).
func (c *Cache) Delete(ctx context.Context, key string) error {
	if err := checkTokenKey(key); err != nil {
		return err
	}
	return c.s.delete(ctx, "cache delete", c.s.key("cache", key), key)
}
