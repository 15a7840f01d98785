package demo

import (
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// userData is the user object of auth/me, login and register.
type userData struct {
	ID       any      `json:"id"` // a number for users, a string for guests
	Username string   `json:"username,omitempty"`
	Name     string   `json:"name"`
	Email    string   `json:"email,omitempty"`
	Roles    []string `json:"roles"`
	Type     string   `json:"type"`
	Exp      int64    `json:"exp"`
}

// session is the data of a successful login or register.
type session struct {
	userData
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

// tokens is the data of a successful refresh.
type tokens struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

func (id identity) data() userData {
	if id.guest != "" {
		return userData{ID: id.guest, Name: "Guest", Roles: []string{}, Type: TypeGuest, Exp: id.exp.Unix()}
	}
	return userOf(&id.user, id.exp)
}

func userOf(u *DemoUser, exp time.Time) userData {
	roles := append([]string{}, u.Roles...)
	return userData{ID: u.ID, Username: u.Username, Name: u.Name, Email: u.Email, Roles: roles, Type: TypeUser, Exp: exp.Unix()}
}

// dummyPassword keeps the cost of a failed login independent of whether the
// user exists.
const dummyPassword = "no-such-user-password"

// handleLogin serves POST auth/login {"username"|"email", "password"}.
func (b *Backend) handleLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	login := strings.TrimSpace(in.Username)
	if login == "" {
		login = strings.TrimSpace(in.Email)
	}
	errs := map[string][]string{}
	if login == "" {
		errs["username"] = []string{"The username field is required."}
	}
	if in.Password == "" {
		errs["password"] = []string{"The password field is required."}
	}
	if len(errs) > 0 {
		writeInvalid(w, errs)
		return
	}
	now := b.now()
	b.mu.Lock()
	u := b.byLogin[strings.ToLower(login)]
	want := dummyPassword
	if u != nil {
		want = u.Password
	}
	if !equalSecret(in.Password, want) || u == nil {
		b.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "Invalid credentials.")
		return
	}
	b.startSessionLocked(w, u, now) // unlocks mu
}

