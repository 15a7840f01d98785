package session

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/ratelimit"
	"golang.org/x/sync/singleflight"
)

// Authenticate runs the token cascade of docs/how-it-works.md for
// one request: the user cookie, else (dual-token mode) the refresh cookie,
// refreshed at once, else the guest cookie; validated (cached,
// de-duplicated, or locally), refreshed when invalid (or proactively), with
// successor records, guest minting and the failure rules of the decision
// table.
//
// It is Finish(ctx, Validate(ctx, in)): a caller that must know who is
// asking before anything is refreshed or minted (a rate limit keyed by
// user) calls the two halves itself, and the token is validated once.
func (m *Manager) Authenticate(ctx context.Context, in Input) Outcome {
	return m.Finish(ctx, m.Validate(ctx, in))
}

// Validation is the first half of Authenticate: the token the cascade
// starts from (the user cookie, else the guest cookie) validated, from the
// cache, one shared backend call or locally, with nothing refreshed, minted
// or decided. Create it with Validate.
type Validation struct {
	in     Input
	from   source
	v      validation
	closed bool
}

// source is the cookie a Validation started from.
type source uint8

const (
	fromNone    source = iota // no token: a guest may be minted
	fromUser                  // the user cookie, validated
	fromRefresh               // dual-token mode, only the refresh cookie: refreshed at once by Finish
	fromGuest                 // the guest cookie, validated
)

// Validate validates the token the cascade starts from.
func (m *Manager) Validate(ctx context.Context, in Input) Validation {
	switch {
	case m.isClosed():
		return Validation{in: in, closed: true}
	case in.User != "":
		return Validation{in: in, from: fromUser, v: m.validate(ctx, in.User)}
	case m.dual && in.Refresh != "":
		return Validation{in: in, from: fromRefresh}
	case in.Guest != "":
		return Validation{in: in, from: fromGuest, v: m.validate(ctx, in.Guest)}
	}
	return Validation{in: in}
}

// User returns the identity of a valid non-guest token in the user cookie
// (one served stale included), or nil: who is asking, before any refresh.
// The gateway keys rate limits by user and binds CSRF tokens with it.
func (v Validation) User() *Identity {
	if v.from != fromUser || v.v.verdict != valid || v.v.id == nil || v.v.id.Type == "guest" {
		return nil
	}
	return v.v.id
}

// Finish completes Authenticate from v: the refresh of an invalid (or, with
// Proactive, expiring) user token, successor records, guest minting and
// the failure rules of the decision table.
func (m *Manager) Finish(ctx context.Context, v Validation) Outcome {
	if v.closed || m.isClosed() {
		return Outcome{State: StateUnavailable}
	}
	in := v.in
	switch v.from {
	case fromUser:
		return m.user(ctx, in, v.v)
	case fromRefresh:
		// The access cookie expired in the browser: refresh at once.
		return m.afterRefresh(ctx, in, m.refresh(ctx, in, in.Refresh))
	case fromGuest:
		return m.guest(ctx, in, v.v)
	}
	g, ok, down := m.mint(ctx, in)
	if ok {
		return Outcome{State: StateGuest, Token: g, Minted: true, Set: Cookies{Guest: g}}
	}
	return Outcome{State: StateAnonymous, GuestUnavailable: down}
}

// credential is what authenticates a refresh of in: the refresh cookie in
// dual-token mode, else the user cookie ("" = none).
func (m *Manager) credential(in Input) string {
	if m.dual {
		return in.Refresh
	}
	return in.User
}

// user handles a request carrying a user cookie, validated as v.
func (m *Manager) user(ctx context.Context, in Input, v validation) Outcome {
	switch v.verdict {
	case unavailable:
		return Outcome{State: StateUnavailable}
	case valid:
		o := Outcome{State: stateOf(v.id), Identity: v.id, Token: in.User, Stale: v.stale}
		// A valid user token deletes a carried guest cookie; a stale answer
		// changes no cookie.
		o.Delete.Guest = o.State == StateUser && !v.stale && in.Guest != ""
		if o.State == StateUser && !v.stale && m.due(v.id) {
			if cred := m.credential(in); cred != "" {
				r := m.refresh(ctx, in, cred)
				if r.reason == "" || r.reason == backend.ReasonReuse {
					return m.afterRefresh(ctx, in, r)
				}
				// Any other failure keeps the still-valid token.
			}
		}
		return o
	}
	cred := m.credential(in)
	if cred == "" {
		// Dual-token mode without a refresh cookie: nothing to refresh
		// with, so the fallback path (as next-api-layer 1.4.2 A.3).
		return m.fallback(ctx, in, "", CookieSet{User: true})
	}
	return m.afterRefresh(ctx, in, m.refresh(ctx, in, cred))
}

