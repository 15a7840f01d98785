package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The chaos suite's JWT backend (role chaos-backend). Its tokens are
// opaque random strings it keeps in memory with their user, generation and
// expiry, so it is the ground truth of every session:
//
//   - a refresh rotates the token (the user's generation goes up by one);
//     the refresh of an older generation is reuse: 409 token_reuse, and
//     the user's whole token family is revoked, as rotating backends do;
//   - it counts, per user, the refresh calls that reached that logic and
//     the rotations they made, so duplicate refreshes are exact;
//   - faults (503, hang, TCP reset, slow) are switched at run time and
//     apply to every backend path; while one that fails is on, every call
//     is recorded with its instance, endpoint, arrival and end, so the
//     calls the circuit breakers let through can be checked.
//
// Each gateway instance is given its own base path, /g<n>/api/, so every
// call is known by instance. The harness's control paths are under
// /_chaos/ and never fail.

// Fault kinds of the chaos backend.
const (
	faultOK    = "ok"
	fault503   = "503"
	faultHang  = "hang"
	faultReset = "reset"
	faultSlow  = "slow"
)

// failing reports whether a fault kind makes the backend unavailable (the
// gateway's "unavailable": 5xx, timeout, connection error).
func failing(kind string) bool {
	return kind == fault503 || kind == faultHang || kind == faultReset
}

// guestFamily is the user number of guest tokens.
const guestFamily = -1

// chaosRefreshTTL is the lifetime of a rotated token: longer than a run,
// so each user's token expires once, when the harness chose.
const chaosRefreshTTL = time.Hour

// chaosRefreshDelay is how long a refresh takes, as with a backend that
// writes its token store: long enough for the tabs of a user to race.
const chaosRefreshDelay = 200 * time.Millisecond

// maxHang bounds how long a hung call is held when the gateway never gives
// up on it.
const maxHang = time.Minute

// dataLeeway is how long past its exp the data endpoint still accepts a
// token: the gateway may forward a request it validated just before the
// token's last second.
const dataLeeway = 5 * time.Second

type ctoken struct {
	user int // index in users; guestFamily for a guest
	gen  int
	exp  int64 // unix seconds
}

type cuser struct {
	gen       int
	revoked   string // "", "ended" (by the test) or "reuse"
	calls     int    // refresh calls that reached the rotation logic
	rotations int
	reuses    int
}

// fault is the backend's current fault.
type fault struct {
	kind  string
	delay time.Duration // faultSlow
	rec   *outage       // the record of a failing fault
}

// outage is the record of one failing fault: every call it answered.
type outage struct {
	Kind  string      `json:"kind"`
	Start time.Time   `json:"start"`
	End   time.Time   `json:"end"` // zero while on
	Calls []faultCall `json:"calls"`

	mu sync.Mutex
}

// faultCall is one call a failing fault answered.
type faultCall struct {
	Inst     int       `json:"inst"`
	Endpoint string    `json:"endpoint"` // validate, refresh, guest, login, register, logout, api
	ReqID    string    `json:"reqID"`    // X-Request-ID: the same on net/http's retry of a call
	Arrive   time.Time `json:"arrive"`
	Finish   time.Time `json:"finish"`
}

type chaosBackend struct {
	mu      sync.Mutex
	tokens  map[string]ctoken // guarded by mu
	users   []*cuser          // guarded by mu; index 0 unused
	guests  int               // guarded by mu
	outages []*outage         // guarded by mu
	calls   map[string]int64  // by endpoint, guarded by mu

	cur atomic.Pointer[fault]
}

func newChaosBackend() *chaosBackend {
	b := &chaosBackend{tokens: map[string]ctoken{}, users: []*cuser{nil}, calls: map[string]int64{}}
	b.cur.Store(&fault{kind: faultOK})
	return b
}

func newToken() string {
	var b [18]byte
	rand.Read(b[:])
	return "ct" + base64.RawURLEncoding.EncodeToString(b[:])
}

