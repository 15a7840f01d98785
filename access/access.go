package access

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/jsonpointer"
	"github.com/apilayer/apilayer/respond"
	"github.com/apilayer/apilayer/route"
)

// State is what the session layer concluded about the request's token:
// authn.State, the one vocabulary of the session and access packages.
type State = authn.State

// The states of a request's session (docs/how-it-works.md).
const (
	Anonymous   = authn.Anonymous   // no usable token and no guest token minted
	Guest       = authn.Guest       // a valid guest token (or one minted in this request)
	User        = authn.User        // a valid non-guest token (possibly refreshed in this request)
	Expired     = authn.Expired     // terminal: the session ended (refresh reuse, or no guest fallback)
	Unavailable = authn.Unavailable // the backend could not answer; nothing is known
)

// Request is what a decision is made on.
type Request struct {
	Path string // cleaned and locale-stripped path
	API  bool   // under api.prefix (and not one of api.appRoutes)
	// App marks a route of the web app under api.prefix (api.appRoutes):
	// decided as a page, but its JSON refusals use the API's messages.
	App       bool
	Fetch     bool   // a fetch/XHR request: refusals are JSON, not redirects
	SkipAuth  bool   // API request that needs no token (publicEndpoints, skipAuthByDefault, X-Skip-Auth)
	Query     string // raw query, kept in the return URL
	Return    string // the path to come back to after login ("" = Path); with i18n, the locale-prefixed path
	State     State
	TokenType string
	User      map[string]any // the user object, for access.rules
	// GuestUnavailable (Anonymous only): guests are enabled, but none could
	// be minted because the backend is unavailable. The request is decided
	// as Unavailable: an API request that needs a token gets 503, not 401.
	GuestUnavailable bool
}

// Action is what the pipeline does with a request.
type Action int

// The actions of a Decision.
const (
	Forward  Action = iota // to the web app or the API proxy
	Redirect               // 307 to Decision.Location
	Refuse                 // Decision.Status with a JSON body (API, fetch) or an HTML page
)

// Decision is the outcome of Policy.Decide.
type Decision struct {
	Action   Action
	Location string // Redirect: a same-site path
	Status   int    // Refuse
	Message  string // Refuse: the JSON message or the page's sentence
	JSON     bool   // Refuse: answer with JSON (API or fetch request)
	// ClearAuth asks the pipeline to delete every auth cookie the request
	// carried (a token type that is not allowed).
	ClearAuth bool
	// Denied marks an access denial (audit access:denied).
	Denied bool
	// Anonymous asks the pipeline to forward without identity (the backend
	// was unavailable on a page that does not need one).
	Anonymous bool
}

// Policy holds the compiled access rules of config.Access.
type Policy struct {
	protected, auth, public, excluded route.List
	match                             route.Options // access.caseInsensitive
	byDefault                         bool
	allowed                           map[string]bool
	login, home, returnParam          string
	never                             route.List // never protected besides loginPath and homePath
	rules                             []rule
}

// rule is a compiled access.rules entry: every user on a matching path must
// hold one of roles.
type rule struct {
	path  route.Glob
	roles map[string]bool
	field jsonpointer.Pointer
}

// New compiles the access rules. never lists further paths that are never
// protected (the health path, the built-in auth API). It fails on a rule
// whose path glob or rolesField is invalid (config.Validate reports those
// first).
//
// With c.CaseInsensitive, the route lists, loginPath, homePath and the
// rules' paths match in any letter case (route.Options). The never paths
// are the gateway's own and stay exact, as the gateway serves them: a path
// that only looks like one in another case is protected like any other.
func New(c config.Access, never ...string) (*Policy, error) {
	m := route.Options{CaseInsensitive: c.CaseInsensitive}
	p := &Policy{
		protected:   m.NewList(c.ProtectedRoutes),
		auth:        m.NewList(c.AuthRoutes),
		public:      m.NewList(c.PublicRoutes),
		excluded:    m.NewList(c.ExcludedPaths),
		match:       m,
		byDefault:   c.ProtectedByDefault,
		login:       c.LoginPath,
		home:        c.HomePath,
		returnParam: c.ReturnParam,
		never:       route.NewList(never),
	}
	if len(c.AllowedTokenTypes) > 0 {
		p.allowed = make(map[string]bool, len(c.AllowedTokenTypes))
		for _, t := range c.AllowedTokenTypes {
			p.allowed[t] = true
		}
	}
	for i, r := range c.Rules {
		g, err := m.CompileGlob(r.Path)
		if err != nil {
			return nil, fmt.Errorf("access: rules[%d].path: %w", i, err)
		}
		field := r.RolesField
		if field == "" {
			field = "/roles"
		}
		ptr, err := jsonpointer.Parse(field)
		if err != nil {
			return nil, fmt.Errorf("access: rules[%d].rolesField: %w", i, err)
		}
		roles := make(map[string]bool, len(r.Roles))
		for _, role := range r.Roles {
			roles[role] = true
		}
		p.rules = append(p.rules, rule{path: g, roles: roles, field: ptr})
	}
	return p, nil
}

