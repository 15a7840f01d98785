package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/jsonpointer"
	"github.com/apilayer/apilayer/internal/tracectx"
	"github.com/apilayer/apilayer/internal/transport"
	"github.com/apilayer/apilayer/requestid"
)

// MaxResponseBody caps how much of a backend answer is read.
const MaxResponseBody = 1 << 20

// DefaultTimeout bounds each call when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Options configures a Client.
type Options struct {
	// URL is the backend's base URL; endpoints are joined to it. A missing
	// trailing "/" is added.
	URL string
	// Timeout bounds each call entirely (connect, headers and body). If
	// zero, DefaultTimeout is used.
	Timeout time.Duration
	// Endpoints are paths relative to URL. Empty fields take the
	// backend.endpoints defaults (auth/me, auth/refresh, ...).
	Endpoints config.Endpoints
	// Mapping holds JSON Pointers into backend answers. Empty fields take
	// the backend.mapping defaults (/success, /data, ...).
	Mapping config.Mapping
	// ReuseStatusCodes and ReuseCodes classify a refresh failure as reuse.
	// If nil, [409] and [token_reuse] are used.
	ReuseStatusCodes []int
	ReuseCodes       []string
	// GuestCredentials is sent as the JSON body of the guest call. If nil,
	// the body is {}.
	GuestCredentials map[string]any
	// HTTPClient makes the calls. If nil, a dedicated client with its own
	// keep-alive pool is used (Close releases it); it never follows
	// redirects. A client you pass is yours to close.
	HTTPClient *http.Client
	// WrapTransport, if set, wraps the transport of the client that makes
	// the calls (metrics count them this way).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// Breaker configures the circuit breaker of each endpoint; the zero
	// value is the defaults.
	Breaker BreakerOptions
	// Now is the breakers' clock. If nil, time.Now.
	Now func() time.Time
	// Logger receives warnings and the breakers' changes of state (never
	// tokens). If nil, nothing is logged.
	Logger *slog.Logger
	// Tracer, if set, makes a client span of each call ("backend
	// validate", "backend refresh"...), a child of the span in the call's
	// context, and sends its W3C trace context to the backend. The span
	// carries the endpoint, the method and the status, never a token.
	Tracer trace.Tracer
}

// Tokens are the tokens a backend answer carried. They redact themselves in
// logs and in fmt output.
type Tokens struct {
	Access  string // at mapping.accessToken
	Refresh string // at mapping.refreshToken; "" when absent
}

// LogValue implements slog.LogValuer: tokens never appear in logs.
func (Tokens) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// String implements fmt.Stringer without revealing the tokens.
func (Tokens) String() string { return "backend.Tokens{REDACTED}" }

// AuthResponse is the backend's answer to a login or register call.
type AuthResponse struct {
	Status int
	// Body is the backend's JSON object with every token field removed (at
	// the mapping's token pointers and, at any depth, under the names token,
	// accessToken, refreshToken, access_token, refresh_token).
	Body map[string]any
	// Tokens are the tokens of a successful answer (2xx, success not false).
	Tokens Tokens
	// Identity is the user of a successful answer whose mapping.user is an
	// object; nil otherwise.
	Identity *Identity
}

// Client calls the JWT backend. It is safe for concurrent use.
type Client struct {
	base     string
	timeout  time.Duration
	ep       config.Endpoints
	m        mapping
	reuseSt  map[int]bool
	reuseCd  map[string]bool
	guest    []byte
	hc       *http.Client
	owned    *http.Transport // the transport New made (Options.HTTPClient nil), closed by Close
	log      *slog.Logger
	breakers map[string]*breaker    // by endpoint name (endpointNames); read-only after New
	tracer   trace.Tracer           // nil: no spans
	errCodes [3]jsonpointer.Pointer // mapping.errorCode, /error, /reason
}

type mapping struct {
	success, user, tokenType, expiresAt, accessToken, refreshToken, errorCode jsonpointer.Pointer
}

