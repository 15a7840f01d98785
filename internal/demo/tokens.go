package demo

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Token types, in the "type" claim and the "type" field of auth/me.
const (
	TypeUser  = "user"
	TypeGuest = "guest"
)

// refreshPrefix starts every (opaque) refresh token.
const refreshPrefix = "rt_"

// pruneEvery is how many issued tokens trigger a sweep of dead records.
const pruneEvery = 256

// family is the chain of tokens descended from one login (or one guest
// token, or one Issue call). Revoking it invalidates every member.
type family struct {
	revoked bool
	until   time.Time // no member is usable after this
}

// tokenRecord is the server-side state of one access or refresh token.
type tokenRecord struct {
	family  *family
	userID  int64  // 0 for guests
	guestID string // set for guests
	issued  time.Time
	exp     time.Time
	until   time.Time // the record is dead (and pruned) after this
	used    bool      // consumed by a refresh (rotated away)
	revoked bool      // logged out
	expired bool      // expired early by ExpireSession; still refreshable
}

// claims are the claims of a token about to be signed.
type claims struct {
	jti, sub, name, email, typ string
	roles                      []string
	iat, exp                   time.Time
}

var (
	errNoUser       = errors.New("demo: unknown user")
	errBadSignature = errors.New("demo: token signature or format invalid")
	errUnknownToken = errors.New("demo: unknown token")
)

// Issue returns a signed access token for the user with the given username
// and lifetime (negative: already expired), in a new token family. It is
// meant for tests.
func (b *Backend) Issue(username string, ttl time.Duration) (string, error) {
	now := b.now()
	b.mu.Lock()
	u := b.byLogin[strings.ToLower(username)]
	if u == nil || !strings.EqualFold(u.Username, username) {
		b.mu.Unlock()
		return "", fmt.Errorf("%w: %q", errNoUser, username)
	}
	c := b.newAccessLocked(u, "", b.newFamilyLocked(), now, ttl)
	b.mu.Unlock()
	return b.sign(c)
}

// IssueGuest returns a signed guest token with the given lifetime
// (negative: already expired), in a new token family. It is meant for tests.
func (b *Backend) IssueGuest(ttl time.Duration) string {
	now := b.now()
	b.mu.Lock()
	c := b.newAccessLocked(nil, "guest-"+strings.ToLower(rand.Text()[:12]), b.newFamilyLocked(), now, ttl)
	b.mu.Unlock()
	tok, err := b.sign(c)
	if err != nil {
		// Signing with a generated key cannot fail.
		panic(err)
	}
	return tok
}

// Revoke revokes token as a logout does: the token and its whole family
// (every token descended from the same login) become invalid. token may be
// an access token, expired or not, or a refresh token. Unknown tokens are
// ignored.
func (b *Backend) Revoke(token string) {
	rec, _ := b.lookup(token)
	if rec == nil {
		return
	}
	b.mu.Lock()
	rec.revoked = true
	rec.family.revoked = true
	b.mu.Unlock()
}

// newFamilyLocked starts a token family. The caller holds mu.
func (b *Backend) newFamilyLocked() *family {
	f := &family{}
	b.families[rand.Text()] = f
	return f
}

// newAccessLocked records a new access token for u (nil: the guest guestID)
// in f and returns its claims. The caller holds mu.
func (b *Backend) newAccessLocked(u *DemoUser, guestID string, f *family, now time.Time, ttl time.Duration) claims {
	exp := now.Add(ttl)
	iat := now
	if exp.Before(iat) {
		iat = exp // an already expired token was issued no later than it expired
	}
	rec := &tokenRecord{family: f, issued: iat, exp: exp}
	c := claims{jti: rand.Text(), iat: iat, exp: exp, roles: []string{}}
	if u != nil {
		rec.userID = u.ID
		c.sub, c.name, c.email, c.typ = strconv.FormatInt(u.ID, 10), u.Name, u.Email, TypeUser
		c.roles = append(c.roles, u.Roles...)
		rec.until = later(exp, iat.Add(b.refreshTTL))
	} else {
		rec.guestID = guestID
		c.sub, c.name, c.typ = guestID, "Guest", TypeGuest
		rec.until = exp
	}
	f.until = later(f.until, rec.until)
	b.access[c.jti] = rec
	b.countMintLocked(now)
	return c
}

