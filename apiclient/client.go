package apiclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/requestid"
	"github.com/apilayer/apilayer/route"
	"github.com/apilayer/apilayer/sanitize"
)

// Client calls the backend on behalf of the request being served, with
// that request's token and locale. It is safe for concurrent use. Create
// one with New and release it with Close.
type Client struct {
	cfg       Config
	base      *url.URL
	hc        *http.Client
	own       *http.Transport // the transport New made, closed by Close; nil with Config.HTTPClient
	public    route.Globs
	san       *sanitize.Sanitizer // nil when Config.Sanitize.Disabled
	sensitive []string            // normalised sensitive words
	log       *slog.Logger        // nil when Config.Debug.Enabled is false

	ctx    context.Context // ends at Close; parent of shared (deduplicated) calls
	cancel context.CancelFunc
	wg     sync.WaitGroup // shared calls in flight

	mu       sync.Mutex
	inflight map[string]*flight // guarded by mu; deduplicated calls by key
	closed   bool               // guarded by mu

	// testJoined, when set by this package's tests, is called when a call
	// joins a flight in progress.
	testJoined func()
}

// New returns a Client for cfg. It returns every problem of cfg at once.
func New(cfg Config) (*Client, error) {
	cfg.defaults()
	var errs []error
	base, err := url.Parse(cfg.BaseURL)
	switch {
	case cfg.BaseURL == "":
		errs = append(errs, errors.New("apiclient: BaseURL: required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("apiclient: BaseURL: %w", err))
	case base.Scheme != "http" && base.Scheme != "https", base.Host == "":
		errs = append(errs, fmt.Errorf("apiclient: BaseURL: want an absolute http or https URL (got %q)", cfg.BaseURL))
	case base.RawQuery != "" || base.Fragment != "":
		errs = append(errs, fmt.Errorf("apiclient: BaseURL: must not have a query or fragment (got %q)", cfg.BaseURL))
	}
	if base != nil && !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		if base.RawPath != "" {
			base.RawPath += "/"
		}
	}
	public, err := route.CompileGlobs(cfg.PublicEndpoints)
	if err != nil {
		errs = append(errs, fmt.Errorf("apiclient: PublicEndpoints: %w", err))
	}
	for i, g := range public {
		if g.Absolute() {
			errs = append(errs, fmt.Errorf("apiclient: PublicEndpoints[%d]: globs are relative to BaseURL, drop the leading slash (got %q)", i, g))
		}
	}
	switch cfg.MethodSpoofing.Strategy {
	case SpoofBody, SpoofHeader:
	default:
		errs = append(errs, fmt.Errorf("apiclient: MethodSpoofing.Strategy: want %q or %q (got %q)", SpoofBody, SpoofHeader, cfg.MethodSpoofing.Strategy))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("apiclient: Timeout: must not be negative (got %s)", cfg.Timeout))
	}
	if j := cfg.Retry.Jitter; j < 0 || j > 1 {
		errs = append(errs, fmt.Errorf("apiclient: Retry.Jitter: want a number in [0, 1] (got %v)", j))
	}
	if cfg.Retry.Backoff < Exponential || cfg.Retry.Backoff > Fixed {
		errs = append(errs, fmt.Errorf("apiclient: Retry.Backoff: unknown schedule %d", cfg.Retry.Backoff))
	}
	var san *sanitize.Sanitizer
	if !cfg.Sanitize.Disabled {
		san, err = sanitize.New(sanitize.Options{
			Mode:          cfg.Sanitize.Mode,
			AllowedTags:   cfg.Sanitize.AllowedTags,
			SkipFields:    cfg.Sanitize.SkipFields,
			SkipEndpoints: cfg.Sanitize.SkipEndpoints,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("apiclient: Sanitize: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := &Client{
		cfg:       cfg,
		base:      base,
		hc:        cfg.HTTPClient,
		public:    public,
		san:       san,
		sensitive: sensitiveWords(cfg.Debug.SensitiveFields),
		inflight:  make(map[string]*flight),
	}
	if c.hc == nil {
		c.own = http.DefaultTransport.(*http.Transport).Clone()
		c.hc = &http.Client{Transport: c.own}
	}
	if cfg.Debug.Enabled {
		c.log = cfg.Logger
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Close cancels the deduplicated calls still in flight, waits for them,
// and releases the idle connections of the client's own transport. Calls
// made after Close return ErrClosed. Close is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
	return nil
}

// Get calls GET endpoint. endpoint is a path below Config.BaseURL, with an
// optional query ("users/5?fields=name"); a leading "/" is ignored.
func (c *Client) Get(ctx context.Context, endpoint string, opts ...CallOption) (*Response, error) {
	return c.Do(ctx, http.MethodGet, endpoint, nil, opts...)
}

// Delete calls DELETE endpoint.
func (c *Client) Delete(ctx context.Context, endpoint string, opts ...CallOption) (*Response, error) {
	return c.Do(ctx, http.MethodDelete, endpoint, nil, opts...)
}

// Post calls POST endpoint with body (see Do).
func (c *Client) Post(ctx context.Context, endpoint string, body any, opts ...CallOption) (*Response, error) {
	return c.Do(ctx, http.MethodPost, endpoint, body, opts...)
}

// Put calls PUT endpoint with body (see Do).
func (c *Client) Put(ctx context.Context, endpoint string, body any, opts ...CallOption) (*Response, error) {
	return c.Do(ctx, http.MethodPut, endpoint, body, opts...)
}

// Patch calls PATCH endpoint with body (see Do).
func (c *Client) Patch(ctx context.Context, endpoint string, body any, opts ...CallOption) (*Response, error) {
	return c.Do(ctx, http.MethodPatch, endpoint, body, opts...)
}

// Do calls method endpoint with body, which is nil (no body), a *Form
// (multipart/form-data), a json.RawMessage (sent as it is, after
// sanitizing) or any value encoding/json can encode (a []byte becomes a
// base64 string: wrap raw JSON in json.RawMessage).
//
// A call that got an answer returns its Response, whatever the status,
// and for a status outside 2xx also an error: *AuthError (401),
// *ValidationError (422, or 400 with field errors), *RateLimitError (429)
// or *HTTPError. A call without an answer returns a nil Response and a
// *TimeoutError, a *NetworkError, an *AuthError with reason NoToken, or
// the context's error, wrapped.
func (c *Client) Do(ctx context.Context, method, endpoint string, body any, opts ...CallOption) (*Response, error) {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	method = strings.ToUpper(method)
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	req, err := c.prepare(ctx, method, endpoint, body, &o)
	if err != nil {
		return nil, err
	}
	var out outcome
	if key, ok := c.dedupeKey(req, body, &o); ok {
		out, err = c.shared(ctx, key, req)
		if err != nil {
			return nil, err
		}
	} else {
		out = c.execute(ctx, req)
	}
	return c.finish(req, out)
}

// prepared is a call ready to be sent, any number of times.
type prepared struct {
	method     string // the method of the call
	wire       string // the method sent (POST when spoofed)
	endpoint   string // the endpoint path, for errors and logs
	url        *url.URL
	header     http.Header
	body       payload
	token      string
	locale     string
	retry      Retry
	idempotent bool
	timeout    time.Duration
	perCall    http.Header // the call's own headers, for the dedupe key
}

func (c *Client) prepare(ctx context.Context, method, endpoint string, body any, o *callOptions) (*prepared, error) {
	u, rel, err := c.resolve(endpoint)
	if err != nil {
		return nil, err
	}
	p := &prepared{method: method, wire: method, endpoint: rel, url: u, perCall: o.header}

	// The token. The public-endpoint rules are the gateway's
	// (api.publicEndpoints, api.skipAuthByDefault); next-api-layer
	// documented them for its client but ignored them.
	skip := c.cfg.SkipAuthByDefault || c.public.Match(rel)
	if o.skipAuth != nil {
		skip = *o.skipAuth
	}
	if !skip {
		if c.cfg.TokenFrom != nil {
			p.token = c.cfg.TokenFrom(ctx)
		} else {
			p.token = authn.FromContext(ctx).Token
		}
		if p.token == "" {
			return nil, &AuthError{Reason: NoToken, Method: method, Endpoint: rel}
		}
	}

	// The query: the endpoint's (kept byte for byte when nothing is
	// added), then WithQuery, then the locale.
	p.locale = c.locale(ctx)
	if len(o.query) > 0 || p.locale != "" {
		q := u.Query()
		for k, v := range o.query {
			q[k] = v
		}
		if p.locale != "" {
			q.Set(c.cfg.I18n.ParamName, p.locale)
		}
		u.RawQuery = q.Encode()
	}

	// The headers: Accept, the defaults, the call's own, then the ones the
	// client owns.
	h := make(http.Header)
	h.Set("Accept", "application/json")
	for k, v := range c.cfg.Headers {
		h[http.CanonicalHeaderKey(k)] = slices.Clone(v)
	}
	for k, v := range o.header {
		h[k] = slices.Clone(v)
	}
	if p.token != "" {
		h.Set("Authorization", "Bearer "+p.token)
	}
	if id := c.requestID(ctx, o); id != "" {
		h.Set(c.cfg.RequestID.Header, id)
	}

	// The body and method spoofing.
	spoof := c.cfg.MethodSpoofing.Enabled
	if o.methodSpoofOn != nil {
		spoof = *o.methodSpoofOn
	}
	spoof = spoof && (method == http.MethodPut || method == http.MethodPatch || method == http.MethodDelete)
	var field string
	if spoof && c.cfg.MethodSpoofing.Strategy == SpoofBody {
		field = c.cfg.MethodSpoofing.FieldName
	}
	var spoofed bool
	p.body, spoofed, err = c.encodeBody(rel, body, o, field, method)
	if err != nil {
		return nil, err
	}
	if p.body.contentType != "" {
		h.Set("Content-Type", p.body.contentType)
	}
	if spoof {
		p.wire = http.MethodPost
		if !spoofed { // the header strategy, or a body that cannot carry the field
			h.Set("X-HTTP-Method-Override", method)
		}
	}
	p.header = h

	// Retries.
	p.retry = c.cfg.Retry
	if o.retry != nil {
		p.retry = o.retry.withDefaults()
		p.retry.Enabled = o.retry.Enabled
	}
	p.idempotent = o.retryUnsafe || idempotent(method)
	p.timeout = c.cfg.Timeout
	if o.timeout > 0 {
		p.timeout = o.timeout
	}
	return p, nil
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// resolve turns endpoint into a URL below the base. It refuses what could
// leave the base path: absolute URLs, dot segments (encoded too), bad
// escapes and control bytes; endpoints built from user input ("users/" +
// id) cannot climb to another API.
func (c *Client) resolve(endpoint string) (*url.URL, string, error) {
	trimmed := strings.TrimLeft(endpoint, "/")
	ref, err := url.Parse(trimmed)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrBadEndpoint, err)
	}
	if ref.Scheme != "" || ref.Host != "" || ref.User != nil || ref.Opaque != "" {
		return nil, "", fmt.Errorf("%w: not a path (got %q)", ErrBadEndpoint, redactQuery(endpoint))
	}
	for seg := range strings.SplitSeq(ref.Path, "/") {
		if seg == "." || seg == ".." || strings.ContainsAny(seg, "\\") && strings.Contains(seg, "..") {
			return nil, "", fmt.Errorf("%w: dot segment (got %q)", ErrBadEndpoint, redactQuery(endpoint))
		}
	}
	cleaned, ok := route.Clean("/" + ref.EscapedPath())
	if !ok {
		return nil, "", fmt.Errorf("%w: invalid path (got %q)", ErrBadEndpoint, redactQuery(endpoint))
	}
	ref.Fragment, ref.RawFragment = "", ""
	return c.base.ResolveReference(ref), cleaned[1:], nil
}

// redactQuery drops the query of an endpoint for error messages: it may
// hold secrets.
func redactQuery(endpoint string) string {
	if i := strings.IndexAny(endpoint, "?#"); i >= 0 {
		return endpoint[:i] + "?..."
	}
	return endpoint
}

// locale returns the locale to send, or "".
func (c *Client) locale(ctx context.Context) string {
	var l string
	if c.cfg.LocaleFrom != nil {
		l = c.cfg.LocaleFrom(ctx)
	} else {
		l = authn.FromContext(ctx).Locale
	}
	if l != "" && len(c.cfg.I18n.Locales) > 0 && !slices.Contains(c.cfg.I18n.Locales, l) {
		l = ""
	}
	if l == "" {
		l = c.cfg.I18n.DefaultLocale
	}
	return l
}

// requestID returns the ID to send, or "".
func (c *Client) requestID(ctx context.Context, o *callOptions) string {
	switch {
	case o.noRequestID:
		return ""
	case o.requestID != nil && *o.requestID != "":
		return *o.requestID
	case o.requestID == nil && !c.cfg.RequestID.Enabled:
		return ""
	case c.cfg.RequestID.Generate != nil:
		return c.cfg.RequestID.Generate(ctx)
	}
	if id := requestid.FromContext(ctx); requestid.Valid(id) {
		return id
	}
	return requestid.New()
}

// outcome is the result of a call before it becomes a Response: the last
// answer, or the error that prevented one.
type outcome struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// execute runs the attempts of a call.
func (c *Client) execute(ctx context.Context, p *prepared) outcome {
	for attempt := 1; ; attempt++ {
		out := c.attempt(ctx, p, attempt)
		if ctx.Err() != nil {
			return outcome{err: fmt.Errorf("apiclient: %s %s: %w", p.method, p.endpoint, context.Cause(ctx))}
		}
		delay, why, ok := c.retryDelay(p, out, attempt)
		if !ok {
			if attempt > 1 && why != "" {
				c.debug(ctx, "apiclient: giving up", slog.String("method", p.method), slog.String("endpoint", p.endpoint),
					slog.Int("attempts", attempt), slog.String("reason", why))
			}
			return out
		}
		c.debug(ctx, "apiclient: retrying", slog.String("method", p.method), slog.String("endpoint", p.endpoint),
			slog.Int("attempt", attempt), slog.String("reason", why), slog.Duration("delay", delay))
		if err := c.cfg.Sleep(ctx, delay); err != nil {
			return outcome{err: fmt.Errorf("apiclient: %s %s: waiting to retry: %w", p.method, p.endpoint, err)}
		}
	}
}

// attempt sends the request once and reads the whole answer.
func (c *Client) attempt(ctx context.Context, p *prepared, n int) outcome {
	actx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var body io.Reader
	if p.body.data != nil {
		body = bytes.NewReader(p.body.data)
	}
	req, err := http.NewRequestWithContext(actx, p.wire, p.url.String(), body)
	if err != nil {
		return outcome{err: fmt.Errorf("apiclient: %s %s: %w", p.method, p.endpoint, err)}
	}
	req.Header = p.header.Clone()
	c.logRequest(ctx, p, n)
	start := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(ctx, actx, p, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return c.transportError(ctx, actx, p, err)
	}
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return outcome{err: fmt.Errorf("apiclient: %s %s: %w (over %d bytes)", p.method, p.endpoint, ErrTooLarge, c.cfg.MaxResponseBytes)}
	}
	out := outcome{status: res.StatusCode, header: res.Header, body: data}
	c.logResponse(ctx, p, out, time.Since(start))
	return out
}

func (c *Client) transportError(ctx, actx context.Context, p *prepared, err error) outcome {
	if ctx.Err() != nil {
		return outcome{err: fmt.Errorf("apiclient: %s %s: %w", p.method, p.endpoint, context.Cause(ctx))}
	}
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		c.debug(ctx, "apiclient: timeout", slog.String("method", p.method), slog.String("endpoint", p.endpoint), slog.Duration("timeout", p.timeout))
		return outcome{err: &TimeoutError{Method: p.method, Endpoint: p.endpoint, Timeout: p.timeout, Err: context.DeadlineExceeded}}
	}
	// url.Error repeats the URL, whose query may hold secrets: keep the cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	c.debug(ctx, "apiclient: network error", slog.String("method", p.method), slog.String("endpoint", p.endpoint), slog.String("error", err.Error()))
	return outcome{err: &NetworkError{Method: p.method, Endpoint: p.endpoint, Err: err}}
}

// retryDelay says whether out is retried and after how long; why names
// the failure.
func (c *Client) retryDelay(p *prepared, out outcome, attempt int) (delay time.Duration, why string, ok bool) {
	var te *TimeoutError
	var ne *NetworkError
	r := p.retry
	switch {
	case errors.As(out.err, &te):
		why = "timeout"
		ok = slices.Contains(r.RetryOn, http.StatusRequestTimeout)
	case errors.As(out.err, &ne):
		why = "network error"
		ok = !r.NoNetworkRetry
	case out.err != nil:
		return 0, "", false
	default:
		why = fmt.Sprintf("status %d", out.status)
		ok = slices.Contains(r.RetryOn, out.status)
	}
	if !ok || !r.Enabled || !p.idempotent || attempt >= r.MaxAttempts {
		return 0, why, false
	}
	if out.err == nil && (out.status == http.StatusTooManyRequests || out.status == http.StatusServiceUnavailable) {
		if d, has := retryAfter(out.header, c.cfg.Now()); has {
			if d > r.MaxDelay {
				return 0, why + fmt.Sprintf(", Retry-After %s over MaxDelay", d), false
			}
			return d, why + ", Retry-After", true
		}
	}
	return backoff(r, attempt, c.cfg.Rand), why, true
}

// backoff returns the delay after the failed attempt n (1-based).
func backoff(r Retry, n int, rnd func() float64) time.Duration {
	var d time.Duration
	switch r.Backoff {
	case Linear:
		d = r.BaseDelay * time.Duration(n)
	case Fixed:
		d = r.BaseDelay
	default:
		d = r.BaseDelay
		for i := 1; i < n && d < r.MaxDelay; i++ {
			d *= 2
		}
	}
	if r.Jitter > 0 {
		f := 1 - r.Jitter + 2*r.Jitter*rnd()
		d = time.Duration(float64(d) * f)
	}
	return min(d, r.MaxDelay)
}

// retryAfter reads Retry-After: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	var secs int64
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && fmt.Sprint(secs) == v {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// finish turns an outcome into this caller's Response and error.
func (c *Client) finish(p *prepared, out outcome) (*Response, error) {
	if out.err != nil {
		return nil, out.err
	}
	res := newResponse(out.status, out.header.Clone(), bytes.Clone(out.body))
	if res.Status >= 200 && res.Status < 300 {
		return res, nil
	}
	he := &HTTPError{Method: p.method, Endpoint: p.endpoint, Status: res.Status, Response: res}
	switch {
	case res.Status == http.StatusUnauthorized:
		reason := InvalidToken
		if saysExpired(res) {
			reason = ExpiredToken
		}
		return res, &AuthError{Reason: reason, Method: p.method, Endpoint: p.endpoint, HTTP: he}
	case res.Status == http.StatusUnprocessableEntity, res.Status == http.StatusBadRequest && len(res.Errors) > 0:
		return res, &ValidationError{HTTP: he, Fields: res.Errors, order: res.errorOrder}
	case res.Status == http.StatusTooManyRequests:
		d, _ := retryAfter(res.Header, c.cfg.Now())
		return res, &RateLimitError{HTTP: he, RetryAfter: d, Limit: headerInt(res.Header, "X-RateLimit-Limit"), Remaining: headerInt(res.Header, "X-RateLimit-Remaining")}
	}
	return res, he
}

// saysExpired reports whether a 401 says the token expired, in its
// message, its "code" or "error" field, or WWW-Authenticate.
func saysExpired(r *Response) bool {
	texts := []string{r.Message, r.Header.Get("WWW-Authenticate")}
	if r.IsJSON() {
		var f struct {
			Code  any `json:"code"`
			Error any `json:"error"`
		}
		if b := bytes.TrimSpace(r.Body); len(b) > 0 && b[0] == '{' {
			_ = json.Unmarshal(b, &f)
			texts = append(texts, fmt.Sprint(f.Code), fmt.Sprint(f.Error))
		}
	}
	for _, t := range texts {
		if strings.Contains(strings.ToLower(t), "expired") {
			return true
		}
	}
	return false
}

func headerInt(h http.Header, name string) int {
	var n int
	v := h.Get(name)
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil || fmt.Sprint(n) != strings.TrimSpace(v) {
		return -1
	}
	return n
}

// dedupeKey returns the key under which the call may share a flight. It
// holds everything that can change the answer: method, URL (query and
// locale included), a hash of the token, the locale and the call's own
// headers. next-api-layer keyed by method and endpoint only and gave one
// user's answer to another.
func (c *Client) dedupeKey(p *prepared, body any, o *callOptions) (string, bool) {
	if !c.cfg.Dedupe.Enabled || o.noDedupe || body != nil || p.body.data != nil || !slices.Contains(c.cfg.Dedupe.Methods, p.method) {
		return "", false
	}
	tok := sha256.Sum256([]byte(p.token))
	var b strings.Builder
	b.WriteString(p.method)
	b.WriteByte(0)
	b.WriteString(p.url.String())
	b.WriteByte(0)
	b.WriteString(hex.EncodeToString(tok[:]))
	b.WriteByte(0)
	b.WriteString(p.locale)
	keys := make([]string, 0, len(p.perCall))
	for k := range p.perCall {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteByte(0)
		b.WriteString(k)
		for _, v := range p.perCall[k] {
			b.WriteByte(1)
			b.WriteString(v)
		}
	}
	return b.String(), true
}

// flight is a deduplicated call in progress.
type flight struct {
	done    chan struct{} // closed when out is set
	out     outcome
	waiters int // guarded by Client.mu
	cancel  context.CancelFunc
}

// shared runs p once for every concurrent caller with the same key. The
// request runs detached from any one caller's context (values kept,
// cancellation not), bounded by its own timeouts; it is cancelled when
// every caller has stopped waiting, or at Close. A caller whose context
// ends returns at once without failing the others.
func (c *Client) shared(ctx context.Context, key string, p *prepared) (outcome, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return outcome{}, ErrClosed
	}
	f, joined := c.inflight[key]
	if !joined {
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stop := context.AfterFunc(c.ctx, cancel)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.inflight[key] = f
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer stop()
			defer cancel()
			out := c.execute(sctx, p)
			c.mu.Lock()
			if c.inflight[key] == f {
				delete(c.inflight, key)
			}
			f.out = out
			c.mu.Unlock()
			close(f.done)
		}()
	}
	f.waiters++
	hook := c.testJoined
	c.mu.Unlock()
	if joined {
		c.debug(ctx, "apiclient: joined a call in flight", slog.String("method", p.method), slog.String("endpoint", p.endpoint))
		if hook != nil {
			hook()
		}
	}
	select {
	case <-f.done:
		return f.out, nil
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			if c.inflight[key] == f {
				delete(c.inflight, key)
			}
			f.cancel()
		}
		c.mu.Unlock()
		return outcome{}, fmt.Errorf("apiclient: %s %s: %w", p.method, p.endpoint, context.Cause(ctx))
	}
}