// endpointOf names the backend path p (after /api/) as the gateway's
// breakers do; proxied API paths are "api".
func endpointOf(p string) string {
	switch p {
	case "auth/me":
		return "validate"
	case "auth/refresh":
		return "refresh"
	case "auth/guest", "auth/login", "auth/register", "auth/logout":
		return strings.TrimPrefix(p, "auth/")
	}
	return "api"
}

// splitInstance takes /g<n>/api/<p> apart.
func splitInstance(path string) (inst int, p string, ok bool) {
	rest, found := strings.CutPrefix(path, "/g")
	if !found {
		return 0, "", false
	}
	n, rest, found := strings.Cut(rest, "/")
	if !found {
		return 0, "", false
	}
	inst, err := strconv.Atoi(n)
	if err != nil {
		return 0, "", false
	}
	p, found = strings.CutPrefix(rest, "api/")
	return inst, p, found
}

func (b *chaosBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_chaos/") {
		b.control(w, r)
		return
	}
	inst, p, ok := splitInstance(r.URL.Path)
	if !ok {
		writeJSONStatus(w, http.StatusNotFound, map[string]any{"success": false, "message": "Not found."})
		return
	}
	ep := endpointOf(p)
	b.mu.Lock()
	b.calls[ep]++
	b.mu.Unlock()
	f := b.cur.Load()
	if failing(f.kind) {
		arrive := time.Now()
		b.fail(w, r, f.kind)
		f.rec.mu.Lock()
		f.rec.Calls = append(f.rec.Calls, faultCall{Inst: inst, Endpoint: ep, ReqID: r.Header.Get("X-Request-ID"), Arrive: arrive, Finish: time.Now()})
		f.rec.mu.Unlock()
		return
	}
	if f.kind == faultSlow {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	switch p {
	case "auth/me":
		b.validate(w, r)
	case "auth/refresh":
		b.refresh(w, r)
	case "auth/guest":
		b.mint(w, r)
	case "auth/logout":
		writeJSONStatus(w, http.StatusOK, map[string]any{"success": true})
	case "auth/login", "auth/register":
		io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		writeJSONStatus(w, http.StatusUnauthorized, map[string]any{"success": false, "message": "Invalid credentials."})
	case "data":
		b.data(w, r)
	case "slow":
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		writeJSONStatus(w, http.StatusOK, map[string]any{"success": true})
	case "upload":
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			return
		}
		writeJSONStatus(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"bytes": n}})
	default:
		writeJSONStatus(w, http.StatusNotFound, map[string]any{"success": false, "message": "Not found."})
	}
}

// fail answers as a failing fault does.
func (b *chaosBackend) fail(w http.ResponseWriter, r *http.Request, kind string) {
	switch kind {
	case fault503:
		writeJSONStatus(w, http.StatusServiceUnavailable, map[string]any{"success": false, "message": backendDown})
	case faultHang:
		// Read the (small) body first: only then does net/http watch the
		// connection and end the request's context when the gateway gives up.
		io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		select {
		case <-r.Context().Done():
		case <-time.After(maxHang):
		}
	case faultReset:
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // RST instead of FIN
			}
			c.Close()
		}
	}
}

// backendDown is the message of the backend's own 503.
const backendDown = "Backend down (chaos)."

func bearer(r *http.Request) string {
	t, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return t
}

// lookup returns the record of the request's token and its user (nil for a
// guest); ok is false for an unknown token.
func (b *chaosBackend) lookup(r *http.Request) (ctoken, *cuser, bool) {
	t, ok := b.tokens[bearer(r)]
	if !ok || t.user == guestFamily {
		return t, nil, ok
	}
	return t, b.users[t.user], true
}

func (b *chaosBackend) validate(w http.ResponseWriter, r *http.Request) {
	now := time.Now().Unix()
	b.mu.Lock()
	t, u, ok := b.lookup(r)
	live := ok && t.exp > now && (u == nil || u.revoked == "")
	b.mu.Unlock()
	switch {
	case !live:
		writeJSONStatus(w, http.StatusUnauthorized, map[string]any{"success": false, "message": "Unauthenticated."})
	case u == nil:
		writeJSONStatus(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"id": "guest", "type": "guest", "exp": t.exp}})
	default:
		writeJSONStatus(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{
			"id": t.user, "name": "user " + strconv.Itoa(t.user), "type": "user", "exp": t.exp, "roles": []string{"user"}}})
	}
}

