package apilayer

import (
	"cmp"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/respond"
	"github.com/apilayer/apilayer/session"
)

// maxAuthBody bounds the JSON body of a login or register request.
const maxAuthBody = 1 << 20

// builtIn names the endpoints of the built-in auth API.
var builtIn = [...]string{"login", "register", "logout", "me", "refresh", "csrf"}

// authEndpoint returns the built-in auth API endpoint of a cleaned path
// ("login", "me", ...) or "". The auth segment and the endpoint name match
// in any case, with or without a trailing slash: backends that route
// case-insensitively (Express by default, ASP.NET Core) would otherwise get
// /api/auth/Refresh from the API proxy and answer it with tokens in the
// body, where page script can read them.
func (g *Gateway) authEndpoint(clean string) string {
	if !*g.cfg.AuthAPI.Enabled {
		return ""
	}
	rest, ok := strings.CutPrefix(clean, g.prefix+"/")
	if !ok {
		return ""
	}
	seg, name, ok := strings.Cut(rest, "/")
	if !ok || !strings.EqualFold(seg, "auth") {
		return ""
	}
	name = strings.TrimSuffix(name, "/")
	for _, ep := range builtIn {
		if strings.EqualFold(name, ep) {
			return ep
		}
	}
	return ""
}

// tokenEndpoint reports whether the API path clean reaches a backend
// endpoint that answers tokens in its body (backend.endpoints login,
// register, refresh and guest) in a spelling a lenient backend routes
// there: segments in any case, ;parameters dropped (Spring, Tomcat), a
// trailing slash and a .format suffix on the last segment ignored (Rails).
// The gateway keeps tokens in httpOnly cookies; such a path is refused, or
// script on the page could read the tokens.
func (g *Gateway) tokenEndpoint(clean string) bool {
	rel, ok := strings.CutPrefix(clean, g.prefix+"/")
	if !ok {
		return false
	}
	for _, ep := range g.tokenEndpoints {
		if sameEndpoint(rel, ep) {
			return true
		}
	}
	return false
}

// sameEndpoint reports whether the relative path rel names the endpoint ep
// (a path relative to backend.url) as lenient routers compare them.
func sameEndpoint(rel, ep string) bool {
	rel = strings.TrimSuffix(rel, "/")
	ep = strings.Trim(ep, "/")
	if ep == "" {
		return false
	}
	for {
		rs, rrest, rmore := strings.Cut(rel, "/")
		es, erest, emore := strings.Cut(ep, "/")
		rs, _, _ = strings.Cut(rs, ";")
		if rmore != emore {
			return false
		}
		if !rmore {
			if strings.EqualFold(rs, es) {
				return true
			}
			i := strings.LastIndexByte(rs, '.')
			return i > 0 && strings.EqualFold(rs[:i], es)
		}
		if !strings.EqualFold(rs, es) {
			return false
		}
		rel, ep = rrest, erest
	}
}

// authPrecheck answers the built-in auth API's requests that need no
// session: a wrong method (405 with Allow) and GET csrf with CSRF
// protection off (404). It reports whether it answered.
func (g *Gateway) authPrecheck(x *exchange) bool {
	method := http.MethodPost
	if x.ep == "me" || x.ep == "csrf" {
		method = http.MethodGet
	}
	switch {
	case x.r.Method != method && !(method == http.MethodGet && x.r.Method == http.MethodHead):
		if method == http.MethodGet {
			method = "GET, HEAD"
		}
		x.w.Header().Set("Allow", method)
		respond.Error(x.w, http.StatusMethodNotAllowed, respond.MsgMethodNotAllowed)
	case x.ep == "csrf" && g.csrf == nil:
		respond.Error(x.w, http.StatusNotFound, "CSRF protection is disabled.")
	default:
		return false
	}
	return true
}

// authAPI answers the built-in auth API (docs/api-reference.md) after the
// shared phases: the session was validated (and, for me, refresh and csrf,
// completed, reported and its cookie changes written) as for any request.
// Tokens never appear in its response bodies.
//
// CSRF (x.needToken: the Fetch Metadata part asked for the double-submit
// token): login and register are checked with the binding of the current
// session; logout with the binding of a still-valid user token (a dead
// session has nothing left to protect, and its user could not otherwise log
// out); refresh after refreshing, with the refreshed user's binding, as the
// token survives refreshes. Each answer carries a CSRF cookie bound to the
// session it leaves behind.
func (g *Gateway) authAPI(x *exchange) bool {
	if x.kind != authKind {
		return false
	}
	switch x.ep {
	case "login", "register":
		if x.needToken && !g.checkTokenFor(x, bindingOfUser(x.val.User())) {
			return true
		}
		g.authLogin(x)
	case "logout":
		if b := bindingOfUser(x.val.User()); x.needToken && b != "" && !g.checkTokenFor(x, b) {
			return true
		}
		g.authLogout(x)
	case "csrf":
		tok := g.ensureCSRF(x, bindingOf(x.out))
		respond.JSON(x.w, http.StatusOK, success{Success: true, Data: map[string]string{"token": tok}})
	case "me", "refresh":
		out := x.out
		if x.ep == "refresh" && x.needToken && out.State == session.StateUser && !g.checkTokenFor(x, bindingOf(out)) {
			return true
		}
		g.ensureCSRF(x, bindingOf(out))
		if x.ep == "refresh" && out.Reason != "" && out.State != session.StateUnavailable {
			// The backend refused the refresh: a still-valid token stays
			// (its cookie too), but the refresh did not happen.
			respond.Error(x.w, http.StatusUnauthorized, respond.MsgNotAuthenticated)
			return true
		}
		g.authIdentity(x.w, out, x.ep == "me")
	}
	return true
}