// due reports whether a valid user token is due for a proactive refresh.
func (m *Manager) due(id *Identity) bool {
	return m.proactive && id != nil && !id.Exp.IsZero() && id.Exp.Sub(m.now()) <= m.window
}

// Refresh forces a refresh (the built-in auth API's POST refresh) with the
// request's credential (the user cookie; dual-token mode: the refresh
// cookie), whatever the token's validity. Success, reuse and network
// failures are decided as in Authenticate; after any other failure the
// request is authenticated as usual (a still-valid token is kept; the
// failure is remembered, so no second refresh call is made) and the
// Outcome's Reason says why the refresh failed. Without a
// credential it authenticates the user cookie as usual, and without a user
// cookie either it answers StateAnonymous and changes nothing.
func (m *Manager) Refresh(ctx context.Context, in Input) Outcome {
	if m.isClosed() {
		return Outcome{State: StateUnavailable}
	}
	cred := m.credential(in)
	if cred == "" {
		if in.User == "" {
			return Outcome{State: StateAnonymous}
		}
		return m.user(ctx, in, m.validate(ctx, in.User))
	}
	r := m.refresh(ctx, in, cred)
	switch r.reason {
	case "", backend.ReasonReuse, backend.ReasonNetwork:
		return m.afterRefresh(ctx, in, r)
	}
	o := m.Authenticate(ctx, in)
	if o.Reason == "" {
		o.Reason = r.reason
	}
	return o
}

// Forget drops what the Manager remembers about token (after a logout), so
// it is neither served from the cache nor served stale. In local mode with
// a RevalidateInterval the token is held invalid for one interval (by then
// the backend answers for it); without one a locally valid token stays
// valid until its exp.
func (m *Manager) Forget(token string) {
	if token == "" {
		return
	}
	ctx := context.Background()
	if m.local != nil {
		if m.verified != nil {
			m.verified.Delete(ctx, Key(token))
		}
		m.confirm(ctx, Key(token), false, m.revalidate, time.Time{})
		return
	}
	if err := m.cache.Delete(ctx, Key(token)); err != nil {
		m.log.Warn("session: cache delete failed", slog.Any("error", err))
	}
}

// afterRefresh decides the outcome of a refresh of the request's
// credential.
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
		// Not served stale, no cookie change, no guest
		// (docs/token-management.md#failure-reasons).
		return Outcome{State: StateUnavailable, Reason: r.reason}
	case r.reason == backend.ReasonReuse:
		// The backend saw the credential used twice: the session is over
		// everywhere. A still-valid access token must not be served from
		// any cache (every instance's near cache included) until it
		// expires.
		m.Forget(in.User)
		return Outcome{State: StateExpired, Reason: r.reason, Delete: carried(in)}
	case !m.guestFallback:
		return Outcome{State: StateExpired, Reason: r.reason, Delete: carried(in)}
	}
	// Guest fallback: as if there were no token. A refresh token that
	// failed as expired or revoked is deleted too.
	del := CookieSet{User: true}
	if m.dual && (r.reason == backend.ReasonExpired || r.reason == backend.ReasonRevoked) {
		del.Refresh = true
	}
	return m.fallback(ctx, in, r.reason, del)
}

// fallback treats the request as carrying no token: a guest is minted if
// possible and the cookies named by del (those carried) are deleted;
// without a guest every carried auth cookie is deleted.
func (m *Manager) fallback(ctx context.Context, in Input, reason Reason, del CookieSet) Outcome {
	c := carried(in)
	g, ok, down := m.mint(ctx, in)
	if ok {
		return Outcome{State: StateGuest, Token: g, Minted: true, Reason: reason, Set: Cookies{Guest: g},
			Delete: CookieSet{User: del.User && c.User, Refresh: del.Refresh && c.Refresh}}
	}
	return Outcome{State: StateAnonymous, Reason: reason, Delete: c, GuestUnavailable: down}
}