// New returns a Client for o.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("backend: url must be an absolute http(s) URL (got %q)", o.URL)
	}
	c := &Client{
		base:    o.URL,
		timeout: o.Timeout,
		ep:      o.Endpoints,
		hc:      o.HTTPClient,
		log:     o.Logger,
		tracer:  o.Tracer,
		reuseSt: map[int]bool{},
		reuseCd: map[string]bool{},
	}
	if !strings.HasSuffix(c.base, "/") {
		c.base += "/"
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&c.ep.Validate, "auth/me")
	def(&c.ep.Refresh, "auth/refresh")
	def(&c.ep.Guest, "auth/guest")
	def(&c.ep.Login, "auth/login")
	def(&c.ep.Register, "auth/register")
	def(&c.ep.Logout, "auth/logout")
	for _, p := range []*string{&c.ep.Validate, &c.ep.Refresh, &c.ep.Guest, &c.ep.Login, &c.ep.Register, &c.ep.Logout} {
		*p = strings.TrimPrefix(*p, "/")
	}
	mp := o.Mapping
	def(&mp.Success, "/success")
	def(&mp.User, "/data")
	def(&mp.TokenType, "/data/type")
	def(&mp.ExpiresAt, "/data/exp")
	def(&mp.AccessToken, "/data/accessToken")
	def(&mp.RefreshToken, "/data/refreshToken")
	def(&mp.ErrorCode, "/code")
	var errs []error
	parse := func(dst *jsonpointer.Pointer, s string) {
		p, err := jsonpointer.Parse(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("backend: mapping: %w", err))
		}
		*dst = p
	}
	parse(&c.m.success, mp.Success)
	parse(&c.m.user, mp.User)
	parse(&c.m.tokenType, mp.TokenType)
	parse(&c.m.expiresAt, mp.ExpiresAt)
	parse(&c.m.accessToken, mp.AccessToken)
	parse(&c.m.refreshToken, mp.RefreshToken)
	parse(&c.m.errorCode, mp.ErrorCode)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.errCodes = [3]jsonpointer.Pointer{c.m.errorCode, {"error"}, {"reason"}}
	reuseSt, reuseCd := o.ReuseStatusCodes, o.ReuseCodes
	if reuseSt == nil {
		reuseSt = []int{http.StatusConflict}
	}
	if reuseCd == nil {
		reuseCd = []string{"token_reuse"}
	}
	for _, s := range reuseSt {
		c.reuseSt[s] = true
	}
	for _, s := range reuseCd {
		c.reuseCd[s] = true
	}
	creds := o.GuestCredentials
	if creds == nil {
		creds = map[string]any{}
	}
	if c.guest, err = json.Marshal(creds); err != nil {
		return nil, fmt.Errorf("backend: guest credentials: %w", err)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	c.breakers = make(map[string]*breaker, len(endpointNames))
	for _, name := range endpointNames {
		c.breakers[name] = newBreaker(name, o.Breaker, now, c.log)
	}
	if c.hc == nil {
		// The gateway's one transport policy for its own calls: the API
		// proxy reaches the same host the same way.
		c.owned = transport.ForHost()
		c.hc = newHTTPClient(c.owned)
	}
	if o.WrapTransport != nil {
		hc := *c.hc // a copy: the caller's client is never changed
		t := hc.Transport
		if t == nil {
			t = http.DefaultTransport
		}
		hc.Transport = o.WrapTransport(t)
		c.hc = &hc
	}
	return c, nil
}