func (g *Gateway) authLogin(x *exchange) {
	w, r, endpoint := x.w, x.r, x.ep
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAuthBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			respond.Error(w, http.StatusRequestEntityTooLarge, respond.MsgTooLarge)
			return
		}
		return // the client went away
	}
	call := g.backend.Login
	if endpoint == "register" {
		call = g.backend.Register
	}
	res, err := call(x.ctx, body)
	switch {
	case errors.Is(err, backend.ErrUnavailable):
		respond.Error(w, http.StatusServiceUnavailable, respond.MsgUnavailable)
		return
	case err != nil:
		respond.Error(w, http.StatusBadGateway, respond.MsgProxyError)
		return
	}
	ok := res.Status/100 == 2 && res.Tokens.Access != "" && res.Identity != nil
	if !ok {
		g.emit(x, audit.TypeAuthFail, false, "", map[string]any{"reason": endpoint + "-failed", "status": res.Status})
		if res.Status/100 == 2 {
			// A success without a token or a user breaks the backend
			// contract: the browser must not believe it is signed in.
			g.logMissedMapping(endpoint, res)
			respond.Error(w, http.StatusBadGateway, respond.MsgProxyError)
			return
		}
		respond.JSON(w, res.Status, res.Body)
		return
	}
	g.jar.set(w, g.jar.user, res.Tokens.Access, x.secure)
	if g.jar.refresh != "" && res.Tokens.Refresh != "" {
		g.jar.set(w, g.jar.refresh, res.Tokens.Refresh, x.secure)
	}
	if x.toks.guest != "" {
		g.jar.del(w, g.jar.guest, x.secure)
	}
	g.ensureCSRF(x, userID(res.Identity.User))
	g.emit(x, audit.TypeAuthSuccess, true, userID(res.Identity.User), map[string]any{"tokenType": res.Identity.Type, "via": endpoint})
	respond.JSON(w, http.StatusOK, success{Success: true, Data: userWithType(res.Identity)})
}

// logMissedMapping logs a 2xx login or register answer the gateway could not
// use: which backend.mapping pointer it read and the keys the answer had
// (names only: the backend client has removed every token field, and no
// value is logged), so a preset made for another answer shape
// (docs/cli.md) is found from one log line.
func (g *Gateway) logMissedMapping(endpoint string, res *backend.AuthResponse) {
	m := g.cfg.Backend.Mapping
	msg, key, ptr := "no token at backend.mapping.accessToken", "accessToken", m.AccessToken
	if res.Tokens.Access != "" {
		msg, key, ptr = "no user object at backend.mapping.user", "user", m.User
	}
	g.log.Warn("backend answered "+endpoint+" with a 2xx but "+msg, "status", res.Status,
		"mapping", key, "pointer", ptr, "keys", strings.Join(answerKeys(res.Body), " "))
}

// answerKeys returns the JSON Pointers of the object keys in doc, three
// levels deep, sorted, at most 40 (then "..."). Array elements are not
// listed.
func answerKeys(doc map[string]any) []string {
	var keys []string
	var walk func(prefix string, v map[string]any, depth int)
	walk = func(prefix string, v map[string]any, depth int) {
		for k, e := range v {
			p := prefix + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
			keys = append(keys, p)
			if o, ok := e.(map[string]any); ok && depth < 3 {
				walk(p, o, depth+1)
			}
		}
	}
	walk("", doc, 1)
	slices.Sort(keys)
	if len(keys) > 40 {
		keys = append(keys[:40], "...")
	}
	return keys
}

func (g *Gateway) authLogout(x *exchange) {
	t := x.toks
	t.junk = nil // deleted already, with the session's other cookie changes
	// The backend hears of the logout even when only the refresh cookie is
	// left (dual-token mode, the access cookie expired in the browser).
	if bearer := cmp.Or(t.user, t.refresh); bearer != "" {
		// Best effort: the session ends in the browser whatever the backend says.
		if err := g.backend.Logout(x.ctx, bearer, t.refresh); err != nil {
			g.log.Warn("backend logout failed", "err", err.Error())
		}
		g.sessions.Forget(t.user)
	}
	g.writeCookies(x.w, t, session.Outcome{}, true, x.secure)
	g.ensureCSRF(x, "")
	respond.JSON(x.w, http.StatusOK, success{Success: true})
}

// authIdentity answers me and refresh from the session outcome.
func (g *Gateway) authIdentity(w http.ResponseWriter, out session.Outcome, guestOK bool) {
	switch out.State {
	case session.StateUnavailable:
		respond.Error(w, http.StatusServiceUnavailable, respond.MsgUnavailable)
	case session.StateUser:
		respond.JSON(w, http.StatusOK, success{Success: true, Data: userWithType(out.Identity)})
	case session.StateGuest:
		if guestOK {
			id := out.Identity
			if id == nil {
				id = &session.Identity{Type: "guest"}
			}
			respond.JSON(w, http.StatusOK, success{Success: true, Data: userWithType(id)})
			return
		}
		fallthrough
	default:
		respond.Error(w, http.StatusUnauthorized, respond.MsgNotAuthenticated)
	}
}

type success struct {
	Success bool `json:"success"`
	Data    any  `json:"data,omitempty"`
}

// userWithType is the user object with its token type under "type".
func userWithType(id *session.Identity) map[string]any {
	u := make(map[string]any, len(id.User)+1)
	maps.Copy(u, id.User)
	if id.Type != "" {
		u["type"] = id.Type
	}
	return u
}