// ruled reports whether an access rule covers path.
func (p *Policy) ruled(path string) bool {
	for _, r := range p.rules {
		if r.path.Match(path) {
			return true
		}
	}
	return false
}

// RolesAllow reports whether user passes every access rule whose path
// matches: each needs the user to hold any of its roles, read at its
// rolesField (a list of strings or a single string; with the default
// /roles, a single /role string is accepted too).
func (p *Policy) RolesAllow(path string, user map[string]any) bool {
	for _, r := range p.rules {
		if r.path.Match(path) && !r.holds(user) {
			return false
		}
	}
	return true
}

func (r rule) holds(user map[string]any) bool {
	v, ok := r.field.Get(user)
	if !ok && len(r.field) == 1 && r.field[0] == "roles" {
		v, ok = user["role"]
	}
	if !ok {
		return false
	}
	switch v := v.(type) {
	case string:
		return r.roles[v]
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && r.roles[s] {
				return true
			}
		}
	case []string:
		for _, s := range v {
			if r.roles[s] {
				return true
			}
		}
	}
	return false
}

// Excluded reports whether path is not authenticated at all (excludedPaths).
func (p *Policy) Excluded(path string) bool { return p.excluded.Match(path) }

// AuthRoute reports whether path is a login/register-type page.
func (p *Policy) AuthRoute(path string) bool { return p.auth.Match(path) }

// Protected reports whether path needs a signed-in user. loginPath (and the
// paths below it), homePath and the never list are never protected.
func (p *Policy) Protected(path string) bool {
	if p.onLogin(path) || p.onHome(path) || p.never.Match(path) {
		return false
	}
	if p.ruled(path) {
		return true
	}
	if p.byDefault {
		return !p.public.Match(path) && !p.auth.Match(path)
	}
	return p.protected.Match(path)
}

func (p *Policy) onLogin(path string) bool { return p.match.Under(path, p.login) }

// onHome reports whether path is homePath (a trailing slash aside): a path
// under it of the same length is the path itself.
func (p *Policy) onHome(path string) bool {
	path, home := trimSlash(path), trimSlash(p.home)
	return len(path) == len(home) && p.match.Under(path, home)
}

// TypeAllowed reports whether a non-guest token of type t may pass.
func (p *Policy) TypeAllowed(t string) bool { return p.allowed == nil || p.allowed[t] }