func (b *chaosBackend) refresh(w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(chaosRefreshDelay):
	case <-r.Context().Done():
		return
	}
	b.mu.Lock()
	t, u, ok := b.lookup(r)
	if !ok || u == nil {
		b.mu.Unlock()
		writeJSONStatus(w, http.StatusUnauthorized, map[string]any{"success": false, "code": "invalid"})
		return
	}
	u.calls++
	switch {
	case u.revoked != "":
		b.mu.Unlock()
		writeJSONStatus(w, http.StatusForbidden, map[string]any{"success": false, "code": "revoked"})
	case t.gen < u.gen:
		u.reuses++
		u.revoked = "reuse"
		b.mu.Unlock()
		writeJSONStatus(w, http.StatusConflict, map[string]any{"success": false, "code": "token_reuse"})
	case t.gen > u.gen:
		b.mu.Unlock()
		writeJSONStatus(w, http.StatusUnauthorized, map[string]any{"success": false, "code": "invalid"})
	default:
		u.gen++
		u.rotations++
		tok := newToken()
		b.tokens[tok] = ctoken{user: t.user, gen: u.gen, exp: time.Now().Add(chaosRefreshTTL).Unix()}
		b.mu.Unlock()
		writeJSONStatus(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"accessToken": tok}})
	}
}

func (b *chaosBackend) mint(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	tok := newToken()
	b.mu.Lock()
	b.guests++
	b.tokens[tok] = ctoken{user: guestFamily, exp: time.Now().Add(time.Hour).Unix()}
	b.mu.Unlock()
	writeJSONStatus(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"accessToken": tok}})
}

// data is the API endpoint the load calls: it answers whose token it got.
func (b *chaosBackend) data(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	b.mu.Lock()
	t, u, ok := b.lookup(r)
	live := ok && now.Before(time.Unix(t.exp, 0).Add(dataLeeway)) && (u == nil || u.revoked == "")
	b.mu.Unlock()
	switch {
	case !live:
		writeJSONStatus(w, http.StatusUnauthorized, map[string]any{"success": false, "message": "Unauthenticated."})
	case u == nil:
		writeJSONStatus(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"user": "guest"}})
	default:
		writeJSONStatus(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"user": strconv.Itoa(t.user)}})
	}
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// newSession is one user's session as the harness gets it.
type newSession struct {
	ID    int    `json:"id"`
	Token string `json:"token"`
}

// backendStats is what GET /_chaos/stats answers.
type backendStats struct {
	Users      int              `json:"users"`
	Calls      map[string]int64 `json:"calls"`     // by endpoint, every call
	Refreshes  int              `json:"refreshes"` // refresh calls that reached the rotation logic
	Rotations  int              `json:"rotations"`
	Reuses     int              `json:"reuses"`
	Duplicates int              `json:"duplicates"` // refresh calls beyond one per rotation, of users the test did not end
	DupUsers   []int            `json:"dupUsers"`   // the first users with duplicates
	Revoked    int              `json:"revoked"`    // users whose family reuse detection revoked
	Guests     int              `json:"guests"`
	Outages    []*outage        `json:"outages,omitempty"`
	// RangeRotations and RangeCalls are the rotations and refresh calls of
	// the users asked for (from..to).
	RangeRotations int `json:"rangeRotations"`
	RangeCalls     int `json:"rangeCalls"`
}