func newHTTPClient(t *http.Transport) *http.Client {
	return &http.Client{
		Transport: t,
		// A redirect is an answer, not something to follow with a Bearer
		// token attached.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// CloseIdleConnections closes the idle keep-alive connections of the
// client's transport.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Close releases what New made: the idle connections of its own transport.
// A client passed in Options.HTTPClient is the caller's to close. It is
// safe to call more than once; calls in flight are not interrupted.
func (c *Client) Close() error {
	if c.owned != nil {
		c.owned.CloseIdleConnections()
	}
	return nil
}

// Available reports whether the backend counts as available for the
// health endpoint: the validate endpoint's breaker is closed and its most
// recent call did not fail as unavailable. The other endpoints are reported
// by Breakers.
func (c *Client) Available() bool { return c.breakers["validate"].available() }

// Answered returns when the backend last answered a validate call (any
// answer but 5xx and 429); zero when it never did.
func (c *Client) Answered() time.Time { return c.breakers["validate"].answered() }

// Probe checks that the backend can be reached: GET endpoints.validate
// without a token, outside the circuit breaker. Any HTTP answer, even an
// error status, is nil; no answer within ctx and the client's timeout is
// an error wrapping ErrUnavailable (or ctx's error).
func (c *Client) Probe(ctx context.Context) error {
	_, _, err := c.call(ctx, "probe", http.MethodGet, c.ep.Validate, "", nil)
	return err
}

// Breakers returns the state of each endpoint's circuit breaker, keyed by
// validate, refresh, guest, login, register and logout.
func (c *Client) Breakers() map[string]BreakerState {
	out := make(map[string]BreakerState, len(c.breakers))
	for name, b := range c.breakers {
		out[name] = b.state()
	}
	return out
}

// answer is a backend response, read whole.
type answer struct {
	status   int
	body     []byte
	tooLarge bool
}

// unavailableStatus reports whether status means the backend could not
// answer about the token.
func unavailableStatus(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests
}

// do makes one call bounded by the client's timeout, through the breaker
// of op (an endpoint name). Its error is the caller's context error, or
// wraps ErrUnavailable.
func (c *Client) do(ctx context.Context, op, method, endpoint, bearer string, body []byte) (answer, error) {
	if c.tracer != nil && trace.SpanContextFromContext(ctx).IsSampled() {
		// A call of a trace that is not recorded gets no span; the
		// request's trace context is sent all the same.
		return c.traced(ctx, op, method, endpoint, bearer, body)
	}
	return c.through(ctx, op, method, endpoint, bearer, body)
}

// traced is do in a client span.
func (c *Client) traced(ctx context.Context, op, method, endpoint, bearer string, body []byte) (answer, error) {
	ctx, span := c.tracer.Start(ctx, "backend "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes( // a recorded trace: attributes cost nothing worth saving here
			attribute.String("apilayer.endpoint", op),
			attribute.String("http.request.method", method),
			attribute.String("url.path", endpoint),
		))
	defer span.End()
	a, err := c.through(ctx, op, method, endpoint, bearer, body)
	if a.status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", a.status))
	}
	switch {
	case err != nil:
		span.SetStatus(codes.Error, err.Error()) // the URL and the answer carry no token
	case unavailableStatus(a.status):
		span.SetStatus(codes.Error, http.StatusText(a.status))
	}
	return a, err
}

// through makes the call through the breaker of op.
func (c *Client) through(ctx context.Context, op, method, endpoint, bearer string, body []byte) (answer, error) {
	br := c.breakers[op]
	probe, err := br.allow()
	if err != nil {
		return answer{}, err
	}
	a, o, err := c.call(ctx, op, method, endpoint, bearer, body)
	br.done(probe, o)
	return a, err
}

// call makes one call bounded by the client's timeout and says what it
// showed of the backend's availability.
func (c *Client) call(ctx context.Context, op, method, endpoint, bearer string, body []byte) (answer, outcome, error) {
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(cctx, method, c.base+endpoint, rd)
	if err != nil {
		return answer{}, cancelled, fmt.Errorf("backend: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if id := requestid.FromContext(ctx); id != "" {
		req.Header.Set(requestid.Header, id)
	}
	if c.tracer != nil {
		tracectx.Inject(ctx, req.Header)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.failed(ctx, op, err)
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}()
	a := answer{status: resp.StatusCode}
	a.body, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	if err != nil {
		return c.failed(ctx, op, err)
	}
	if len(a.body) > MaxResponseBody {
		a.body, a.tooLarge = nil, true
	}
	if unavailableStatus(a.status) {
		return a, unavailable, nil
	}
	return a, answered, nil
}

// failed turns a transport error into the caller's context error or an
// error wrapping ErrUnavailable.
func (c *Client) failed(ctx context.Context, op string, err error) (answer, outcome, error) {
	if ctx.Err() != nil {
		return answer{}, cancelled, fmt.Errorf("backend: %s: %w", op, context.Cause(ctx))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL carries no token, but it is noise
	}
	return answer{}, unavailable, fmt.Errorf("backend: %s: %w: %w", op, ErrUnavailable, err)
}

// decode parses one JSON value, numbers as json.Number.
func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

// succeeded reports whether mapping.success is not present-and-false.
func (c *Client) succeeded(doc any) bool {
	v, ok := c.m.success.Get(doc)
	if !ok {
		return true
	}
	b, isBool := v.(bool)
	return !isBool || b
}

// str returns the non-empty string p designates in doc.
func str(p jsonpointer.Pointer, doc any) string {
	v, _ := p.Get(doc)
	s, _ := v.(string)
	return s
}

// Validate asks the backend whether token is valid: GET endpoints.validate
// with the token as Bearer. It returns the identity, ErrInvalid, an error
// wrapping ErrUnavailable, or the caller's context error.
func (c *Client) Validate(ctx context.Context, token string) (Identity, error) {
	a, err := c.do(ctx, "validate", http.MethodGet, c.ep.Validate, token, nil)
	if err != nil {
		return Identity{}, err
	}
	if unavailableStatus(a.status) {
		return Identity{}, fmt.Errorf("backend: validate: %w (status %d)", ErrUnavailable, a.status)
	}
	if a.status < 200 || a.status > 299 || a.tooLarge {
		return Identity{}, ErrInvalid
	}
	doc, err := decode(a.body)
	if err != nil || !c.succeeded(doc) {
		return Identity{}, ErrInvalid
	}
	id, ok := c.identity(doc)
	if !ok {
		return Identity{}, ErrInvalid
	}
	return id, nil
}

// Refresh exchanges credential for new tokens: POST endpoints.refresh with
// the credential as Bearer and no body. A failure is a *RefreshError,
// except when the caller's own context ended.
func (c *Client) Refresh(ctx context.Context, credential string) (Tokens, error) {
	a, err := c.do(ctx, "refresh", http.MethodPost, c.ep.Refresh, credential, nil)
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return Tokens{}, &RefreshError{Reason: ReasonNetwork, Err: err}
		}
		return Tokens{}, err
	}
	var doc any
	if !a.tooLarge {
		doc, _ = decode(a.body) // nil when not JSON
	}
	if a.status >= 200 && a.status <= 299 {
		if doc != nil && c.succeeded(doc) {
			if t := str(c.m.accessToken, doc); t != "" {
				return Tokens{Access: t, Refresh: str(c.m.refreshToken, doc)}, nil
			}
		}
		return Tokens{}, &RefreshError{Reason: ReasonUnknown, Status: a.status}
	}
	return Tokens{}, c.classify(a.status, doc)
}

