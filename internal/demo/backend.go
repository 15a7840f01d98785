package demo

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Default lifetimes of the tokens the backend issues.
const (
	DefaultAccessTTL  = 15 * time.Minute
	DefaultRefreshTTL = 336 * time.Hour
	DefaultGuestTTL   = time.Hour
)

// The demo credentials: the guest credentials the backend accepts on
// auth/guest, and the passwords of the users alice and admin.
const (
	GuestUsername = "guest"
	GuestPassword = "guest-password"
	AlicePassword = "alice-password"
	AdminPassword = "admin-password"
)

// maxBody caps every request body the backend reads.
const maxBody = 1 << 20

// maxUsers bounds the users that register can create.
const maxUsers = 10000

// GuestCredentials returns the JSON body of the guest call, ready for
// config.Guest.Credentials.
func GuestCredentials() map[string]any {
	return map[string]any{"username": GuestUsername, "password": GuestPassword}
}

// BackendOptions configures a Backend. The zero value works.
type BackendOptions struct {
	// Key is the HS256 signing key. If nil, a random 32-byte key is used.
	Key []byte
	// AccessTTL is the lifetime of user access tokens. Zero means 15m.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of refresh tokens (dual-token mode), and
	// how long after its issue an access token may still be refreshed
	// (single-token mode). Zero means 336h.
	RefreshTTL time.Duration
	// GuestTTL is the lifetime of guest tokens. Zero means 1h.
	GuestTTL time.Duration
	// Now is the clock. If nil, time.Now is used.
	Now func() time.Time
}

// DemoUser is a user of the demo backend.
type DemoUser struct {
	ID       int64
	Username string
	Password string
	Name     string
	Email    string
	Roles    []string
}

// Backend is the demo JWT backend. It serves the routes of the backend
// contract under the path prefix "/api/". Create it with NewBackend; it is
// safe for concurrent use and starts no goroutines.
type Backend struct {
	key                             []byte
	accessTTL, refreshTTL, guestTTL time.Duration
	now                             func() time.Time
	routes                          map[string]route         // read-only after NewBackend
	calls                           map[string]*atomic.Int64 // read-only map; counters are atomic

	mu       sync.Mutex
	users    []*DemoUser             // guarded by mu; by ascending ID
	byLogin  map[string]*DemoUser    // guarded by mu; lower-case username and email
	access   map[string]*tokenRecord // guarded by mu; by jti
	refresh  map[string]*tokenRecord // guarded by mu; by SHA-256 of the refresh token
	families map[string]*family      // guarded by mu; by family id
	minted   int                     // guarded by mu; tokens issued, drives pruning
}

type route struct {
	methods []string // nil: any method
	handle  func(http.ResponseWriter, *http.Request)
}

// NewBackend returns a Backend with the users alice and admin.
func NewBackend(opts BackendOptions) *Backend {
	b := &Backend{
		key:        slices.Clone(opts.Key),
		accessTTL:  opts.AccessTTL,
		refreshTTL: opts.RefreshTTL,
		guestTTL:   opts.GuestTTL,
		now:        opts.Now,
		byLogin:    make(map[string]*DemoUser),
		access:     make(map[string]*tokenRecord),
		refresh:    make(map[string]*tokenRecord),
		families:   make(map[string]*family),
	}
	if b.key == nil {
		b.key = make([]byte, 32)
		rand.Read(b.key)
	}
	if b.accessTTL == 0 {
		b.accessTTL = DefaultAccessTTL
	}
	if b.refreshTTL == 0 {
		b.refreshTTL = DefaultRefreshTTL
	}
	if b.guestTTL == 0 {
		b.guestTTL = DefaultGuestTTL
	}
	if b.now == nil {
		b.now = time.Now
	}
	b.addUserLocked(&DemoUser{Username: "alice", Password: AlicePassword, Name: "Alice", Email: "alice@example.com", Roles: []string{"user"}})
	b.addUserLocked(&DemoUser{Username: "admin", Password: AdminPassword, Name: "Admin", Email: "admin@example.com", Roles: []string{"admin", "user"}})

	b.routes = map[string]route{
		"auth/login":    {[]string{http.MethodPost}, b.handleLogin},
		"auth/register": {[]string{http.MethodPost}, b.handleRegister},
		"auth/me":       {[]string{http.MethodGet, http.MethodHead}, b.handleMe},
		"auth/refresh":  {[]string{http.MethodPost}, b.handleRefresh},
		"auth/guest":    {[]string{http.MethodPost}, b.handleGuest},
		"auth/logout":   {[]string{http.MethodPost}, b.handleLogout},
		"posts":         {[]string{http.MethodGet, http.MethodHead}, b.handlePosts},
		"admin/stats":   {[]string{http.MethodGet, http.MethodHead}, b.handleStats},
		"echo":          {nil, b.handleEcho},
		"public/info":   {[]string{http.MethodGet, http.MethodHead}, b.handleInfo},
	}
	b.calls = make(map[string]*atomic.Int64, len(b.routes))
	for name := range b.routes {
		b.calls[name] = new(atomic.Int64)
	}
	return b
}

// ServeHTTP serves the backend routes under "/api/": auth/login,
// auth/register, auth/me, auth/refresh, auth/guest, auth/logout, posts,
// admin/stats, echo and public/info.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/api/")
	rt, known := b.routes[name]
	if !ok || !known {
		writeError(w, http.StatusNotFound, "Not found.")
		return
	}
	b.calls[name].Add(1)
	if rt.methods != nil && !slices.Contains(rt.methods, r.Method) {
		w.Header().Set("Allow", strings.Join(rt.methods, ", "))
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	rt.handle(w, r)
}

// Calls returns how many requests reached endpoint (a route name relative to
// "/api/", such as "auth/me" or "posts"), whatever their outcome.
func (b *Backend) Calls(endpoint string) int64 {
	if c, ok := b.calls[endpoint]; ok {
		return c.Load()
	}
	return 0
}

// ResetCalls sets every call counter to zero.
func (b *Backend) ResetCalls() {
	for _, c := range b.calls {
		c.Store(0)
	}
}

// Key returns a copy of the HS256 signing key, for local validation.
func (b *Backend) Key() []byte { return slices.Clone(b.key) }

// Users returns a copy of every user, the registered ones included, by ID.
func (b *Backend) Users() []DemoUser {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]DemoUser, len(b.users))
	for i, u := range b.users {
		out[i] = *u
		out[i].Roles = slices.Clone(u.Roles)
	}
	return out
}

// addUserLocked adds u with the next ID. The caller holds mu, or owns b.
func (b *Backend) addUserLocked(u *DemoUser) {
	u.ID = int64(len(b.users) + 1)
	b.users = append(b.users, u)
	b.byLogin[strings.ToLower(u.Username)] = u
	b.byLogin[strings.ToLower(u.Email)] = u
}

// userByIDLocked returns the user with id, or nil. The caller holds mu.
func (b *Backend) userByIDLocked(id int64) *DemoUser {
	if id < 1 || id > int64(len(b.users)) {
		return nil
	}
	return b.users[id-1]
}

// equalSecret compares two secrets in constant time.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
