package apilayer

import (
	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/session"
)

// emit sends an audit event about the request. It never blocks: the audit
// logger queues it, or drops and counts it when its queue is full.
func (g *Gateway) emit(x *exchange, typ string, success bool, userID string, meta map[string]any) {
	if !g.audit.Enabled(typ) {
		return
	}
	e := audit.Event{
		Type:      typ,
		Path:      x.url.Path,
		Method:    x.r.Method,
		Success:   success,
		UserID:    userID,
		RequestID: x.id,
		Metadata:  meta,
	}
	if x.info.IP.IsValid() {
		e.IP = x.info.IP.String()
	}
	g.audit.Emit(e)
}

// emitSession reports what the token cascade concluded: refreshes and
// their failures, then the authentication result itself.
func (g *Gateway) emitSession(x *exchange) {
	if g.audit == nil {
		return
	}
	r, t, out := x, x.toks, x.out
	uid := ""
	if out.Identity != nil {
		uid = userID(out.Identity.User)
	}
	switch {
	case out.Reason == backend.ReasonReuse:
		g.emit(r, audit.TypeAuthReuse, false, "", map[string]any{"reason": string(out.Reason)})
	case out.Reason != "":
		g.emit(r, audit.TypeAuthRefreshFail, false, "", map[string]any{"reason": string(out.Reason)})
	case out.Refreshed:
		g.emit(r, audit.TypeAuthRefresh, true, uid, nil)
	}
	switch out.State {
	case session.StateUser:
		g.emit(r, audit.TypeAuthSuccess, true, uid, map[string]any{"tokenType": out.Identity.Type})
	case session.StateGuest:
		g.emit(r, audit.TypeAuthGuest, true, "", map[string]any{"minted": out.Minted})
	case session.StateUnavailable:
		g.emit(r, audit.TypeError, false, "", map[string]any{"error": "authentication backend unavailable"})
	default:
		reason := "invalid-token"
		if t.user == "" && t.guest == "" && t.refresh == "" {
			reason = "no-token"
		}
		g.emit(r, audit.TypeAuthFail, false, "", map[string]any{"reason": reason})
	}
}
