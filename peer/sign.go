package peer

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The headers of a signed request or answer (docs/distributed.md, "The
// wire").
const (
	HeaderTime      = "X-Apilayer-Peer-Time"      // Unix seconds, decimal
	HeaderNonce     = "X-Apilayer-Peer-Nonce"     // 32 lowercase hex digits, random per request
	HeaderSignature = "X-Apilayer-Peer-Signature" // hex HMAC-SHA256 under store.peerSecret
)

// MaxSkew is how far a request's time may be from the receiver's clock,
// either way; a nonce is remembered for that long, so a request is
// accepted once.
const MaxSkew = 30 * time.Second

// MinSecretLen is the shortest store.peerSecret.
const MinSecretLen = 32

// maxNonces bounds the nonces remembered against replays: at most this
// many signed requests within 2*MaxSkew; past it requests are refused
// (403) until older nonces expire.
const maxNonces = 1 << 17

// The reasons a request is refused (403).
var (
	errUnsigned = errors.New("peer: request not signed")
	errBadSig   = errors.New("peer: bad signature")
	errStale    = errors.New("peer: request time outside the accepted window")
	errReplay   = errors.New("peer: nonce already used")
	errFull     = errors.New("peer: too many requests to remember")
)

// signer signs and checks requests and answers with store.peerSecret.
type signer struct {
	key []byte
	now func() time.Time

	mu     sync.Mutex
	nonces map[string]time.Time // nonce => when it may be forgotten; guarded by mu
	swept  time.Time            // the last sweep of nonces; guarded by mu
}

// requestMAC is the signature of a request:
//
//	HMAC-SHA256(secret, "apilayer-peer-v1 request\n" + method + "\n" + path +
//	  "\n" + time + "\n" + nonce + "\n" + hex(SHA-256(body)))
func (s *signer) requestMAC(method, path, ts, nonce string, body []byte) string {
	return s.mac("apilayer-peer-v1 request", method, path, ts, nonce, bodyHash(body))
}

// answerMAC is the signature of an answer to the request with nonce:
//
//	HMAC-SHA256(secret, "apilayer-peer-v1 answer\n" + nonce + "\n" + status +
//	  "\n" + time + "\n" + hex(SHA-256(body)))
func (s *signer) answerMAC(nonce string, status int, ts string, body []byte) string {
	return s.mac("apilayer-peer-v1 answer", nonce, strconv.Itoa(status), ts, bodyHash(body))
}

func (s *signer) mac(parts ...string) string {
	h := hmac.New(sha256.New, s.key)
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{'\n'})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func bodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// sign sets the signature headers of r, whose body is body, and returns
// its nonce.
func (s *signer) sign(r *http.Request, body []byte) string {
	var n [16]byte
	rand.Read(n[:]) // never fails (crypto/rand)
	nonce := hex.EncodeToString(n[:])
	ts := strconv.FormatInt(s.now().Unix(), 10)
	r.Header.Set(HeaderTime, ts)
	r.Header.Set(HeaderNonce, nonce)
	r.Header.Set(HeaderSignature, s.requestMAC(r.Method, r.URL.EscapedPath(), ts, nonce, body))
	return nonce
}

// verify checks the signature of r, whose body is body, and that it is
// new: its time within MaxSkew of now and its nonce never seen. It returns
// the nonce, which the answer's signature covers.
func (s *signer) verify(r *http.Request, body []byte) (string, error) {
	ts, nonce, sig := r.Header.Get(HeaderTime), r.Header.Get(HeaderNonce), r.Header.Get(HeaderSignature)
	if ts == "" || sig == "" || len(nonce) != 32 {
		return "", errUnsigned
	}
	want := s.requestMAC(r.Method, r.URL.EscapedPath(), ts, nonce, body)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return "", errBadSig
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", errStale
	}
	now := s.now()
	at := time.Unix(sec, 0)
	if at.Before(now.Add(-MaxSkew)) || at.After(now.Add(MaxSkew)) {
		return "", errStale
	}
	return nonce, s.fresh(nonce, now)
}

// fresh remembers nonce until no request carrying it can be in the
// window any more, and fails if it was already there.
func (s *signer) fresh(nonce string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nonces == nil {
		s.nonces = make(map[string]time.Time)
	}
	if until, ok := s.nonces[nonce]; ok && now.Before(until) {
		return errReplay
	}
	if len(s.nonces) >= maxNonces || now.Sub(s.swept) >= MaxSkew {
		for n, until := range s.nonces {
			if !now.Before(until) {
				delete(s.nonces, n)
			}
		}
		s.swept = now
		if len(s.nonces) >= maxNonces {
			return errFull
		}
	}
	// A request is accepted up to MaxSkew after its time, which is at
	// most MaxSkew ahead of now.
	s.nonces[nonce] = now.Add(2 * MaxSkew)
	return nil
}

// signAnswer sets the signature headers of an answer with status and
// body to the request with nonce.
func (s *signer) signAnswer(h http.Header, nonce string, status int, body []byte) {
	ts := strconv.FormatInt(s.now().Unix(), 10)
	h.Set(HeaderTime, ts)
	h.Set(HeaderSignature, s.answerMAC(nonce, status, ts, body))
}

// verifyAnswer checks the signature of an answer to the request with
// nonce.
func (s *signer) verifyAnswer(res *http.Response, nonce string, body []byte) error {
	ts, sig := res.Header.Get(HeaderTime), res.Header.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return errUnsigned
	}
	if !hmac.Equal([]byte(sig), []byte(s.answerMAC(nonce, res.StatusCode, ts, body))) {
		return errBadSig
	}
	return nil
}