// control serves the harness's paths:
//
//	POST /_chaos/users?n=N&exp=UNIX   N new users, each with a token expiring at exp
//	POST /_chaos/fault?kind=K&delay=D switch the fault (ok, 503, hang, reset, slow)
//	POST /_chaos/end?id=N             end user N's session (its family is revoked)
//	POST /_chaos/login?id=N           log user N in again: a new token family
//	GET  /_chaos/stats?brief=1&from=A&to=B
//	                                  backendStats: without outages when brief,
//	                                  with the counts of users A..B
func (b *chaosBackend) control(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch r.URL.Path {
	case "/_chaos/users":
		n, err1 := strconv.Atoi(q.Get("n"))
		exp, err2 := strconv.ParseInt(q.Get("exp"), 10, 64)
		if err1 != nil || err2 != nil || n <= 0 {
			http.Error(w, "bad n or exp", http.StatusBadRequest)
			return
		}
		out := make([]newSession, n)
		b.mu.Lock()
		for i := range out {
			id := len(b.users)
			b.users = append(b.users, &cuser{})
			tok := newToken()
			b.tokens[tok] = ctoken{user: id, exp: exp}
			out[i] = newSession{ID: id, Token: tok}
		}
		b.mu.Unlock()
		writeJSONStatus(w, http.StatusOK, out)
	case "/_chaos/fault":
		delay, _ := time.ParseDuration(q.Get("delay"))
		f := &fault{kind: q.Get("kind"), delay: delay}
		switch f.kind {
		case faultOK, faultSlow:
		case fault503, faultHang, faultReset:
			f.rec = &outage{Kind: f.kind, Start: time.Now()}
			b.mu.Lock()
			b.outages = append(b.outages, f.rec)
			b.mu.Unlock()
		default:
			http.Error(w, "bad kind", http.StatusBadRequest)
			return
		}
		if old := b.cur.Swap(f); old.rec != nil {
			old.rec.mu.Lock()
			old.rec.End = time.Now()
			old.rec.mu.Unlock()
		}
		writeJSONStatus(w, http.StatusOK, map[string]any{"kind": f.kind})
	case "/_chaos/end", "/_chaos/login":
		id, err := strconv.Atoi(q.Get("id"))
		b.mu.Lock()
		if err != nil || id <= 0 || id >= len(b.users) {
			b.mu.Unlock()
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		u := b.users[id]
		if r.URL.Path == "/_chaos/end" {
			u.revoked = "ended"
			b.mu.Unlock()
			writeJSONStatus(w, http.StatusOK, map[string]any{"id": id})
			return
		}
		u.gen++
		u.revoked = ""
		tok := newToken()
		b.tokens[tok] = ctoken{user: id, gen: u.gen, exp: time.Now().Add(chaosRefreshTTL).Unix()}
		b.mu.Unlock()
		writeJSONStatus(w, http.StatusOK, newSession{ID: id, Token: tok})
	case "/_chaos/stats":
		from, _ := strconv.Atoi(q.Get("from"))
		to, _ := strconv.Atoi(q.Get("to"))
		writeJSONStatus(w, http.StatusOK, b.stats(q.Get("brief") == "", from, to))
	default:
		http.NotFound(w, r)
	}
}

// stats sums the users' refresh counts. A user the test ended is left out
// of the duplicates: its dead token may be refreshed again by design (once
// per failed-refresh memory).
func (b *chaosBackend) stats(outages bool, from, to int) backendStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := backendStats{Users: len(b.users) - 1, Calls: map[string]int64{}, Guests: b.guests}
	for k, v := range b.calls {
		s.Calls[k] = v
	}
	for _, o := range b.outages {
		if !outages {
			break
		}
		o.mu.Lock()
		s.Outages = append(s.Outages, &outage{Kind: o.Kind, Start: o.Start, End: o.End, Calls: slices.Clone(o.Calls)})
		o.mu.Unlock()
	}
	for i, u := range b.users[1:] {
		id := i + 1
		if id >= from && id <= to {
			s.RangeRotations += u.rotations
			s.RangeCalls += u.calls
		}
		s.Refreshes += u.calls
		s.Rotations += u.rotations
		s.Reuses += u.reuses
		if u.reuses > 0 {
			s.Revoked++
		}
		if u.revoked == "ended" {
			continue
		}
		if d := u.calls - u.rotations; d > 0 {
			s.Duplicates += d
			if len(s.DupUsers) < 20 {
				s.DupUsers = append(s.DupUsers, id)
			}
		}
	}
	return s
}

// String describes the fault for logs.
func (f *fault) String() string {
	if f.kind == faultSlow {
		return fmt.Sprintf("slow %s", f.delay)
	}
	return f.kind
}
