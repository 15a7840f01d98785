package apilayer

import "github.com/apilayer/apilayer/session"

// refreshResult is "ok", a failure reason, or "" when nothing was refreshed.
func refreshResult(out session.Outcome) string {
	switch {
	case out.Reason != "":
		return string(out.Reason)
	case out.Refreshed:
		return "ok"
	}
	return ""
}

func typeOf(out session.Outcome) string {
	if out.Identity != nil {
		return out.Identity.Type
	}
	if out.State == session.StateGuest {
		return "guest"
	}
	return ""
}

// authOf describes the request's identity for AuthFrom and the forwarders.
func authOf(out session.Outcome, locale string) Auth {
	a := Auth{Token: out.Token, Stale: out.Stale, Locale: locale}
	switch out.State {
	case session.StateUser:
		a.Authenticated = true
	case session.StateGuest:
		a.Guest = true
	default:
		return Auth{Locale: locale}
	}
	a.TokenType = typeOf(out)
	if out.Identity != nil {
		a.User = out.Identity.User
		a.UserJSON = out.Identity.UserJSON
	}
	return a
}
