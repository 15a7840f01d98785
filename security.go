package apilayer

import (
	"context"
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

// checkOrigin runs the Fetch Metadata part of CSRF protection. It reports
// whether the double-submit token must still be checked, and false in ok
// when it refused the request.
func (g *Gateway) checkOrigin(w http.ResponseWriter, r *http.Request) (needToken, ok bool) {
	if g.csrf == nil || g.csrf.Ignored(r.Method) {
		return false, true
	}
	v := g.csrf.CheckOrigin(r)
	switch v.Outcome {
	case csrf.Pass:
		return false, true
	case csrf.NeedToken:
		return true, true
	}
	g.csrfFail(w, r, string(v.Reason), "")
	return false, false
}

// checkToken runs the double-submit part of CSRF protection for a session
// binding, refusing the request when it fails.
func (g *Gateway) checkToken(w http.ResponseWriter, r *http.Request, binding string) bool {
	err := g.csrf.CheckToken(r, binding)
	if err == nil {
		return true
	}
	g.csrfFail(w, r, reasonOf(err), binding)
	return false
}

func reasonOf(err error) string {
	if r, ok := err.(csrf.Reason); ok {
		return string(r)
	}
	return "invalid"
}

// csrfFail refuses a request that failed a CSRF check; userID is the
// session's user when it is known ("" before validation).
func (g *Gateway) csrfFail(w http.ResponseWriter, r *http.Request, reason, userID string) {
	g.log.Debug("csrf validation failed", "reason", reason, "path", r.URL.Path)
	g.emit(r, audit.TypeCSRFFail, false, userID, map[string]any{"reason": reason})
	g.metrics.CSRFFailed()
	respond.Error(w, http.StatusForbidden, respond.MsgCSRF)
}

// allow counts the request once under key; path is the cleaned path as
// rate-limit rules and skipRoutes see it. A blocked request is answered
// 429; every checked response carries the X-RateLimit-* headers.
func (g *Gateway) allow(w http.ResponseWriter, r *http.Request, path, key string) bool {
	d := g.limiter.Check(r.Context(), r, path, key)
	if d.Skipped {
		return true
	}
	if d.Allowed {
		d.SetHeaders(w.Header())
		return true
	}
	uid, _ := strings.CutPrefix(key, "user:")
	if uid == key {
		uid = ""
	}
	g.emit(r, audit.TypeRateLimitExceeded, false, uid, map[string]any{
		"limit": d.Limit, "resetAt": d.Reset.UTC().Format(time.RFC3339),
	})
	g.metrics.RateLimited()
	d.Deny(w)
	return false
}

// userKey is the rate-limit key of rateLimit.by user: the user's id when
// the user cookie holds a valid user token, else the client IP.
func (g *Gateway) userKey(ctx context.Context, t tokens, ip netip.Addr) string {
	if id := g.identify(ctx, t); id != "" {
		return "user:" + id
	}
	return g.clientKey(ip)
}

// clientKey is the rate-limit key of a client IP: the address, or an IPv6
// client's rateLimit.ipv6PrefixLength prefix.
func (g *Gateway) clientKey(ip netip.Addr) string {
	return ratelimit.ClientKey(ip, g.cfg.RateLimit.IPv6PrefixLength)
}

// ensureCSRF issues the CSRF cookie when the request lacks a token valid
// for binding (first visit, login, logout); it never rotates a valid one.
func (g *Gateway) ensureCSRF(w http.ResponseWriter, r *http.Request, binding string, secure bool) string {
	if g.csrf == nil {
		return ""
	}
	return g.csrf.Ensure(w, r, binding, secure, g.cfg.Cookies.Domain)
}

// identify returns the CSRF binding of the request's user cookie without
// refreshing it: "" unless it is a valid user token.
func (g *Gateway) identify(ctx context.Context, t tokens) string {
	if t.user == "" {
		return ""
	}
	id, ok := g.sessions.Identify(ctx, t.user)
	if !ok || id.Type == "guest" {
		return ""
	}
	return userID(id.User)
}

// bindingOf is the CSRF session binding of SPEC.md section 5: the user's id
// for an authenticated user, "" for guests and anonymous visitors.
func bindingOf(out session.Outcome) string {
	if out.State != session.StateUser || out.Identity == nil {
		return ""
	}
	return userID(out.Identity.User)
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
