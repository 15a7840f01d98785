package session

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/apilayer/apilayer/backend"
	"golang.org/x/sync/singleflight"
)

// Authenticate runs the token cascade of SPEC.md sections 4.1 and 4.2 for
// one request: the user cookie, else the guest cookie, validated (cached,
// de-duplicated), refreshed when invalid, with guest minting and the
// failure rules of the decision table.
func (m *Manager) Authenticate(ctx context.Context, in Input) Outcome {
	if m.isClosed() {
		return Outcome{State: StateUnavailable}
	}
	switch {
	case in.User != "":
		return m.user(ctx, in)
	case in.Guest != "":
		return m.guest(ctx, in)
	}
	if g, ok := m.mint(ctx, in); ok {
		return Outcome{State: StateGuest, Token: g, Minted: true, Set: Cookies{Guest: g}}
	}
	return Outcome{State: StateAnonymous}
}

// user handles a request carrying a user cookie.
func (m *Manager) user(ctx context.Context, in Input) Outcome {
	v := m.validate(ctx, in.User)
	switch v.verdict {
	case unavailable:
		return Outcome{State: StateUnavailable}
	case valid:
		o := Outcome{State: stateOf(v.id), Identity: v.id, Token: in.User, Stale: v.stale}
		// A valid user token deletes a carried guest cookie; a stale answer
		// changes no cookie.
		o.Delete.Guest = o.State == StateUser && !v.stale && in.Guest != ""
		return o
	}

	return m.afterRefresh(ctx, in, m.refresh(ctx, in.User))
}

// Refresh forces a refresh of the user cookie's token (the built-in auth
// API's POST refresh), whatever its validity. Success, reuse and network
// failures are decided as in Authenticate; after any other failure the
// current token is authenticated as usual (a still-valid token is kept; the
// failure is remembered, so no second refresh call is made). Without a user
// cookie it answers StateAnonymous and changes nothing.
func (m *Manager) Refresh(ctx context.Context, in Input) Outcome {
	if m.isClosed() {
		return Outcome{State: StateUnavailable}
	}
	if in.User == "" {
		return Outcome{State: StateAnonymous}
	}
	r := m.refresh(ctx, in.User)
	switch r.reason {
	case "", backend.ReasonReuse, backend.ReasonNetwork:
		return m.afterRefresh(ctx, in, r)
	}
	return m.user(ctx, in)
}

// Forget drops what the Manager remembers about token (after a logout), so
// it is neither served from the cache nor served stale.
func (m *Manager) Forget(token string) {
	if token == "" {
		return
	}
	if err := m.cache.Delete(context.Background(), Key(token)); err != nil {
		m.log.Warn("session: cache delete failed", slog.Any("error", err))
	}
}

// afterRefresh decides the outcome of a refresh of the user cookie's token.
func (m *Manager) afterRefresh(ctx context.Context, in Input, r refreshed) Outcome {
	switch {
	case r.cancelled:
		return Outcome{State: StateUnavailable}
	case r.reason == "" && r.id == nil:
		// The backend refreshed (and so rotated) the token, but the new one
		// could not be validated because the backend became unavailable.
		// Keep the new token, or the session is lost for good.
		return Outcome{State: StateUnavailable, Token: r.tokens.Access, Refreshed: true,
			Set: Cookies{User: r.tokens.Access, Refresh: r.tokens.Refresh}}
	case r.reason == "":
		o := Outcome{State: stateOf(r.id), Identity: r.id, Token: r.tokens.Access, Refreshed: true,
			Set: Cookies{User: r.tokens.Access, Refresh: r.tokens.Refresh}}
		o.Delete.Guest = o.State == StateUser && in.Guest != ""
		return o
	case r.reason == backend.ReasonNetwork:
		// SPEC.md 5a: not served stale, no cookie change, no guest.
		return Outcome{State: StateUnavailable, Reason: r.reason}
	case r.reason == backend.ReasonReuse || !m.guestFallback:
		return Outcome{State: StateExpired, Reason: r.reason, Delete: carried(in)}
	}
	// Guest fallback: as if there were no token.
	if g, ok := m.mint(ctx, in); ok {
		return Outcome{State: StateGuest, Token: g, Minted: true, Reason: r.reason,
			Set: Cookies{Guest: g}, Delete: CookieSet{User: true}}
	}
	return Outcome{State: StateAnonymous, Reason: r.reason, Delete: carried(in)}
}

// guest handles a request carrying a guest cookie and no user cookie.
func (m *Manager) guest(ctx context.Context, in Input) Outcome {
	v := m.validate(ctx, in.Guest)
	switch v.verdict {
	case unavailable:
		return Outcome{State: StateUnavailable}
	case valid:
		return Outcome{State: stateOf(v.id), Identity: v.id, Token: in.Guest, Stale: v.stale}
	}
	// An invalid guest token is never refreshed: a new one is minted.
	if g, ok := m.mint(ctx, in); ok {
		return Outcome{State: StateGuest, Token: g, Minted: true, Set: Cookies{Guest: g}}
	}
	return Outcome{State: StateAnonymous, Delete: carried(in)}
}

// mint asks the backend for a guest token, within the per-client cap.
func (m *Manager) mint(ctx context.Context, in Input) (string, bool) {
	if !m.guestEnabled {
		return "", false
	}
	if m.limiter != nil && !m.limiter.Allow(ctx, in.Client) {
		m.log.Debug("session: guest cap reached", slog.String("client", in.Client))
		return "", false
	}
	g, err := m.be.Guest(ctx)
	if err != nil || g == "" {
		m.log.Warn("session: guest token not minted", slog.Any("error", err))
		return "", false
	}
	return g, true
}

