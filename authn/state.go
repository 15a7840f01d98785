package authn

// State is who a visitor is once the token cascade has run.
type State int

// The states of a request's session (docs/how-it-works.md).
const (
	// Anonymous: no usable token and no guest token minted.
	Anonymous State = iota
	// Guest: a valid guest token (from the cookie or minted now).
	Guest
	// User: a valid non-guest token (from the cookie or refreshed now).
	User
	// Expired: the session ended (a refresh failed as reuse, or without
	// refresh.guestFallback); every auth cookie the request carried is
	// deleted.
	Expired
	// Unavailable: the backend could not answer; nothing is known and
	// nothing may change.
	Unavailable
)

var stateNames = [...]string{"anonymous", "guest", "user", "expired", "unavailable"}

// String returns the state's name, as metrics label it.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}