// guest handles a request carrying a guest cookie and no user cookie,
// validated as v.
func (m *Manager) guest(ctx context.Context, in Input, v validation) Outcome {
	switch v.verdict {
	case unavailable:
		return Outcome{State: StateUnavailable}
	case valid:
		return Outcome{State: stateOf(v.id), Identity: v.id, Token: in.Guest, Stale: v.stale}
	}
	// An invalid guest token is never refreshed: a new one is minted.
	g, ok, down := m.mint(ctx, in)
	if ok {
		return Outcome{State: StateGuest, Token: g, Minted: true, Set: Cookies{Guest: g}}
	}
	return Outcome{State: StateAnonymous, Delete: carried(in), GuestUnavailable: down}
}

// mint asks the backend for a guest token, within the per-client cap.
// unavailable reports that a guest was due but the backend could not be
// asked (the call failed as unavailable, or its breaker is open).
func (m *Manager) mint(ctx context.Context, in Input) (tok string, ok, unavailable bool) {
	if !m.guestEnabled {
		return "", false, false
	}
	if m.limiter != nil && !m.limiter.Allow(ctx, m.guestKey(in.Client)) {
		m.log.Debug("session: guest cap reached", slog.String("client", in.Client))
		return "", false, false
	}
	g, err := m.be.Guest(ctx)
	switch {
	case errors.Is(err, backend.ErrUnavailable):
		// Not logged per request: the backend client logs its breaker's
		// changes of state.
		m.log.Debug("session: guest token not minted", slog.Any("error", err))
		return "", false, true
	case err != nil || g == "":
		m.log.Warn("session: guest token not minted", slog.Any("error", err))
		return "", false, false
	}
	return g, true, false
}