type verdict int

const (
	unavailable verdict = iota
	valid
	invalid
)

// validation is the result of validate.
type validation struct {
	verdict verdict
	id      *Identity
	stale   bool
}

// validate returns the verdict on token: from the cache when fresh, else
// from one backend call shared by every concurrent caller, else (backend
// unavailable) from the staleIfError memory.
func (m *Manager) validate(ctx context.Context, token string) validation {
	key := Key(token)
	if e, ok := m.cacheGet(ctx, key); ok && m.now().Before(e.Fresh) {
		return fromEntry(e)
	}
	val, err := m.shared(ctx, &m.vg, key, func(fctx context.Context) (any, error) {
		// A flight that ended just before this one may have filled the cache.
		if e, ok := m.cacheGet(fctx, key); ok && m.now().Before(e.Fresh) {
			return e, nil
		}
		return m.ask(fctx, key, token)
	})
	if err == nil {
		return fromEntry(val.(Entry))
	}
	if ctx.Err() != nil {
		return validation{verdict: unavailable}
	}
	if m.stale > 0 {
		if e, ok := m.cacheGet(ctx, key); ok && e.Valid && e.Identity != nil && m.now().Before(e.Stale) {
			return validation{verdict: valid, id: e.Identity, stale: true}
		}
	}
	return validation{verdict: unavailable}
}

// ask makes one validation call and caches its answer. An error means the
// backend could not answer.
func (m *Manager) ask(ctx context.Context, key, token string) (Entry, error) {
	id, err := m.be.Validate(ctx, token)
	now := m.now()
	switch {
	case err == nil:
		e := Entry{Valid: true, Identity: &id}
		if m.ttl > 0 {
			e.Fresh = now.Add(m.ttl)
		}
		if m.stale > 0 {
			e.Stale = now.Add(m.stale)
		}
		if !id.Exp.IsZero() { // an entry never outlives the token
			e.Fresh = minTime(e.Fresh, id.Exp)
			e.Stale = minTime(e.Stale, id.Exp)
		}
		m.cacheSet(ctx, key, e)
		return e, nil
	case errors.Is(err, backend.ErrInvalid):
		// Invalid answers are cached too, so random cookies cannot multiply
		// backend calls; this also ends any staleIfError memory.
		e := Entry{}
		if m.ttl > 0 {
			e.Fresh = now.Add(m.ttl)
		}
		m.cacheSet(ctx, key, e)
		return e, nil
	}
	return Entry{}, err
}

func fromEntry(e Entry) validation {
	if e.Valid && e.Identity != nil {
		return validation{verdict: valid, id: e.Identity}
	}
	return validation{verdict: invalid}
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// refreshed is the result of refresh.
type refreshed struct {
	tokens    Tokens
	id        *Identity // nil with reason "": refreshed, new token unverified
	reason    Reason
	cancelled bool // the caller's context ended first
}

// refresh exchanges the credential for a validated new token, one backend
// call for every concurrent caller when single-flight is on. Failures
// other than network are remembered for max(CacheTTL, 1s).
func (m *Manager) refresh(ctx context.Context, cred string) refreshed {
	key := Key(cred)
	if r, ok := m.failedGet(ctx, key); ok {
		return refreshed{reason: r}
	}
	var g *singleflight.Group
	if m.singleFlight {
		g = &m.rg
	}
	val, err := m.shared(ctx, g, key, func(fctx context.Context) (any, error) {
		if r, ok := m.failedGet(fctx, key); ok {
			return refreshed{reason: r}, nil
		}
		return m.doRefresh(fctx, key, cred), nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return refreshed{cancelled: true}
		}
		return refreshed{reason: backend.ReasonNetwork}
	}
	return val.(refreshed)
}

func (m *Manager) doRefresh(ctx context.Context, key, cred string) refreshed {
	t, err := m.be.Refresh(ctx, cred)
	if err != nil {
		var re *backend.RefreshError
		if !errors.As(err, &re) || re.Reason == backend.ReasonNetwork {
			m.log.Warn("session: refresh failed", slog.String("reason", string(backend.ReasonNetwork)))
			return refreshed{reason: backend.ReasonNetwork}
		}
		return m.refreshFailed(ctx, key, re.Reason)
	}
	if t.Access == "" {
		return m.refreshFailed(ctx, key, backend.ReasonUnknown)
	}
	e, err := m.ask(ctx, Key(t.Access), t.Access)
	switch {
	case err != nil:
		m.log.Warn("session: refreshed token not validated: backend unavailable")
		return refreshed{tokens: t}
	case !e.Valid:
		return m.refreshFailed(ctx, key, backend.ReasonUnknown)
	}
	return refreshed{tokens: t, id: e.Identity}
}

func (m *Manager) refreshFailed(ctx context.Context, key string, r Reason) refreshed {
	m.log.Info("session: refresh failed", slog.String("reason", string(r)))
	m.remember(ctx, key, r)
	return refreshed{reason: r}
}

// Identify validates token (cached, de-duplicated, stale-if-error) without
// refreshing it, minting a guest or deciding any cookie change. It returns
// the identity when the token is valid now. The gateway uses it where it
// needs to know who is asking before the rest of the cascade runs: the
// CSRF binding of the built-in auth API and the rate-limit key by user.
func (m *Manager) Identify(ctx context.Context, token string) (*Identity, bool) {
	if token == "" || m.isClosed() {
		return nil, false
	}
	v := m.validate(ctx, token)
	return v.id, v.verdict == valid && v.id != nil
}
