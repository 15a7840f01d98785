package session

import (
	"log/slog"

	"github.com/apilayer/apilayer/authn"
)

// State is who the visitor is after Authenticate: authn.State.
type State = authn.State

// The states of an Outcome (see authn.State).
const (
	StateAnonymous   = authn.Anonymous
	StateGuest       = authn.Guest
	StateUser        = authn.User
	StateExpired     = authn.Expired
	StateUnavailable = authn.Unavailable
)

// Input is the auth cookies of one request ("" = absent) and its client.
type Input struct {
	// User, Guest and Refresh are the auth cookies. Refresh is used only in
	// dual-token mode (Options.DualToken).
	User, Guest, Refresh string
	// Client is the client's IP address (netip.Addr.String), for the
	// guest-mint cap: an address is capped by ratelimit.ClientKey (IPv6 by
	// its Options.GuestIPv6Prefix prefix); any other string is a key as is.
	Client string
	// ClientID identifies the client for successor records
	// (refresh.successorTTL):
	// its User-Agent and client IP. Only a SHA-256 of it is used, bound into
	// the sealed record, never stored. Empty: no successor is recorded for
	// or served to this request.
	ClientID string
}

// LogValue implements slog.LogValuer without revealing the tokens.
func (in Input) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("user", in.User != ""), slog.Bool("guest", in.Guest != ""),
		slog.Bool("refresh", in.Refresh != ""), slog.String("client", in.Client),
		slog.Bool("clientID", in.ClientID != ""))
}

// Cookies are new cookie values to set ("" = no change).
type Cookies struct {
	User, Guest, Refresh string
}

// LogValue implements slog.LogValuer without revealing the tokens.
func (c Cookies) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("user", c.User != ""), slog.Bool("guest", c.Guest != ""),
		slog.Bool("refresh", c.Refresh != ""))
}

// CookieSet names auth cookies.
type CookieSet struct {
	User, Guest, Refresh bool
}

// Any reports whether the set names a cookie.
func (c CookieSet) Any() bool { return c.User || c.Guest || c.Refresh }

// Outcome is the result of Authenticate.
type Outcome struct {
	State State
	// Identity is the identity of a Guest or User; nil for a guest minted in
	// this request (its type is "guest", it has no user object). Shared
	// between requests: treat it as read-only.
	Identity *Identity
	// Token is the effective token: refreshed or minted in this request,
	// else the cookie's.
	Token string
	// Refreshed: Token was refreshed in this request. Minted: Token is a
	// guest token minted in this request. Stale: the identity was served
	// from the staleIfError memory because the backend is unavailable.
	Refreshed, Minted, Stale bool
	// Reason is the refresh failure reason when a refresh failed.
	Reason Reason
	// GuestUnavailable (StateAnonymous only): guests are enabled and one
	// was due, but it could not be minted because the backend is
	// unavailable (the guest call failed as unavailable, or its circuit
	// breaker is open). The visitor is anonymous only for want of the
	// backend.
	GuestUnavailable bool
	// Set holds the cookies to set.
	Set Cookies
	// Delete names the cookies to delete: only ones the request carried.
	Delete CookieSet
}

// LogValue implements slog.LogValuer without revealing the tokens.
func (o Outcome) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("state", o.State.String()),
		slog.Bool("refreshed", o.Refreshed), slog.Bool("minted", o.Minted),
		slog.Bool("stale", o.Stale), slog.String("reason", string(o.Reason)),
		slog.Bool("guestUnavailable", o.GuestUnavailable),
		slog.Any("set", o.Set),
		slog.Bool("deleteUser", o.Delete.User), slog.Bool("deleteGuest", o.Delete.Guest),
		slog.Bool("deleteRefresh", o.Delete.Refresh))
}

// carried names the auth cookies the request carried.
func carried(in Input) CookieSet {
	return CookieSet{User: in.User != "", Guest: in.Guest != "", Refresh: in.Refresh != ""}
}

// stateOf is the state of a valid identity: Guest for the "guest" type.
func stateOf(id *Identity) State {
	if id != nil && id.Type == "guest" {
		return StateGuest
	}
	return StateUser
}
