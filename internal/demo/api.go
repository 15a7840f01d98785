package demo

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// Post is an item of the demo API's posts list.
type Post struct {
	ID     int    `json:"id"`
	Title  string `json:"title"`
	Body   string `json:"body"`
	Author string `json:"author"`
}

var posts = []Post{
	{1, "Welcome to apilayer", "Tokens live in httpOnly cookies; the browser never sees them.", "Admin"},
	{2, "Guest tokens", "Anonymous visitors get a guest token, so public API calls work too.", "Alice"},
	{3, "Transparent refresh", "Expired sessions are refreshed by the gateway before your app notices.", "Alice"},
}

// handlePosts serves GET posts to any valid token, guests included.
func (b *Backend) handlePosts(w http.ResponseWriter, r *http.Request) {
	if _, ok := b.authenticate(bearer(r)); !ok {
		writeError(w, http.StatusUnauthorized, "Unauthenticated.")
		return
	}
	writeData(w, posts)
}

// handleStats serves GET admin/stats to users with the admin role.
func (b *Backend) handleStats(w http.ResponseWriter, r *http.Request) {
	id, ok := b.authenticate(bearer(r))
	if !ok {
		writeError(w, http.StatusUnauthorized, "Unauthenticated.")
		return
	}
	if !slices.Contains(id.user.Roles, "admin") {
		writeError(w, http.StatusForbidden, "This action is unauthorized.")
		return
	}
	b.mu.Lock()
	stats := map[string]int{
		"users":         len(b.users),
		"accessTokens":  len(b.access),
		"refreshTokens": len(b.refresh),
		"families":      len(b.families),
	}
	b.mu.Unlock()
	writeData(w, stats)
}

// handleEcho serves echo with any method to any valid token: it answers the
// method, path, query and JSON body it received.
func (b *Backend) handleEcho(w http.ResponseWriter, r *http.Request) {
	id, ok := b.authenticate(bearer(r))
	if !ok {
		writeError(w, http.StatusUnauthorized, "Unauthenticated.")
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	raw := json.RawMessage("null")
	if len(body) > 0 {
		if !json.Valid(body) {
			writeError(w, http.StatusBadRequest, "Invalid JSON body.")
			return
		}
		raw = body
	}
	writeData(w, map[string]any{
		"method": r.Method,
		"path":   r.URL.Path,
		"query":  r.URL.Query(),
		"body":   raw,
		"type":   id.data().Type,
		"userId": id.data().ID,
	})
}

// handleInfo serves GET public/info without any token.
func (b *Backend) handleInfo(w http.ResponseWriter, r *http.Request) {
	writeData(w, map[string]any{
		"name": "apilayer demo backend",
		"time": b.now().UTC().Format(time.RFC3339),
	})
}
