package apilayer

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/csrf"
	"github.com/apilayer/apilayer/ratelimit"
	"github.com/apilayer/apilayer/respond"
	"github.com/apilayer/apilayer/session"
)

// checkOrigin runs the Fetch Metadata part of CSRF protection, refusing a
// cross-site request before it costs a backend call. When it cannot decide
// alone, x.needToken asks for the double-submit token once the session is
// known.
func (g *Gateway) checkOrigin(x *exchange) bool {
	if g.csrf == nil || g.csrf.Ignored(x.r.Method) {
		return false
	}
	v := g.csrf.CheckOrigin(x.r)
	switch v.Outcome {
	case csrf.Pass:
		return false
	case csrf.NeedToken:
		x.needToken = true
		return false
	}
	g.csrfFail(x, string(v.Reason), "")
	return true
}

// checkTokenFor runs the double-submit part of CSRF protection for a
// session binding, refusing the request when it fails. It reports whether
// the request passed.
func (g *Gateway) checkTokenFor(x *exchange, binding string) bool {
	err := g.csrf.CheckToken(x.r, binding)
	if err == nil {
		return true
	}
	reason := "invalid"
	if r, ok := errors.AsType[csrf.Reason](err); ok {
		reason = string(r)
	}
	g.csrfFail(x, reason, binding)
	return false
}

// csrfFail refuses a request that failed a CSRF check; userID is the
// session's user when it is known ("" before validation).
func (g *Gateway) csrfFail(x *exchange, reason, userID string) {
	g.log.Debug("csrf validation failed", "reason", reason, "path", x.url.Path)
	g.emit(x, audit.TypeCSRFFail, false, userID, map[string]any{"reason": reason})
	g.metrics.CSRFFailed()
	respond.ErrorCode(x.w, http.StatusForbidden, respond.CodeCSRF, respond.MsgCSRF)
}

// allow counts the request once under key, on the path rate-limit rules and
// skipRoutes see. A blocked request is answered 429; every checked response
// carries the X-RateLimit-* headers.
func (g *Gateway) allow(x *exchange, key string) bool {
	d := g.limiter.Check(x.ctx, x.r, x.limited, key)
	if d.Skipped {
		return true
	}
	if d.Allowed {
		d.SetHeaders(x.w.Header())
		return true
	}
	uid, _ := strings.CutPrefix(key, "user:")
	if uid == key {
		uid = ""
	}
	g.emit(x, audit.TypeRateLimitExceeded, false, uid, map[string]any{
		"limit": d.Limit, "resetAt": d.Reset.UTC().Format(time.RFC3339),
	})
	g.metrics.RateLimited()
	d.Deny(x.w)
	return false
}

// clientKey is the rate-limit key of a client IP: the address, or an IPv6
// client's rateLimit.ipv6PrefixLength prefix.
func (g *Gateway) clientKey(ip netip.Addr) string {
	return ratelimit.ClientKey(ip, g.cfg.RateLimit.IPv6PrefixLength)
}

// ensureCSRF issues the CSRF cookie when the request lacks a token valid
// for binding (first visit, login, logout); it never rotates a valid one.
func (g *Gateway) ensureCSRF(x *exchange, binding string) string {
	if g.csrf == nil {
		return ""
	}
	return g.csrf.Ensure(x.w, x.r, binding, x.secure, g.cfg.Cookies.Domain)
}

// bindingOf is the CSRF session binding of an outcome: the user's id for
// an authenticated user, "" for guests and anonymous visitors.
func bindingOf(out session.Outcome) string {
	if out.State != session.StateUser {
		return ""
	}
	return bindingOfUser(out.Identity)
}

// bindingOfUser is the CSRF session binding of a validated user ("" for
// none).
func bindingOfUser(id *session.Identity) string {
	if id == nil {
		return ""
	}
	return userID(id.User)
}

// userID is the user's id (the user object's id, else sub, else email).
func userID(u map[string]any) string {
	for _, k := range [...]string{"id", "sub", "email"} {
		if v, ok := u[k]; ok && v != nil {
			if s := fmt.Sprint(v); s != "" {
				return s
			}
		}
	}
	return ""
}