// LoginURL is where a visitor of path is sent to sign in: loginPath, with
// the original path and query under returnParam when one is configured.
// The query loses Next.js's router cache key (_rsc), which the router adds
// to its own requests of a page: the visitor returns to the page.
func (p *Policy) LoginURL(path, query string) string {
	if p.returnParam == "" {
		return p.login
	}
	back := path
	if strings.Contains(query, "_rsc") {
		query = withoutRouterKey(query)
	}
	if query != "" {
		back += "?" + query
	}
	// Only a same-site path is ever put in the return URL: the cleaned path
	// starts with a single "/" and never with "//" or "/\".
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.HasPrefix(back, `/\`) {
		return p.login
	}
	sep := "?"
	if strings.Contains(p.login, "?") {
		sep = "&"
	}
	return p.login + sep + url.QueryEscape(p.returnParam) + "=" + url.QueryEscape(back)
}

// Decide applies the decision table of docs/how-it-works.md#decisions to
// a request whose session state is known.
func (p *Policy) Decide(r Request) Decision {
	switch r.State {
	case Expired:
		switch {
		case r.API && r.skip(p):
			return Decision{Action: Forward, Anonymous: true}
		case r.API || (r.App && r.Fetch):
			return refuse(http.StatusUnauthorized, respond.MsgSessionExpired, true)
		case r.Fetch:
			return refuse(http.StatusUnauthorized, respond.MsgNotAuthenticated, true)
		case p.onLogin(r.Path):
			return Decision{Action: Forward, Anonymous: true}
		}
		return Decision{Action: Redirect, Location: p.LoginURL(r.back(), r.Query)}

	case Unavailable:
		return p.unavailable(r)

	case Anonymous:
		if r.GuestUnavailable {
			// Anonymous only because the backend could not mint a guest:
			// "Token not found." would tell a client it is signed out.
			return p.unavailable(r)
		}
		if r.API {
			if r.skip(p) {
				return Decision{Action: Forward}
			}
			return refuse(http.StatusUnauthorized, respond.MsgTokenNotFound, true)
		}
		return p.needsUser(r)

	case Guest:
		if r.API {
			if p.ruled(r.Path) {
				return refuse(http.StatusUnauthorized, respond.MsgNotAuthenticated, true)
			}
			return Decision{Action: Forward}
		}
		return p.needsUser(r)
	}

	// A valid user.
	if !p.TypeAllowed(r.TokenType) {
		if r.API || r.Fetch {
			d := refuse(http.StatusForbidden, respond.MsgNotAuthorized, true)
			d.ClearAuth, d.Denied = true, true
			return d
		}
		return Decision{Action: Redirect, Location: p.LoginURL(r.back(), r.Query), ClearAuth: true, Denied: true}
	}
	if !r.API && p.AuthRoute(r.Path) {
		return Decision{Action: Redirect, Location: p.home}
	}
	if !p.RolesAllow(r.Path, r.User) {
		// The denial itself changes no cookie: the session is fine, only
		// this path is out of reach.
		d := refuse(http.StatusForbidden, respond.MsgNotAuthorized, r.API || r.Fetch)
		d.Denied = true
		return d
	}
	return Decision{Action: Forward}
}

// unavailable decides a request whose identity the backend could not
// establish: forwarded without identity (and without a token) where none
// is needed, else 503.
func (p *Policy) unavailable(r Request) Decision {
	switch {
	case r.API && r.skip(p):
		return Decision{Action: Forward, Anonymous: true}
	case r.API:
		return refuse(http.StatusServiceUnavailable, respond.MsgUnavailable, true)
	case p.Protected(r.Path):
		return refuse(http.StatusServiceUnavailable, respond.MsgUnavailable, r.Fetch)
	}
	return Decision{Action: Forward, Anonymous: true}
}

// skip reports whether an API request goes on without a token: a skip flag
// drops the Bearer token and the "no token" refusal, never a role rule.
func (r Request) skip(p *Policy) bool { return r.SkipAuth && !p.ruled(r.Path) }

func (r Request) back() string {
	if r.Return != "" {
		return r.Return
	}
	return r.Path
}

// needsUser decides a page request from a visitor without a user session.
func (p *Policy) needsUser(r Request) Decision {
	if !p.Protected(r.Path) {
		return Decision{Action: Forward}
	}
	if r.Fetch {
		msg := respond.MsgNotAuthenticated
		if r.App && r.State == Anonymous {
			msg = respond.MsgTokenNotFound
		}
		return refuse(http.StatusUnauthorized, msg, true)
	}
	return Decision{Action: Redirect, Location: p.LoginURL(r.back(), r.Query)}
}

func refuse(status int, msg string, json bool) Decision {
	return Decision{Action: Refuse, Status: status, Message: msg, JSON: json}
}

func trimSlash(p string) string {
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		return p[:len(p)-1]
	}
	return p
}

// withoutRouterKey returns query without its _rsc parameters.
func withoutRouterKey(query string) string {
	var kept []string
	for part := range strings.SplitSeq(query, "&") {
		if key, _, _ := strings.Cut(part, "="); key != "_rsc" {
			kept = append(kept, part)
		}
	}
	return strings.Join(kept, "&")
}

// IsFetch reports whether r comes from fetch/XHR rather than a navigation:
// Sec-Fetch-Mode is cors, X-Requested-With is XMLHttpRequest, or the
// Accept header prefers JSON over HTML. A request of the Next.js App
// Router (RSC: 1, for a navigation or a prefetch) is a navigation: the
// router follows a redirect to the login page as middleware would send
// it, where a JSON 401 would be logged in the console on every prefetch
// of a protected page.
func IsFetch(r *http.Request) bool {
	h := r.Header
	if first(h, "Rsc") == "1" {
		return false
	}
	if first(h, "Sec-Fetch-Mode") == "cors" {
		return true
	}
	if first(h, "X-Requested-With") == "XMLHttpRequest" {
		return true
	}
	return prefersJSON(first(h, "Accept"))
}

// first is h.Get(key) for a key already in canonical form, without
// canonicalizing it again (IsFetch runs on every request).
func first(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// prefersJSON reports whether an Accept header ranks application/json (or
// a +json type) above text/html.
func prefersJSON(accept string) bool {
	if accept == "" {
		return false
	}
	jsonQ, htmlQ := -1.0, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		typ, q := parseAcceptPart(part)
		switch {
		case typ == "application/json" || strings.HasSuffix(typ, "+json"):
			jsonQ = max(jsonQ, q)
		case typ == "text/html" || typ == "application/xhtml+xml":
			htmlQ = max(htmlQ, q)
		}
	}
	return jsonQ > 0 && jsonQ > htmlQ
}

func parseAcceptPart(part string) (string, float64) {
	typ, params, _ := strings.Cut(part, ";")
	q := 1.0
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "q") {
			q = parseQ(v)
		}
	}
	return strings.ToLower(strings.TrimSpace(typ)), q
}

// parseQ parses an HTTP quality value (0 to 1, three decimals at most);
// anything else counts as 0.
func parseQ(s string) float64 {
	if s == "" || len(s) > 5 {
		return 0
	}
	var v float64
	var scale float64 = 1
	dot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' && !dot:
			dot = true
		case c >= '0' && c <= '9':
			if dot {
				scale /= 10
				v += float64(c-'0') * scale
			} else {
				v = v*10 + float64(c-'0')
			}
		default:
			return 0
		}
	}
	if v > 1 {
		return 0
	}
	return v
}

// AcceptsHTML reports whether an Accept header asks for an HTML page
// (blockBrowserApiAccess, a UX feature, not a security control).
func AcceptsHTML(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		if typ, q := parseAcceptPart(part); typ == "text/html" && q > 0 {
			return true
		}
	}
	return false
}
