package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/jsonpointer"
)

// LoginEnv is the environment variable read for the login when Options
// has none: a password given there stays out of the shell history.
const LoginEnv = "APILAYER_PROBE_LOGIN"

// maxBody caps how much of an answer is read.
const maxBody = 1 << 20

// Options configures Run.
type Options struct {
	// Login is "user:password" (sent as {"username": user, "email": user,
	// "password": password}, since backends name the login field either
	// way) or a JSON object sent as it is. Empty skips the login.
	Login string
	// HTTPClient makes the calls. If nil, a client that never follows
	// redirects (a redirect is an answer), with the proxy settings of the
	// environment as the gateway's backend client has them.
	HTTPClient *http.Client
}

// Run probes the backend c configures (c resolved: defaults applied) and
// writes a report to w. It returns the problems found: the backend did not
// answer, or an answer that the gateway would misread through
// backend.mapping. Each call is bounded by backend.timeout.
//
// The calls: GET endpoints.validate without a token (any HTTP answer means
// the backend is reachable); with guest.enabled, POST endpoints.guest with
// guest.credentials and a validation of the guest token; with a login, POST
// endpoints.login, a validation of the access token, and POST
// endpoints.logout to end the probe's session.
func Run(ctx context.Context, c *config.Config, o Options, w io.Writer) []string {
	p := &prober{c: c, w: w, hc: o.HTTPClient}
	if p.hc == nil {
		p.hc = &http.Client{
			Transport:     &http.Transport{Proxy: http.ProxyFromEnvironment},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		defer p.hc.CloseIdleConnections()
	}
	if err := p.parseMapping(); err != nil {
		p.problem("%v", err)
		return p.problems
	}
	p.printf("probe: backend %s (backend.timeout %s per call)\n", c.Redacted().Backend.URL, c.Backend.Timeout)

	p.validateAnonymous(ctx)
	if p.reachable && c.Guest.Enabled {
		p.guest(ctx)
	}
	if p.reachable && o.Login != "" {
		p.login(ctx, o.Login)
	}

	switch len(p.problems) {
	case 0:
		p.printf("\nprobe: no problem found\n")
	default:
		p.printf("\nprobe: %d problem(s):\n", len(p.problems))
		for _, s := range p.problems {
			p.printf("  - %s\n", s)
		}
	}
	return p.problems
}

type prober struct {
	c         *config.Config
	w         io.Writer
	hc        *http.Client
	m         []field // backend.mapping, in config order
	problems  []string
	reachable bool
}

// field is one pointer of backend.mapping.
type field struct {
	key  string // accessToken
	raw  string // the config's text, /data/accessToken
	ptr  jsonpointer.Pointer
	kind string // token, bool, object, string, time or code: how a match is shown
}

func (p *prober) parseMapping() error {
	m := p.c.Backend.Mapping
	for _, f := range []field{
		{key: "success", raw: m.Success, kind: "bool"},
		{key: "user", raw: m.User, kind: "object"},
		{key: "tokenType", raw: m.TokenType, kind: "string"},
		{key: "expiresAt", raw: m.ExpiresAt, kind: "time"},
		{key: "accessToken", raw: m.AccessToken, kind: "token"},
		{key: "refreshToken", raw: m.RefreshToken, kind: "token"},
		{key: "errorCode", raw: m.ErrorCode, kind: "code"},
	} {
		ptr, err := jsonpointer.Parse(f.raw)
		if err != nil {
			return fmt.Errorf("backend.mapping.%s: %w", f.key, err)
		}
		f.ptr = ptr
		p.m = append(p.m, f)
	}
	return nil
}

func (p *prober) field(key string) field {
	for _, f := range p.m {
		if f.key == key {
			return f
		}
	}
	panic("probe: no mapping field " + key)
}

func (p *prober) printf(format string, args ...any) { fmt.Fprintf(p.w, format, args...) }

func (p *prober) problem(format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// answer is one backend answer, read whole.
type answer struct {
	status int
	ctype  string
	size   int
	doc    any // the decoded JSON (numbers as json.Number); nil when not JSON
	isJSON bool
}

// call makes one request bounded by backend.timeout.
func (p *prober) call(ctx context.Context, method, endpoint, bearer string, body []byte) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, p.c.Backend.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.c.Backend.URL+endpoint, rd)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := p.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL may carry backend.url's password
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return answer{}, fmt.Errorf("no answer within backend.timeout (%s)", p.c.Backend.Timeout)
		}
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return answer{}, fmt.Errorf("reading the answer: %w", err)
	}
	a := answer{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), size: len(b)}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&a.doc) == nil && !dec.More() {
		a.isJSON = true
	} else {
		a.doc = nil
	}
	return a, nil
}

