package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/apilayer/apilayer/backend"
)

// RefreshLock coordinates the refreshes of one credential across
// instances (distributed mode, docs/distributed.md): the instance that takes
// the lock of Key(credential) refreshes; the others wait for its release
// and read its result. *redisstore.Locks implements it.
//
// An error of any method means the lock could not be used (Redis is
// unavailable); the Manager then refreshes in this instance alone, so no
// request fails because of the lock.
type RefreshLock interface {
	// TryLock takes the lock of key for ttl if it is free; ok reports
	// whether it was taken and token is its fencing token (positive),
	// increasing across acquisitions of key. When the lock is held, ok is
	// false and token is the holder's fencing token, read atomically with
	// the refusal (0 if unknown).
	TryLock(ctx context.Context, key string, ttl time.Duration) (token int64, ok bool, err error)
	// Unlock releases the lock of key if it is still held under token.
	Unlock(ctx context.Context, key string, token int64) error
	// Wait returns nil once the lock of key is free (released, or expired
	// by its TTL), or an error when ctx ends first or it cannot tell.
	Wait(ctx context.Context, key string) error
}

// DefaultRefreshLockTTL is Options.RefreshLockTTL when it is zero.
const DefaultRefreshLockTTL = 10 * time.Second

// lockAttempts bounds how many times one refresh flight tries the lock
// before refreshing in this instance alone: a flight waits again only
// when the holder it waited for left no readable result (it crashed, its
// lock expired, or it found the credential already rotated).
const lockAttempts = 3

// flightInfo is the HKDF context of a flight record's key.
const flightInfo = "apilayer session flight v1"

// A flight record is what the holder of a refresh lock leaves for the
// requests that waited for it on other instances: the result of its
// refresh (the new tokens, or the failure reason). Joining a refresh in
// flight is open to any request holding the credential, so,
// unlike a successor record, it is not bound to a client. Instead it is
// bound to one acquisition of the lock:
//
//   - its store key is a SHA-256 of Key(credential) and the lock's fencing
//     token, and only a Manager that saw the lock held under that token
//     (TryLock refused, while the refresh was in flight) looks it up;
//   - it is AES-GCM sealed under HKDF-SHA256(credential, salt = the
//     fencing token), so the store never holds a readable token and only a
//     holder of the old credential can open it;
//   - it lives for RefreshLockTTL only: a waiter reads it right after the
//     release.
//
// A request that arrives after the refresh has finished finds the lock
// free, never looks for a flight record, and gets the successor record
// only if it comes from the refreshing client.

// flightKey is the store key of the flight record of the acquisition
// fence of the lock of key: a lowercase hex SHA-256, as every store key.
func flightKey(key string, fence int64) string {
	h := sha256.New()
	h.Write([]byte("apilayer flight\x00"))
	h.Write([]byte(key))
	h.Write(fenceBytes(fence))
	return hex.EncodeToString(h.Sum(nil))
}

func fenceBytes(fence int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(fence)) }

// sealFlight encrypts the result of the refresh of cred under the lock's
// fencing token fence, for the store key fkey:
// nonce || AES-GCM(len(reason) || reason || len(access) || access || refresh).
func sealFlight(cred, fkey string, fence int64, t Tokens, reason Reason) ([]byte, error) {
	aead, err := credentialAEAD(cred, fenceBytes(fence), flightInfo)
	if err != nil {
		return nil, err
	}
	plain := binary.AppendUvarint(nil, uint64(len(reason)))
	plain = append(plain, reason...)
	plain = binary.AppendUvarint(plain, uint64(len(t.Access)))
	plain = append(plain, t.Access...)
	plain = append(plain, t.Refresh...)
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	rand.Read(out) // never fails (crypto/rand aborts the program instead)
	out = aead.Seal(out, out, plain, []byte(fkey))
	clear(plain)
	return out, nil
}

// errFlight is returned for a flight record that does not open.
var errFlight = errors.New("session: flight record not readable")

// openFlight decrypts the flight record of cred under fence.
func openFlight(cred, fkey string, fence int64, sealed []byte) (Tokens, Reason, error) {
	aead, err := credentialAEAD(cred, fenceBytes(fence), flightInfo)
	if err != nil {
		return Tokens{}, "", err
	}
	n := aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return Tokens{}, "", errFlight
	}
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(fkey))
	if err != nil {
		return Tokens{}, "", errFlight
	}
	field := func() (string, bool) {
		l, w := binary.Uvarint(plain)
		if w <= 0 || l > uint64(len(plain)-w) {
			return "", false
		}
		v := string(plain[w : w+int(l)])
		plain = plain[w+int(l):]
		return v, true
	}
	reason, ok1 := field()
	access, ok2 := field()
	if !ok1 || !ok2 {
		return Tokens{}, "", errFlight
	}
	return Tokens{Access: access, Refresh: string(plain)}, Reason(reason), nil
}