// guestKey is the key of the guest-mint cap for Input.Client: an IP address
// is counted as the rate limits count it (IPv6 by its GuestIPv6Prefix
// prefix), without their "ip:" (an IPv4 client keeps the key it always had
// in a shared store); any other client string is the key as it is.
func (m *Manager) guestKey(client string) string {
	ip, err := netip.ParseAddr(client)
	if err != nil {
		return client
	}
	return strings.TrimPrefix(ratelimit.ClientKey(ip, m.v6prefix), "ip:")
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
	if m.local != nil {
		return m.validateLocal(ctx, token)
	}
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
			e.Fresh = capTime(e.Fresh, id.Exp)
			e.Stale = capTime(e.Stale, id.Exp)
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

// capTime returns the earlier of t and limit, but keeps a zero t (unset:
// "not cached", "not served stale") zero.
func capTime(t, limit time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return minTime(t, limit)
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// validateLocal is validation in local mode: the local verdict, confirmed
// with the backend on the token's first request and then at most once per
// RevalidateInterval (if set).
func (m *Manager) validateLocal(ctx context.Context, token string) validation {
	key := Key(token)
	id, ok := m.verifyLocal(ctx, key, token)
	switch {
	case ok == unavailable:
		return validation{verdict: unavailable}
	case ok == invalid:
		return validation{verdict: invalid}
	}
	v := validation{verdict: valid, id: id}
	if m.revalidate <= 0 {
		return v
	}
	if ok, found := m.confirmedGet(ctx, key); found {
		if !ok {
			return validation{verdict: invalid}
		}
		return v
	}
	val, err := m.shared(ctx, &m.vg, key, func(fctx context.Context) (any, error) {
		// A flight that ended just before this one may have confirmed it.
		if ok, found := m.confirmedGet(fctx, key); found {
			return ok, nil
		}
		return m.revalidateToken(fctx, key, token, id.Exp), nil
	})
	if err != nil {
		return validation{verdict: unavailable} // cancelled, or closed
	}
	if !val.(bool) {
		return validation{verdict: invalid}
	}
	return v
}

// verifyLocal verifies token locally, remembering the verdict in this
// process for CacheTTL (never past the token's exp): the key is the SHA-256
// of the whole token, signature included, so a forged token never matches a
// verified one, and the signature check is not repeated on every request.
func (m *Manager) verifyLocal(ctx context.Context, key, token string) (*Identity, verdict) {
	if m.verified != nil {
		if e, ok, _ := m.verified.Get(ctx, key); ok && m.now().Before(e.Fresh) {
			if e.Valid && e.Identity != nil {
				return e.Identity, valid
			}
			return nil, invalid
		}
	}
	id, err := m.local.Verify(ctx, token)
	switch {
	case err == nil:
	case errors.Is(err, backend.ErrUnavailable):
		return nil, unavailable
	default:
		if m.verified != nil {
			m.verified.Set(ctx, key, Entry{Fresh: m.now().Add(m.ttl)})
		}
		return nil, invalid
	}
	if m.verified != nil {
		fresh := m.now().Add(m.ttl)
		if !id.Exp.IsZero() {
			fresh = minTime(fresh, id.Exp)
		}
		m.verified.Set(ctx, key, Entry{Valid: true, Identity: &id, Fresh: fresh})
	}
	return &id, valid
}

// revalidateToken confirms a locally valid token with the backend and
// remembers the verdict for the interval. An unavailable backend keeps the
// local verdict; it is asked again after max(CacheTTL, 1s) (at most the
// interval), so an outage does not cost a backend call per request.
func (m *Manager) revalidateToken(ctx context.Context, key, token string, exp time.Time) bool {
	_, err := m.be.Validate(ctx, token)
	switch {
	case err == nil:
		m.confirm(ctx, key, true, m.revalidate, exp)
		return true
	case errors.Is(err, backend.ErrInvalid):
		m.log.Info("session: locally valid token rejected by the backend")
		m.confirm(ctx, key, false, m.revalidate, exp)
		return false
	}
	m.log.Debug("session: revalidation skipped: backend unavailable", slog.Any("error", err))
	m.confirm(ctx, key, true, min(m.revalidate, max(m.ttl, time.Second)), exp)
	return true
}

// checkNew validates a token the backend has just issued: locally in local
// mode (and then it counts as confirmed), else with one backend call.
func (m *Manager) checkNew(ctx context.Context, token string) validation {
	if m.local != nil {
		id, err := m.local.Verify(ctx, token)
		switch {
		case err == nil:
			m.confirm(ctx, Key(token), true, m.revalidate, id.Exp)
			return validation{verdict: valid, id: &id}
		case errors.Is(err, backend.ErrUnavailable):
			return validation{verdict: unavailable}
		}
		return validation{verdict: invalid}
	}
	e, err := m.ask(ctx, Key(token), token)
	if err != nil {
		return validation{verdict: unavailable}
	}
	return fromEntry(e)
}

// refreshed is the result of refresh.
type refreshed struct {
	tokens    Tokens
	id        *Identity // nil with reason "": refreshed, new token unverified
	reason    Reason
	cancelled bool // the caller's context ended first
	retry     bool // a successor record appeared: each caller looks it up
}

// refresh exchanges the credential for a validated new token: from the
// credential's successor record when it was rotated away less than
// SuccessorTTL ago by a refresh from the same client, else one backend call
// for every concurrent caller when single-flight is on (joining a flight is
// open to any request with the credential), and with a RefreshLock one
// call across instances (while the lock cannot be used, by the
// credential's owner among the peers: Options.Relay). Failures other than
// network are remembered for
// max(CacheTTL, 1s); a refresh that failed because the backend was
// unavailable is not tried again for 1s, doubled by each further one up to
// 30s, until the backend answers a refresh of the credential.
func (m *Manager) refresh(ctx context.Context, in Input, cred string) refreshed {
	return m.refreshing(ctx, in, cred, false)
}

// refreshing is refresh; relayed is a refresh another instance relayed
// to this one (Relayed), which this one never relays again.
func (m *Manager) refreshing(ctx context.Context, in Input, cred string, relayed bool) refreshed {
	key := Key(cred)
	if r, ok := m.successor(ctx, key, cred, in.ClientID); ok {
		return r
	}
	if r, ok := m.failedGet(ctx, key); ok {
		return refreshed{reason: r}
	}
	var g *singleflight.Group
	if m.singleFlight {
		g = &m.rg
	}
	r := m.flight(ctx, g, key, func(fctx context.Context) refreshed {
		if m.lock != nil {
			// Across instances: the lock's state, not the stores, tells
			// whether a refresh is in flight (whose result any request
			// may join) or has finished (whose successor is for one
			// client).
			return m.coordinated(fctx, key, cred, in.ClientID, relayed)
		}
		if m.hasSuccessor(fctx, key) {
			// A flight that ended just before this one rotated the
			// credential: its record is for one client only, so every
			// caller checks it for itself.
			return refreshed{retry: true}
		}
		if r, ok := m.failedGet(fctx, key); ok {
			return refreshed{reason: r}
		}
		return m.doRefresh(fctx, key, cred, in.ClientID)
	})
	if !r.retry {
		return r
	}
	if r, ok := m.successor(ctx, key, cred, in.ClientID); ok {
		return r
	}
	// Another client holds the old credential: the backend decides (and
	// detects the reuse).
	return m.flight(ctx, g, "direct:"+key, func(fctx context.Context) refreshed {
		if r, ok := m.failedGet(fctx, key); ok {
			return refreshed{reason: r}
		}
		return m.doRefresh(fctx, key, cred, in.ClientID)
	})
}

// flight runs fn as a shared refresh call.
func (m *Manager) flight(ctx context.Context, g *singleflight.Group, key string, fn func(context.Context) refreshed) refreshed {
	val, err := m.shared(ctx, g, key, func(fctx context.Context) (any, error) {
		return fn(fctx), nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return refreshed{cancelled: true}
		}
		return refreshed{reason: backend.ReasonNetwork}
	}
	return val.(refreshed)
}

func (m *Manager) doRefresh(ctx context.Context, key, cred, client string) refreshed {
	t, err := m.be.Refresh(ctx, cred)
	if err != nil {
		var re *backend.RefreshError
		switch {
		case errors.Is(err, backend.ErrUnavailable):
			// No refresh of this credential until the interval is over:
			// a dead backend is not asked again on every request.
			d := m.rememberUnavailable(ctx, key)
			m.log.Warn("session: refresh failed", slog.String("reason", string(backend.ReasonNetwork)),
				slog.Duration("retryIn", d))
			return refreshed{reason: backend.ReasonNetwork}
		case !errors.As(err, &re) || re.Reason == backend.ReasonNetwork:
			// The shared call was cancelled (Close): nothing was learnt.
			return refreshed{reason: backend.ReasonNetwork}
		}
		return m.refreshFailed(ctx, key, re.Reason)
	}
	m.forgetUnavailable(ctx, key)
	if t.Access == "" {
		return m.refreshFailed(ctx, key, backend.ReasonUnknown)
	}
	v := m.checkNew(ctx, t.Access)
	if v.verdict == invalid {
		return m.refreshFailed(ctx, key, backend.ReasonUnknown)
	}
	// The credential is rotated away now, validated or not: record its
	// successor before the flight ends, so no later request repeats it.
	m.storeSuccessor(ctx, key, cred, client, t)
	if v.verdict == unavailable {
		m.log.Warn("session: refreshed token not validated: backend unavailable")
		return refreshed{tokens: t}
	}
	return refreshed{tokens: t, id: v.id}
}

// storeSuccessor records t as the successor of cred for client.
func (m *Manager) storeSuccessor(ctx context.Context, key, cred, client string, t Tokens) {
	if m.successorTTL <= 0 || client == "" {
		return
	}
	sealed, err := sealSuccessor(cred, key, client, t)
	if err == nil {
		err = m.successors.Set(ctx, key, sealed, m.successorTTL)
	}
	if err != nil {
		m.log.Warn("session: successor record not stored", slog.Any("error", err))
	}
}

// hasSuccessor reports whether cred (key) has a successor record.
func (m *Manager) hasSuccessor(ctx context.Context, key string) bool {
	if m.successorTTL <= 0 {
		return false
	}
	_, ok, err := m.successors.Get(ctx, key)
	return ok && err == nil
}

// successor returns the successor of cred when its record was sealed for
// this client and the successor is still valid.
func (m *Manager) successor(ctx context.Context, key, cred, client string) (refreshed, bool) {
	if m.successorTTL <= 0 || client == "" {
		return refreshed{}, false
	}
	sealed, ok, err := m.successors.Get(ctx, key)
	if err != nil {
		m.log.Warn("session: successor record get failed", slog.Any("error", err))
	}
	if !ok || err != nil {
		return refreshed{}, false
	}
	t, err := openSuccessor(cred, key, client, sealed)
	if err != nil {
		m.log.Debug("session: successor record not served", slog.Any("error", err))
		return refreshed{}, false
	}
	v := m.validate(ctx, t.Access)
	switch v.verdict {
	case valid:
		return refreshed{tokens: t, id: v.id}, true
	case unavailable:
		return refreshed{tokens: t}, true
	}
	return refreshed{}, false // the successor is gone too: refresh as usual
}

func (m *Manager) refreshFailed(ctx context.Context, key string, r Reason) refreshed {
	m.log.Info("session: refresh failed", slog.String("reason", string(r)))
	m.remember(ctx, key, r)
	return refreshed{reason: r}
}
