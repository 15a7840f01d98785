package apiclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/apilayer/apilayer/route"
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
	san       Sanitizer    // nil: bodies are sent as written
	sensitive []string     // normalised sensitive words
	log       *slog.Logger // nil when Config.Debug.Enabled is false

	ctx    context.Context // ends at Close; parent of shared (deduplicated) calls
	cancel context.CancelFunc
	wg     sync.WaitGroup // shared calls in flight

	mu       sync.Mutex
	inflight map[string]*flight // guarded by mu; deduplicated calls by key
	closed   bool               // guarded by mu
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
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := &Client{
		cfg:       cfg,
		base:      base,
		hc:        cfg.HTTPClient,
		public:    public,
		san:       cfg.Sanitizer,
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