// describe is one line about an answer: status, and its shape.
func (a answer) describe() string {
	s := fmt.Sprintf("%d %s", a.status, http.StatusText(a.status))
	if !a.isJSON {
		ct := a.ctype
		if ct == "" {
			ct = "no Content-Type"
		}
		return s + fmt.Sprintf(", not JSON (%s, %d bytes)", ct, a.size)
	}
	obj, ok := a.doc.(map[string]any)
	if !ok {
		return s + ", JSON " + jsonKind(a.doc)
	}
	s += ", JSON object"
	for _, k := range []string{"message", "error", "code"} {
		if v, ok := obj[k].(string); ok && v != "" && len(v) <= 120 && !tokenName(k) {
			s += fmt.Sprintf(", %s %q", k, v)
		}
	}
	return s
}

// keys prints the keys of the answer at the top level and under /data.
func (p *prober) keys(a answer) {
	obj, ok := a.doc.(map[string]any)
	if !ok {
		return
	}
	p.printf("  top-level keys: %s\n", strings.Join(sortedKeys(obj), ", "))
	if data, ok := obj["data"].(map[string]any); ok {
		p.printf("  keys under /data: %s\n", strings.Join(sortedKeys(data), ", "))
	}
}

// match prints whether each named mapping pointer finds a value in a, and
// returns the values found.
func (p *prober) match(a answer, keys ...string) map[string]any {
	found := map[string]any{}
	kw, pw := 0, 0
	for _, k := range keys {
		kw, pw = max(kw, len("backend.mapping."+k)), max(pw, len(p.field(k).raw))
	}
	for _, k := range keys {
		f := p.field(k)
		v, ok := f.ptr.Get(a.doc)
		if !ok || !a.isJSON {
			p.printf("  %-*s %-*s  did not match\n", kw, "backend.mapping."+k, pw, f.raw)
			continue
		}
		found[k] = v
		p.printf("  %-*s %-*s  matched %s\n", kw, "backend.mapping."+k, pw, f.raw, show(f.kind, v))
	}
	return found
}

// show describes a matched value without revealing tokens or user data.
func show(kind string, v any) string {
	switch {
	case kind == "token":
		if s, ok := v.(string); ok && s != "" {
			return "a string, <redacted>"
		}
		return jsonKind(v) + " (a token must be a non-empty string)"
	case kind == "object":
		if o, ok := v.(map[string]any); ok {
			return "an object with keys " + strings.Join(sortedKeys(o), ", ")
		}
		return jsonKind(v) + " (the user must be an object)"
	case kind == "bool":
		if b, ok := v.(bool); ok {
			return fmt.Sprint(b)
		}
		return jsonKind(v)
	case kind == "string" || kind == "code":
		if s, ok := v.(string); ok && len(s) <= 40 {
			return fmt.Sprintf("%q", s)
		}
		return jsonKind(v)
	case kind == "time":
		if _, ok := v.(json.Number); ok {
			return "a number (Unix seconds)"
		}
		return jsonKind(v)
	}
	return jsonKind(v)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// tokenName reports whether a JSON key names a token.
func tokenName(k string) bool {
	switch strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(k)) {
	case "token", "accesstoken", "access", "jwt", "idtoken", "refreshtoken", "refresh", "authtoken", "bearer":
		return true
	}
	return false
}

