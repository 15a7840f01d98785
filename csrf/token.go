package csrf

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"net/http"
	"sync"

	"github.com/apilayer/apilayer/internal/cookieheader"
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
	var mac [macLen]byte
	p.keys[0].sign(&mac, &random, binding)
	var buf [tokenLen]byte
	hex.Encode(buf[:2*macLen], mac[:])
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
	return p.verify(&mac, &random, binding)
}

// current reports whether token is valid for binding under the current
// secret (not merely a previous one).
func (p *Protection) current(token, binding string) bool {
	mac, random, ok := parse(token)
	if !ok {
		return false
	}
	var want [macLen]byte
	p.keys[0].sign(&want, &random, binding)
	return hmac.Equal(mac[:], want[:])
}

func (p *Protection) verify(mac *[macLen]byte, random *[randomLen]byte, binding string) bool {
	match := 0
	var want [macLen]byte
	for _, key := range p.keys {
		key.sign(&want, random, binding)
		match |= subtle.ConstantTimeCompare(mac[:], want[:])
	}
	return match == 1
}

// signer computes the token MACs of one secret. Keyed HMAC states are
// pooled with a scratch buffer: setting one up costs several allocations,
// Reset brings a used one back to its keyed start, and a message built in
// the pooled buffer reaches the hash without escaping to the heap.
type signer struct{ pool sync.Pool }

type macState struct {
	h   hash.Hash
	msg []byte
	sum [macLen]byte
}

func newSigner(key []byte) *signer {
	key = bytes.Clone(key)
	return &signer{pool: sync.Pool{New: func() any {
		return &macState{h: hmac.New(sha256.New, key)}
	}}}
}

// sign writes to out the MAC of macContext, then random and binding, each
// prefixed with its length as 8 big-endian bytes.
func (s *signer) sign(out *[macLen]byte, random *[randomLen]byte, binding string) {
	st := s.pool.Get().(*macState)
	st.msg = append(st.msg[:0], macContext...)
	st.msg = binary.BigEndian.AppendUint64(st.msg, randomLen)
	st.msg = append(st.msg, random[:]...)
	st.msg = binary.BigEndian.AppendUint64(st.msg, uint64(len(binding)))
	st.msg = append(st.msg, binding...)
	st.h.Reset()
	st.h.Write(st.msg)
	st.h.Sum(st.sum[:0])
	*out = st.sum
	if cap(st.msg) > 4<<10 {
		st.msg = nil // a huge binding is not kept in the pool
	}
	s.pool.Put(st)
}

// parse splits a token into its MAC and random value. Only the exact form
// Mint produces is accepted: 64 lower-case hex digits, a dot, 64 lower-case
// hex digits.
func parse(token string) (mac [macLen]byte, random [randomLen]byte, ok bool) {
	if len(token) != tokenLen || token[2*macLen] != '.' {
		return mac, random, false
	}
	ok = decodeLowerHex(mac[:], token[:2*macLen]) && decodeLowerHex(random[:], token[2*macLen+1:])
	return mac, random, ok
}

// decodeLowerHex decodes s, which must be len(dst)*2 lower-case hex digits,
// into dst.
func decodeLowerHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := lowerHexDigit(s[2*i])
		lo, ok2 := lowerHexDigit(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func lowerHexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
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
	for name, value := range cookieheader.All(r.Header) {
		value, ok := cookieheader.Value(value)
		if name != p.cookieName || !ok || value == "" {
			continue
		}
		present = true
		if header != "" && len(value) == len(header) &&
			subtle.ConstantTimeCompare([]byte(value), []byte(header)) == 1 {
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
	if !p.verify(&mac, &random, binding) {
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
	for name, value := range cookieheader.All(r.Header) {
		if name == p.cookieName && p.current(value, binding) {
			return value // a valid token is hex: never quoted, never unsafe
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
