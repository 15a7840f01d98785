package csrf

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"net/http"
)

// Token layout: "<hex hmac>.<hex random>", both parts 32 bytes.
const (
	randomLen = 32
	macLen    = sha256.Size
	tokenLen  = 2*macLen + 1 + 2*randomLen
)

// macContext separates these MACs from any other use of the same secret.
const macContext = "apilayer-csrf-v1"

// Mint returns a new token bound to binding: "<hex hmac>.<hex random>",
// where random is 32 fresh random bytes and hmac is HMAC-SHA256, keyed with
// the current secret, over the random value and the binding, each prefixed
// with its length so that no two (random, binding) pairs share a message.
//
// The binding is computed by the caller: the user's id for an authenticated
// user, "" for guests and anonymous visitors. A token minted for one binding
// fails for every other, so a token obtained on the attacker's own account
// is useless against a victim, and a token survives a token refresh (same
// user) but not a login or logout.
func (p *Protection) Mint(binding string) string {
	var random [randomLen]byte
	rand.Read(random[:]) // never fails (crypto/rand aborts the program instead)
	var buf [tokenLen]byte
	mac := sign(p.keys[0], random[:], binding)
	hex.Encode(buf[:2*macLen], mac)
	buf[2*macLen] = '.'
	hex.Encode(buf[2*macLen+1:], random[:])
	return string(buf[:])
}

// Valid reports whether token is well formed and signed for binding by the
// current secret or one of the previous ones. The MAC comparison is in
// constant time; every key is tried, so the time taken does not tell which
// one matched.
func (p *Protection) Valid(token, binding string) bool {
	mac, random, ok := parse(token)
	if !ok {
		return false
	}
	return p.verify(mac, random, binding)
}

// current reports whether token is valid for binding under the current
// secret (not merely a previous one).
func (p *Protection) current(token, binding string) bool {
	mac, random, ok := parse(token)
	return ok && hmac.Equal(mac, sign(p.keys[0], random, binding))
}

func (p *Protection) verify(mac, random []byte, binding string) bool {
	match := 0
	for _, key := range p.keys {
		match |= subtle.ConstantTimeCompare(mac, sign(key, random, binding))
	}
	return match == 1
}

func sign(key, random []byte, binding string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(macContext))
	writeField(m, random)
	writeField(m, []byte(binding))
	return m.Sum(nil)
}

func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// parse splits a token into its MAC and random value. Only the exact form
// Mint produces is accepted: 64 lower-case hex digits, a dot, 64 lower-case
// hex digits.
func parse(token string) (mac, random []byte, ok bool) {
	if len(token) != tokenLen || token[2*macLen] != '.' {
		return nil, nil, false
	}
	if !lowerHex(token[:2*macLen]) || !lowerHex(token[2*macLen+1:]) {
		return nil, nil, false
	}
	mac, err1 := hex.DecodeString(token[:2*macLen])
	random, err2 := hex.DecodeString(token[2*macLen+1:])
	if err1 != nil || err2 != nil {
		return nil, nil, false
	}
	return mac, random, true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckToken is the double-submit part of the check, run after the session
// is validated (and refreshed), with the session's binding. The request must
// carry the token both in the cookie and in the header, identical, and the
// token must be valid for binding. It returns nil or a [Reason]:
// ReasonMissingCookie, ReasonMissingHeader, ReasonMismatch, ReasonBadFormat
// or ReasonBadSignature.
//
// When the request carries several cookies of that name (one tossed from a
// sibling subdomain, say), the one the header repeats is the one checked: a
// tossed cookie can then neither forge a pass nor lock the user out.
func (p *Protection) CheckToken(r *http.Request, binding string) error {
	header := r.Header.Get(p.headerName)
	var found, present bool
	for _, c := range r.CookiesNamed(p.cookieName) {
		if c.Value == "" {
			continue
		}
		present = true
		if header != "" && len(c.Value) == len(header) &&
			subtle.ConstantTimeCompare([]byte(c.Value), []byte(header)) == 1 {
			found = true
		}
	}
	switch {
	case !present:
		return ReasonMissingCookie
	case header == "":
		return ReasonMissingHeader
	case !found:
		return ReasonMismatch
	}
	mac, random, ok := parse(header)
	if !ok {
		return ReasonBadFormat
	}
	if !p.verify(mac, random, binding) {
		return ReasonBadSignature
	}
	return nil
}

// Cookie returns the cookie that carries token: Path=/, SameSite=Strict,
// not HttpOnly (the page's script reads it to repeat it in the header),
// Secure and Domain as the caller says (the gateway passes what it uses for
// its auth cookies). It has no Max-Age: it lasts the browser session, and
// [Protection.Ensure] issues a new one to a visitor who comes back without.
func (p *Protection) Cookie(token string, secure bool, domain string) *http.Cookie {
	return &http.Cookie{
		Name:     p.cookieName,
		Value:    token,
		Path:     "/",
		Domain:   domain,
		Secure:   secure,
		HttpOnly: false,
		SameSite: http.SameSiteStrictMode,
	}
}

// Ensure makes sure the visitor holds a token valid for binding, and
// returns the token in effect. When the request carries such a token, it is
// returned and nothing is set: tokens are not rotated per response, so
// concurrent requests of a single-page app never race on a stale header.
// Otherwise (no token, a token of another binding after a login or logout, a
// token signed by a previous secret) a new one is minted and set on w with
// [Protection.Cookie]. A token of a previous secret still passes CheckToken,
// so a secret rotation breaks no open page, and is replaced on the visitor's
// next request that reaches Ensure.
//
// Ensure is idempotent within a request: a token it already set on w for
// this binding is returned again instead of minting a second one.
func (p *Protection) Ensure(w http.ResponseWriter, r *http.Request, binding string, secure bool, domain string) string {
	for _, c := range r.CookiesNamed(p.cookieName) {
		if p.current(c.Value, binding) {
			return c.Value
		}
	}
	for _, line := range w.Header()["Set-Cookie"] {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == p.cookieName && p.current(c.Value, binding) {
			return c.Value
		}
	}
	token := p.Mint(binding)
	http.SetCookie(w, p.Cookie(token, secure, domain))
	return token
}