// refreshName reports whether a token key names a refresh token.
func refreshName(k string) bool { return strings.Contains(strings.ToLower(k), "refresh") }

// tokenPointers lists the JSON Pointers of the non-empty strings under
// token-named keys in doc, in a stable order.
func tokenPointers(doc any, refresh bool) []string {
	var out []string
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				p := at + "/" + strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
				if s, ok := x[k].(string); ok && s != "" && tokenName(k) && refreshName(k) == refresh {
					out = append(out, p)
				}
				walk(x[k], p)
			}
		case []any:
			for i, e := range x {
				walk(e, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(doc, "")
	return out
}

// succeeded reports whether mapping.success does not read false.
func (p *prober) succeeded(a answer) bool {
	v, ok := p.field("success").ptr.Get(a.doc)
	b, isBool := v.(bool)
	return !ok || !isBool || b
}

func (p *prober) validateAnonymous(ctx context.Context) {
	ep := p.c.Backend.Endpoints.Validate
	p.printf("\nvalidate without a token: GET %s (backend.endpoints.validate)\n", ep)
	a, err := p.call(ctx, http.MethodGet, ep, "", nil)
	if err != nil {
		p.printf("  no answer: %v\n", err)
		p.problem("the backend is unreachable: GET %s: %v", ep, err)
		return
	}
	p.reachable = true
	p.printf("  answer: %s\n", a.describe())
	p.printf("  reachable: any HTTP answer shows the gateway can reach the backend\n")
	switch {
	case a.status >= 200 && a.status <= 299 && p.succeeded(a):
		p.printf("  note: a request without a token was accepted; the gateway never sends one without a token\n")
	case a.status == http.StatusNotFound:
		p.printf("  note: 404 may mean backend.url or backend.endpoints.validate is wrong\n")
	case a.status >= 500:
		p.printf("  note: the gateway counts 5xx answers as the backend being unavailable\n")
	}
}

func (p *prober) guest(ctx context.Context) {
	ep := p.c.Backend.Endpoints.Guest
	p.printf("\nguest token: POST %s with guest.credentials (guest.enabled)\n", ep)
	body, err := json.Marshal(p.c.Guest.Credentials)
	if err != nil || p.c.Guest.Credentials == nil {
		body = []byte("{}")
	}
	a, err := p.call(ctx, http.MethodPost, ep, "", body)
	if err != nil {
		p.printf("  no answer: %v\n", err)
		p.problem("guest: POST %s: %v", ep, err)
		return
	}
	p.printf("  answer: %s\n", a.describe())
	if a.status < 200 || a.status > 299 || !p.succeeded(a) {
		p.problem("guest: the backend refused the guest credentials (%d): anonymous visitors get no guest token; check guest.credentials", a.status)
		return
	}
	p.keys(a)
	found := p.match(a, "success", "accessToken")
	token, _ := found["accessToken"].(string)
	if token == "" {
		p.tokenProblem("guest", a, "accessToken", "no guest token is minted, so anonymous visitors get none")
		return
	}
	p.validateToken(ctx, "the guest token", token, true)
}

func (p *prober) login(ctx context.Context, login string) {
	ep := p.c.Backend.Endpoints.Login
	body, who, err := loginBody(login)
	if err != nil {
		p.printf("\nlogin: %v\n", err)
		p.problem("login: %v", err)
		return
	}
	p.printf("\nlogin %s: POST %s (backend.endpoints.login)\n", who, ep)
	a, err := p.call(ctx, http.MethodPost, ep, "", body)
	if err != nil {
		p.printf("  no answer: %v\n", err)
		p.problem("login: POST %s: %v", ep, err)
		return
	}
	p.printf("  answer: %s\n", a.describe())
	if a.status < 200 || a.status > 299 || !p.succeeded(a) {
		p.keys(a)
		p.match(a, "success", "errorCode")
		p.problem("login: the backend refused the login (%d), so the mapping of a successful answer was not checked: check the user name and password", a.status)
		return
	}
	p.keys(a)
	found := p.match(a, "success", "user", "tokenType", "expiresAt", "accessToken", "refreshToken")
	access, _ := found["accessToken"].(string)
	if access == "" {
		p.tokenProblem("login", a, "accessToken", "the gateway answers every successful login 502 (no token to put in the cookie)")
	}
	if refresh, _ := found["refreshToken"].(string); refresh == "" {
		if p.c.Cookies.Refresh != "" {
			p.tokenProblem("login", a, "refreshToken", "cookies.refresh is set (dual-token mode) but no refresh token is stored")
		} else {
			p.printf("  (no refresh token: fine in single-token mode, cookies.refresh unset)\n")
		}
	}
	if access == "" {
		return
	}
	p.validateToken(ctx, "the login's access token", access, false)
	lep := p.c.Backend.Endpoints.Logout
	p.printf("\nlogout (ends the probe's session): POST %s (backend.endpoints.logout)\n", lep)
	if la, err := p.call(ctx, http.MethodPost, lep, access, nil); err != nil {
		p.printf("  no answer: %v\n", err)
	} else {
		p.printf("  answer: %s\n", la.describe())
	}
}

// tokenProblem reports a token pointer that matched nothing, with the
// places in the answer where a token-named field is.
func (p *prober) tokenProblem(step string, a answer, key, effect string) {
	f := p.field(key)
	where := tokenPointers(a.doc, key == "refreshToken")
	msg := fmt.Sprintf("%s: backend.mapping.%s %s matched nothing: %s", step, key, f.raw, effect)
	if len(where) > 0 {
		msg += fmt.Sprintf("; the answer has one at %s: set backend.mapping.%s: %s", strings.Join(where, ", "), key, where[0])
	}
	p.problem("%s", msg)
}

// validateToken validates token as the gateway does on each request and
// checks the fields it reads.
func (p *prober) validateToken(ctx context.Context, what, token string, guest bool) {
	ep := p.c.Backend.Endpoints.Validate
	p.printf("\nvalidate %s: GET %s\n", what, ep)
	a, err := p.call(ctx, http.MethodGet, ep, token, nil)
	if err != nil {
		p.printf("  no answer: %v\n", err)
		p.problem("validate %s: %v", what, err)
		return
	}
	p.printf("  answer: %s\n", a.describe())
	if a.status < 200 || a.status > 299 || !p.succeeded(a) {
		p.problem("validate %s: the backend answered %d: a token it just issued does not validate (check backend.endpoints.validate and backend.mapping.success)", what, a.status)
		return
	}
	p.keys(a)
	found := p.match(a, "success", "user", "tokenType", "expiresAt")
	if _, ok := found["user"].(map[string]any); !ok {
		p.problem("validate %s: backend.mapping.user %s is not an object in the answer: the gateway reads every token as invalid", what, p.field("user").raw)
	}
	typ, _ := found["tokenType"].(string)
	if typ == "" {
		typ = "user" // what the gateway assumes
	}
	switch {
	case guest && typ != "guest":
		p.problem("validate %s: its type reads %q (backend.mapping.tokenType %s), not \"guest\": guest visitors would count as signed-in users", what, typ, p.field("tokenType").raw)
	case !guest && typ == "guest":
		p.problem("validate %s: its type reads \"guest\" (backend.mapping.tokenType %s): signed-in users would count as guests", what, p.field("tokenType").raw)
	}
}

// loginBody builds the login request body, and how to name the login in
// the report (never the password).
func loginBody(login string) ([]byte, string, error) {
	if strings.HasPrefix(strings.TrimSpace(login), "{") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(login), &obj); err != nil {
			return nil, "", fmt.Errorf("the login is not a JSON object: %v", err)
		}
		return []byte(login), "with the given JSON body", nil
	}
	user, pw, ok := strings.Cut(login, ":")
	if !ok || user == "" || pw == "" {
		return nil, "", errors.New(`the login must be "user:password" or a JSON object`)
	}
	b, _ := json.Marshal(map[string]string{"username": user, "email": user, "password": pw})
	return b, fmt.Sprintf("as %q", user), nil
}