// coordinated refreshes cred (key) once across the instances sharing
// Options.RefreshLock. It runs inside this instance's refresh flight, so
// one request per instance takes part. With peers (Options.Relay), the
// credential's owner among them refreshes: another instance asks it
// first, whether Redis answers or not, since instances may disagree about
// Redis while it flaps, and an instance refreshing under the lock would
// then race an owner refreshing without it. The owner (or any instance
// when the owner does not answer) then takes the lock: its holder
// refreshes, records the successor (or the failure) and the flight
// record, then unlocks; an instance that finds the lock held waits for the
// release (at most RefreshLockTTL) and reads the flight record of that
// holder. A lock that cannot be used (Redis unavailable) means this
// instance refreshes. relayed is a refresh another instance relayed here,
// which is never relayed again.
func (m *Manager) coordinated(ctx context.Context, key, cred, client string, relayed bool) refreshed {
	if m.relay != nil && !relayed {
		if r, ok := m.viaOwner(ctx, key, cred, client); ok {
			return r
		}
	}
	for range lockAttempts {
		fence, ok, err := m.lock.TryLock(ctx, key, m.lockTTL)
		if err != nil {
			m.log.Debug("session: refresh lock unavailable", slog.Any("error", err))
			return m.unlocked(ctx, key, cred, client)
		}
		if ok {
			return m.lead(ctx, key, cred, client, fence)
		}
		wctx, cancel := context.WithTimeout(ctx, m.lockTTL)
		err = m.lock.Wait(wctx, key)
		cancel()
		switch {
		case ctx.Err() != nil: // Close
			return refreshed{reason: backend.ReasonNetwork}
		case err != nil && wctx.Err() == nil:
			m.log.Debug("session: refresh lock wait failed", slog.Any("error", err))
			return m.unlocked(ctx, key, cred, client)
		case err == nil && fence > 0:
			if r, ok := m.flightResult(ctx, key, cred, fence); ok {
				return r
			}
		}
		// The holder left no readable result (it died, its lock expired,
		// or it found the credential already rotated): what it left in the
		// shared stores decides, else try the lock again.
		if m.hasSuccessor(ctx, key) {
			return refreshed{retry: true}
		}
		if r, ok := m.failedGet(ctx, key); ok {
			return refreshed{reason: r}
		}
	}
	m.log.Warn("session: refresh lock contended: refreshing in this instance")
	return m.doRefresh(ctx, key, cred, client)
}

// lead is the refresh of the lock's holder (fencing token fence).
func (m *Manager) lead(ctx context.Context, key, cred, client string, fence int64) refreshed {
	defer func() {
		if err := m.lock.Unlock(ctx, key, fence); err != nil {
			// Expired meanwhile, or Redis is away: the TTL ends it.
			m.log.Debug("session: refresh lock not released", slog.Any("error", err))
		}
	}()
	// A refresh that ended on another instance just before this one took
	// the lock may have rotated the credential or failed already.
	if m.hasSuccessor(ctx, key) {
		return refreshed{retry: true}
	}
	if r, ok := m.failedGet(ctx, key); ok {
		return refreshed{reason: r}
	}
	r := m.doRefresh(ctx, key, cred, client)
	m.storeFlight(ctx, key, cred, fence, r)
	return r
}

// storeFlight leaves the result r for the waiters of this acquisition.
func (m *Manager) storeFlight(ctx context.Context, key, cred string, fence int64, r refreshed) {
	fk := flightKey(key, fence)
	sealed, err := sealFlight(cred, fk, fence, r.tokens, r.reason)
	if err == nil {
		err = m.successors.Set(ctx, fk, sealed, m.lockTTL)
	}
	if err != nil {
		m.log.Warn("session: flight record not stored", slog.Any("error", err))
	}
}

// flightResult reads the result the holder of fence left. The new token
// is validated as any (the holder cached its verdict in the shared cache,
// so this costs no backend call).
func (m *Manager) flightResult(ctx context.Context, key, cred string, fence int64) (refreshed, bool) {
	fk := flightKey(key, fence)
	sealed, ok, err := m.successors.Get(ctx, fk)
	if err != nil || !ok {
		return refreshed{}, false
	}
	t, reason, err := openFlight(cred, fk, fence, sealed)
	if err != nil {
		m.log.Debug("session: flight record not served", slog.Any("error", err))
		return refreshed{}, false
	}
	if reason != "" {
		return refreshed{reason: reason}, true
	}
	if t.Access == "" {
		return refreshed{}, false
	}
	v := m.validate(ctx, t.Access)
	switch v.verdict {
	case valid:
		return refreshed{tokens: t, id: v.id}, true
	case unavailable:
		return refreshed{tokens: t}, true
	}
	return refreshed{reason: backend.ReasonUnknown}, true
}