// classify turns a non-2xx refresh answer into a *RefreshError.
func (c *Client) classify(status int, doc any) *RefreshError {
	e := &RefreshError{Status: status}
	switch {
	case c.reuseSt[status] || c.reuseCd[c.errorCode(doc)]:
		e.Reason = ReasonReuse
	case unavailableStatus(status):
		e.Reason = ReasonNetwork
		e.Err = ErrUnavailable
	case status == http.StatusUnauthorized:
		e.Reason = ReasonExpired
	case status == http.StatusForbidden:
		e.Reason = ReasonRevoked
	default:
		e.Reason = ReasonUnknown
	}
	return e
}

// errorCode is the first string at mapping.errorCode, /error, /reason.
func (c *Client) errorCode(doc any) string {
	if doc == nil {
		return ""
	}
	for _, p := range c.errCodes {
		v, _ := p.Get(doc)
		if s, ok := v.(string); ok {
			return s
		}
	}
	return ""
}

// Guest mints a guest token: POST endpoints.guest with the guest
// credentials as the JSON body.
func (c *Client) Guest(ctx context.Context) (string, error) {
	a, err := c.do(ctx, "guest", http.MethodPost, c.ep.Guest, "", c.guest)
	if err != nil {
		return "", err
	}
	if unavailableStatus(a.status) {
		return "", fmt.Errorf("backend: guest: %w (status %d)", ErrUnavailable, a.status)
	}
	if a.status < 200 || a.status > 299 || a.tooLarge {
		return "", fmt.Errorf("backend: guest: refused (status %d)", a.status)
	}
	doc, err := decode(a.body)
	if err != nil || !c.succeeded(doc) {
		return "", fmt.Errorf("backend: guest: no token in the answer (status %d)", a.status)
	}
	t := str(c.m.accessToken, doc)
	if t == "" {
		return "", fmt.Errorf("backend: guest: no token in the answer (status %d)", a.status)
	}
	return t, nil
}