// newRefreshLocked records a new refresh token for user id in f and
// returns it. The caller holds mu.
func (b *Backend) newRefreshLocked(userID int64, f *family, now time.Time) string {
	tok := refreshPrefix + rand.Text() + rand.Text()
	exp := now.Add(b.refreshTTL)
	b.refresh[hashToken(tok)] = &tokenRecord{family: f, userID: userID, issued: now, exp: exp, until: exp}
	f.until = later(f.until, exp)
	b.countMintLocked(now)
	return tok
}

// countMintLocked counts an issued token and now and then drops the records
// of tokens that can no longer be used for anything. The caller holds mu.
func (b *Backend) countMintLocked(now time.Time) {
	b.minted++
	if b.minted%pruneEvery != 0 {
		return
	}
	for k, r := range b.access {
		if now.After(r.until) {
			delete(b.access, k)
		}
	}
	for k, r := range b.refresh {
		if now.After(r.until) {
			delete(b.refresh, k)
		}
	}
	for k, f := range b.families {
		if now.After(f.until) {
			delete(b.families, k)
		}
	}
}

// sign returns c as a JWT signed with the current key (its kid in the
// header).
func (b *Backend) sign(c claims) (string, error) {
	t, err := jwt.NewBuilder().
		JwtID(c.jti).
		Subject(c.sub).
		IssuedAt(c.iat).
		Expiration(c.exp).
		Claim("name", c.name).
		Claim("email", c.email).
		Claim("roles", c.roles).
		Claim("type", c.typ).
		Build()
	if err != nil {
		return "", fmt.Errorf("demo: build token: %w", err)
	}
	r := b.ring()
	s, err := jwt.Sign(t, jwt.WithKey(r.alg, r.cur.priv))
	if err != nil {
		return "", fmt.Errorf("demo: sign token: %w", err)
	}
	return string(s), nil
}

// verify checks the signature of an access token with the current or the
// previous key (picked by kid, with the backend's algorithm) and returns
// its jti and exp. It does not check exp.
func (b *Backend) verify(token string) (jti string, exp time.Time, err error) {
	t, err := jwt.ParseString(token, jwt.WithKeySet(b.ring().set), jwt.WithValidate(false))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: %w", errBadSignature, err)
	}
	jti, ok := t.JwtID()
	if !ok || jti == "" {
		return "", time.Time{}, fmt.Errorf("%w: no jti", errBadSignature)
	}
	exp, ok = t.Expiration()
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: no exp", errBadSignature)
	}
	return jti, exp, nil
}

// lookup finds the record of token, an access token (its signature
// verified, expired or not) or a refresh token.
func (b *Backend) lookup(token string) (*tokenRecord, error) {
	if strings.HasPrefix(token, refreshPrefix) {
		b.mu.Lock()
		rec := b.refresh[hashToken(token)]
		b.mu.Unlock()
		if rec == nil {
			return nil, errUnknownToken
		}
		return rec, nil
	}
	jti, _, err := b.verify(token)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	rec := b.access[jti]
	b.mu.Unlock()
	if rec == nil {
		return nil, errUnknownToken
	}
	return rec, nil
}

// identity is who a valid access token speaks for.
type identity struct {
	user  DemoUser // zero for guests
	guest string   // the guest id, for guests
	exp   time.Time
}

// authenticate returns the identity of the request's bearer access token,
// or false when it is missing, badly signed, expired, rotated away or
// revoked.
func (b *Backend) authenticate(tok string) (identity, bool) {
	if tok == "" || strings.HasPrefix(tok, refreshPrefix) {
		return identity{}, false
	}
	jti, exp, err := b.verify(tok)
	if err != nil || !b.now().Before(exp) {
		return identity{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	rec := b.access[jti]
	if rec == nil || rec.used || rec.revoked || rec.family.revoked || rec.expired {
		return identity{}, false
	}
	id := identity{guest: rec.guestID, exp: exp}
	if rec.userID != 0 {
		u := b.userByIDLocked(rec.userID)
		if u == nil {
			return identity{}, false
		}
		id.user = *u
		id.user.Roles = append([]string{}, u.Roles...)
	}
	return id, true
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
