package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/apilayer/apilayer/backend"
)

// Relay hands the refresh of a credential to its owner among the
// gateway's instances (store.peers, docs/distributed.md): the owner
// refreshes, under the RefreshLock when it can reach Redis and alone when
// it cannot, so that one instance refreshes each credential even while
// Redis is unavailable or flapping. The gateway implements it over
// package peer.
type Relay interface {
	// Refresh asks the owner of cred (key is Key(cred)) to refresh it for
	// client and returns the owner's answer. asked is false when there is
	// nobody to ask (this instance is the owner, or no peer is live); an
	// error means the owner did not answer (unreachable, too slow, it
	// yielded, its answer was not readable). In both cases the Manager
	// refreshes in this instance.
	Refresh(ctx context.Context, key, cred, client string) (a RelayAnswer, asked bool, err error)
}

// RelayAnswer is an owner's answer to a relayed refresh: Sealed holds the
// new tokens sealed as a successor record of the credential for the
// asking client (only a holder of the old credential, asking for that
// client, can open it), or Reason says why the refresh failed.
type RelayAnswer struct {
	Sealed []byte
	Reason Reason
}

// Relayed runs a refresh that another instance relayed to this one, the
// owner of cred (docs/distributed.md, "Peers"): as for a request from
// client carrying cred (its successor record, the single-flight, the
// failure memory, the RefreshLock if it answers), except that it is never
// relayed again. The new tokens are sealed for client, as a successor
// record of cred is.
func (m *Manager) Relayed(ctx context.Context, cred, client string) (RelayAnswer, error) {
	if m.isClosed() {
		return RelayAnswer{}, ErrClosed
	}
	if cred == "" {
		return RelayAnswer{}, errors.New("session: relayed refresh without a credential")
	}
	key := Key(cred)
	r := m.refreshing(ctx, Input{ClientID: client}, cred, true)
	switch {
	case r.cancelled:
		return RelayAnswer{}, fmt.Errorf("session: relayed refresh: %w", context.Cause(ctx))
	case r.reason != "":
		return RelayAnswer{Reason: r.reason}, nil
	}
	sealed, err := sealSuccessor(cred, key, client, r.tokens)
	if err != nil {
		return RelayAnswer{}, err
	}
	return RelayAnswer{Sealed: sealed}, nil
}

// viaOwner asks the owner of cred among the peers to refresh it. ok is
// false when there is nobody to ask (this instance owns it, or no peer is
// live) or the owner did not answer in time: this instance then goes on
// with the lock.
func (m *Manager) viaOwner(ctx context.Context, key, cred, client string) (r refreshed, ok bool) {
	// The owner's refresh takes what a lock holder's does.
	rctx, cancel := context.WithTimeout(ctx, m.lockTTL)
	a, asked, err := m.relay.Refresh(rctx, key, cred, client)
	cancel()
	switch {
	case ctx.Err() != nil: // Close
		return refreshed{reason: backend.ReasonNetwork}, true
	case !asked:
		return refreshed{}, false
	case err != nil:
		m.log.Debug("session: the refresh owner did not answer: refreshing in this instance", slog.Any("error", err))
		return refreshed{}, false
	}
	return m.fromRelay(ctx, key, cred, client, a), true
}

// unlocked refreshes cred in this instance when the RefreshLock cannot be
// used. As without a lock, a refresh that ended just before this flight
// started decides first (its successor record is for one client: each
// caller looks it up).
func (m *Manager) unlocked(ctx context.Context, key, cred, client string) refreshed {
	if m.hasSuccessor(ctx, key) {
		return refreshed{retry: true}
	}
	if r, ok := m.failedGet(ctx, key); ok {
		return refreshed{reason: r}
	}
	return m.doRefresh(ctx, key, cred, client)
}

// fromRelay decides the refresh of cred from the owner's answer a, as if
// this instance had refreshed: the failure is remembered, the new tokens
// get a successor record here too and are validated.
func (m *Manager) fromRelay(ctx context.Context, key, cred, client string, a RelayAnswer) refreshed {
	switch a.Reason {
	case "":
	case backend.ReasonNetwork:
		m.rememberUnavailable(ctx, key)
		return refreshed{reason: backend.ReasonNetwork}
	case backend.ReasonReuse, backend.ReasonExpired, backend.ReasonRevoked:
		return m.refreshFailed(ctx, key, a.Reason)
	default:
		return m.refreshFailed(ctx, key, backend.ReasonUnknown)
	}
	t, err := openSuccessor(cred, key, client, a.Sealed)
	if err != nil || t.Access == "" {
		// The owner refreshed, but its answer cannot be read here: a
		// refresh here would be reuse. Unavailable for this request; the
		// next one asks again and gets the owner's successor record.
		m.log.Warn("session: the refresh owner's answer is not readable", slog.Any("error", err))
		return refreshed{reason: backend.ReasonNetwork}
	}
	m.forgetUnavailable(ctx, key)
	m.storeSuccessor(ctx, key, cred, client, t)
	v := m.validate(ctx, t.Access)
	switch v.verdict {
	case valid:
		return refreshed{tokens: t, id: v.id}
	case unavailable:
		return refreshed{tokens: t}
	}
	return m.refreshFailed(ctx, key, backend.ReasonUnknown)
}
