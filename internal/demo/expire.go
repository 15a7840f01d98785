package demo

import "net/http"

// ExpireSessionPath is the backend path of the demo's "expire my token"
// button, reached through the gateway's API proxy as
// POST /api/demo/expire-session.
const ExpireSessionPath = "/api/demo/expire-session"

// WithExpireSession returns b as a handler that also serves
// POST demo/expire-session: the bearer user access token stops being valid
// at once, as if it had expired, while it can still be refreshed. The demo
// uses it to show a transparent refresh by the gateway.
func (b *Backend) WithExpireSession() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ExpireSessionPath {
			b.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "Method not allowed.")
			return
		}
		tok := bearer(r)
		id, ok := b.authenticate(tok)
		if !ok {
			writeError(w, http.StatusUnauthorized, "Unauthenticated.")
			return
		}
		if id.guest != "" {
			writeError(w, http.StatusForbidden, "Only a signed-in user can expire a session.")
			return
		}
		b.ExpireSession(tok)
		writeData(w, map[string]bool{"expired": true})
	})
}

// ExpireSession makes the access token token invalid at once, as if it had
// expired, without revoking it: a refresh with it still succeeds. Unknown
// tokens are ignored.
func (b *Backend) ExpireSession(token string) {
	rec, _ := b.lookup(token)
	if rec == nil {
		return
	}
	b.mu.Lock()
	rec.expired = true
	b.mu.Unlock()
}