// Login forwards a login body (JSON, as the browser sent it).
func (c *Client) Login(ctx context.Context, body []byte) (*AuthResponse, error) {
	return c.auth(ctx, "login", c.ep.Login, body)
}

// Register forwards a register body (JSON, as the browser sent it).
func (c *Client) Register(ctx context.Context, body []byte) (*AuthResponse, error) {
	return c.auth(ctx, "register", c.ep.Register, body)
}

func (c *Client) auth(ctx context.Context, op, endpoint string, body []byte) (*AuthResponse, error) {
	if body == nil {
		body = []byte("{}")
	}
	a, err := c.do(ctx, op, http.MethodPost, endpoint, "", body)
	if err != nil {
		return nil, err
	}
	if a.tooLarge {
		return nil, fmt.Errorf("backend: %s: %w: answer over %d bytes (status %d)", op, ErrBadResponse, MaxResponseBody, a.status)
	}
	doc, err := decode(a.body)
	obj, isObj := doc.(map[string]any)
	if err != nil || !isObj {
		return nil, fmt.Errorf("backend: %s: %w: not a JSON object (status %d)", op, ErrBadResponse, a.status)
	}
	r := &AuthResponse{Status: a.status, Body: obj}
	if a.status >= 200 && a.status <= 299 && c.succeeded(doc) {
		r.Tokens = Tokens{Access: str(c.m.accessToken, doc), Refresh: str(c.m.refreshToken, doc)}
		// A second decoding, so Identity.User and Body share nothing.
		if doc2, err := decode(a.body); err == nil {
			if id, ok := c.identity(doc2); ok {
				r.Identity = &id
			}
		}
	}
	c.m.accessToken.Remove(doc)
	c.m.refreshToken.Remove(doc)
	authn.StripTokens(doc)
	return r, nil
}

// Logout tells the backend that token is logged out: POST endpoints.logout
// with the token as Bearer and, in dual-token mode, the refresh token in
// the JSON body, so that a backend revoking refresh tokens can revoke it
// too (refresh is "" otherwise). Any non-2xx answer is an error.
func (c *Client) Logout(ctx context.Context, token, refresh string) error {
	var body []byte
	if refresh != "" {
		// {"refreshToken": refresh}, named as the backend names it in its
		// answers (the last token of mapping.refreshToken).
		name := "refreshToken"
		if p := c.m.refreshToken; len(p) > 0 && p[len(p)-1] != "" {
			name = p[len(p)-1]
		}
		body, _ = json.Marshal(map[string]string{name: refresh}) // strings always encode
	}
	a, err := c.do(ctx, "logout", http.MethodPost, c.ep.Logout, token, body)
	if err != nil {
		return err
	}
	if unavailableStatus(a.status) {
		return fmt.Errorf("backend: logout: %w (status %d)", ErrUnavailable, a.status)
	}
	if a.status < 200 || a.status > 299 {
		return fmt.Errorf("backend: logout: refused (status %d)", a.status)
	}
	return nil
}