// handleRegister serves POST auth/register {"name", "email", "password"}.
func (b *Backend) handleRegister(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     string `json:"name"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	in.Name, in.Email = strings.TrimSpace(in.Name), strings.TrimSpace(in.Email)
	errs := map[string][]string{}
	switch {
	case in.Name == "":
		errs["name"] = []string{"The name field is required."}
	case utf8.RuneCountInString(in.Name) > 255:
		errs["name"] = []string{"The name field must not be greater than 255 characters."}
	}
	switch {
	case in.Email == "":
		errs["email"] = []string{"The email field is required."}
	case !validEmail(in.Email):
		errs["email"] = []string{"The email field must be a valid email address."}
	}
	switch {
	case in.Password == "":
		errs["password"] = []string{"The password field is required."}
	case utf8.RuneCountInString(in.Password) < 8:
		errs["password"] = []string{"The password field must be at least 8 characters."}
	}
	if len(errs) > 0 {
		writeInvalid(w, errs)
		return
	}
	now := b.now()
	b.mu.Lock()
	if b.byLogin[strings.ToLower(in.Email)] != nil {
		b.mu.Unlock()
		writeInvalid(w, map[string][]string{"email": {"The email has already been taken."}})
		return
	}
	if len(b.users) >= maxUsers {
		b.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "Registration is closed.")
		return
	}
	u := &DemoUser{Username: in.Email, Password: in.Password, Name: in.Name, Email: in.Email, Roles: []string{"user"}}
	b.addUserLocked(u)
	b.startSessionLocked(w, u, now) // unlocks mu
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= 254
}

// startSessionLocked starts a token family for u and answers with the user
// and its access and refresh tokens. The caller holds mu; it is unlocked
// before signing.
func (b *Backend) startSessionLocked(w http.ResponseWriter, u *DemoUser, now time.Time) {
	f := b.newFamilyLocked()
	c := b.newAccessLocked(u, "", f, now, b.accessTTL)
	refresh := b.newRefreshLocked(u.ID, f, now)
	data := userOf(u, c.exp)
	b.mu.Unlock()
	access, err := b.sign(c)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Server error.")
		return
	}
	writeData(w, session{userData: data, AccessToken: access, RefreshToken: refresh})
}

// handleMe serves GET auth/me with a bearer access token.
func (b *Backend) handleMe(w http.ResponseWriter, r *http.Request) {
	id, ok := b.authenticate(bearer(r))
	if !ok {
		writeError(w, http.StatusUnauthorized, "Unauthenticated.")
		return
	}
	writeData(w, id.data())
}

// handleRefresh serves POST auth/refresh with a bearer refresh token
// (dual-token mode) or access token (single-token mode; it may have expired
// less than RefreshTTL after its issue). Every credential is good for one
// refresh: a second use is reuse, which revokes the whole token family.
func (b *Backend) handleRefresh(w http.ResponseWriter, r *http.Request) {
	cred := bearer(r)
	if cred == "" {
		writeError(w, http.StatusUnauthorized, "Unauthenticated.")
		return
	}
	isRefresh := strings.HasPrefix(cred, refreshPrefix)
	var jti string
	if !isRefresh {
		var err error
		if jti, _, err = b.verify(cred); err != nil {
			writeError(w, http.StatusUnauthorized, "Token is invalid.")
			return
		}
	}
	now := b.now()
	b.mu.Lock()
	var rec *tokenRecord
	if isRefresh {
		rec = b.refresh[hashToken(cred)]
	} else {
		rec = b.access[jti]
	}
	var u *DemoUser
	if rec != nil {
		u = b.userByIDLocked(rec.userID)
	}
	switch {
	case rec == nil:
		b.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "Token is invalid.")
		return
	case u == nil:
		b.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "Guest tokens cannot be refreshed.")
		return
	case !now.Before(rec.issued.Add(b.refreshTTL)):
		b.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "Token has expired and can no longer be refreshed.")
		return
	case rec.revoked || rec.family.revoked:
		b.mu.Unlock()
		writeCode(w, http.StatusForbidden, "revoked", "Token has been revoked.")
		return
	case rec.used:
		rec.family.revoked = true
		b.mu.Unlock()
		writeCode(w, http.StatusConflict, "token_reuse", "Refresh token reuse detected.")
		return
	}
	rec.used = true
	c := b.newAccessLocked(u, "", rec.family, now, b.accessTTL)
	refresh := b.newRefreshLocked(u.ID, rec.family, now)
	b.mu.Unlock()
	access, err := b.sign(c)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Server error.")
		return
	}
	writeData(w, tokens{AccessToken: access, RefreshToken: refresh})
}

// handleGuest serves POST auth/guest with the guest credentials.
func (b *Backend) handleGuest(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if !equalSecret(in.Username, GuestUsername) || !equalSecret(in.Password, GuestPassword) {
		writeError(w, http.StatusUnauthorized, "Invalid credentials.")
		return
	}
	writeData(w, struct {
		AccessToken string `json:"accessToken"`
		ExpiresIn   int64  `json:"expiresIn"`
	}{b.IssueGuest(b.guestTTL), int64(b.guestTTL / time.Second)})
}

// handleLogout serves POST auth/logout: the bearer token (access, expired
// or not, or refresh) and its whole family are revoked.
func (b *Backend) handleLogout(w http.ResponseWriter, r *http.Request) {
	rec, err := b.lookup(bearer(r))
	if err != nil {
		writeError(w, http.StatusUnauthorized, "Unauthenticated.")
		return
	}
	b.mu.Lock()
	rec.revoked = true
	rec.family.revoked = true
	b.mu.Unlock()
	writeJSON(w, http.StatusOK, ok{Success: true})
}
