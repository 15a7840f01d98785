package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/requestid"
	"github.com/apilayer/apilayer/respond"
)

// DefaultAPIMaxBodySize is the body limit of the API proxy when
// APIOptions.MaxBodySize is zero (api.maxBodySize).
const DefaultAPIMaxBodySize = 10 << 20

// APIOptions configures the API proxy (docs/proxy-handler.md).
type APIOptions struct {
	// Backend is backend.url, e.g. http://127.0.0.1:8000/api/. A missing
	// trailing slash is added. Required.
	Backend string
	// Prefix is api.prefix, e.g. /api. A trailing slash is ignored; empty
	// means every path is an API path.
	Prefix string
	// Timeout is api.timeout: how long to wait for the backend's response
	// headers once the request body has been sent (a slow upload is not
	// cut by it). It never cuts a response body, a server-sent event
	// stream or a WebSocket. It applies to any Transport. Zero means no
	// limit.
	Timeout time.Duration
	// MaxBodySize is api.maxBodySize, the largest request body forwarded.
	// Zero means DefaultAPIMaxBodySize.
	MaxBodySize int64
	// MethodSpoofing turns PUT/PATCH/DELETE into POST (api.methodSpoofing).
	MethodSpoofing config.MethodSpoofing
	// Sanitizer rewrites the request bodies whose Content-Type contains
	// "json" in any case (application/json with any parameters, text/json,
	// *+json, a list naming one): a body it cannot read as JSON is refused
	// with 400 Invalid JSON body, never forwarded as it is. If nil,
	// nothing is sanitized.
	Sanitizer Sanitizer
	// SanitizeResponses also passes through Sanitizer the identity-encoded
	// responses whose Content-Type contains "json"; one it cannot read is
	// passed through with a warning.
	SanitizeResponses bool
	// ReservedCookies are the gateway's own cookie names (user, guest,
	// refresh, CSRF and locale cookies): a backend Set-Cookie with one of
	// these names is dropped, from 1xx responses too. The name is compared
	// as browsers read it, trimmed of spaces and tabs.
	ReservedCookies []string
	// DropHeaders are extra request headers never forwarded (the CSRF
	// header name).
	DropHeaders []string
	// Query returns extra query parameters for the backend URL (i18n
	// paramName=locale); each replaces a client parameter of that name.
	// If nil, none are added.
	Query func(*http.Request) url.Values
	// ClientInfo says who the client is, for X-Forwarded-For, -Proto and
	// -Host. If nil, they come from RemoteAddr, TLS and Host.
	ClientInfo func(*http.Request) (ip netip.Addr, proto, host string)
	// Transport carries the requests to the backend. If nil, the API
	// proxy uses (and Close closes) a transport of its own.
	Transport http.RoundTripper
	// Logger receives warnings and errors. If nil, nothing is logged.
	Logger *slog.Logger
	// Tracer, if set, makes a client span ("api") of each proxied call, a
	// child of the span in the request's context, and sends its W3C trace
	// context to the backend in place of the client's. If nil, a
	// client's traceparent passes through untouched.
	Tracer trace.Tracer
}

// Sanitizer is implemented by package sanitize.
type Sanitizer interface {
	// Sanitize returns the sanitized JSON document; endpoint is the path
	// relative to the prefix.
	Sanitize(endpoint string, body []byte) ([]byte, error)
}

// API is the reverse proxy from {prefix}/... to the backend. It expects
// the pipeline to have cleaned the path, set the Authorization header and
// removed forged identity headers; it still defends the path and the
// headers itself. Bodies are streamed both ways unless one must be
// rewritten (sanitizing, body-strategy method spoofing).
type API struct {
	base      *url.URL
	prefix    string
	maxBody   int64
	spoof     config.MethodSpoofing
	sanitizer Sanitizer
	sanResp   bool
	reserved  map[string]bool
	drop      []string
	query     func(*http.Request) url.Values
	client    func(*http.Request) (netip.Addr, string, string)
	transport http.RoundTripper
	owned     *http.Transport // the transport NewAPI made, closed by Close
	log       *slog.Logger
	rp        *httputil.ReverseProxy
	tracer    trace.Tracer // nil: no spans
	closeOnce sync.Once
}

// NewAPI returns the API proxy described by o.
func NewAPI(o APIOptions) (*API, error) {
	base, err := apiParseBackend(o.Backend)
	if err != nil {
		return nil, err
	}
	if o.Prefix != "" && !strings.HasPrefix(o.Prefix, "/") {
		return nil, fmt.Errorf("proxy: api prefix must start with \"/\" (got %q)", o.Prefix)
	}
	if o.MaxBodySize < 0 {
		return nil, fmt.Errorf("proxy: api max body size must not be negative (got %d)", o.MaxBodySize)
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("proxy: api timeout must not be negative (got %v)", o.Timeout)
	}
	spoof := o.MethodSpoofing
	switch spoof.Strategy {
	case "":
		spoof.Strategy = "body"
	case "body", "header":
	default:
		return nil, fmt.Errorf("proxy: method spoofing strategy must be body or header (got %q)", spoof.Strategy)
	}
	if spoof.FieldName == "" {
		spoof.FieldName = "_method"
	}
	a := &API{
		base:      base,
		prefix:    strings.TrimSuffix(o.Prefix, "/"),
		maxBody:   o.MaxBodySize,
		spoof:     spoof,
		sanitizer: o.Sanitizer,
		sanResp:   o.SanitizeResponses && o.Sanitizer != nil,
		reserved:  reservedSet(o.ReservedCookies),
		query:     o.Query,
		client:    o.ClientInfo,
		transport: o.Transport,
		log:       o.Logger,
		tracer:    o.Tracer,
	}
	if a.maxBody == 0 {
		a.maxBody = DefaultAPIMaxBodySize
	}
	for _, h := range o.DropHeaders {
		a.drop = append(a.drop, http.CanonicalHeaderKey(h))
	}
	if a.client == nil {
		a.client = defaultClientInfo
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.transport == nil {
		a.owned = newTransport()
		a.transport = a.owned
	}
	a.rp = &httputil.ReverseProxy{
		Rewrite:   a.rewrite,
		Transport: withHeaderTimeout(a.transport, a.owned != nil, o.Timeout),
		// As the page proxy: ReverseProxy flushes every write of a
		// response without a length (streams) and of server-sent events,
		// so they reach the browser as the backend produces them; a body
		// of known length is copied in full buffers. Failures are logged by
		// handleError; ReverseProxy's own lines (a copy error when a
		// client leaves) are debug detail.
		BufferPool:     bufferPool{},
		ModifyResponse: a.modifyResponse,
		ErrorHandler:   a.handleError,
		ErrorLog:       slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	return a, nil
}

func apiParseBackend(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("proxy: backend url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("proxy: backend url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("proxy: backend url: scheme must be http or https (got %q)", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("proxy: backend url: host is missing")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("proxy: backend url: user info, query and fragment are not allowed")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// apiCall is what one proxied request carries from ServeHTTP to the
// ReverseProxy callbacks, in the request context.
type apiCall struct {
	target   *url.URL
	endpoint string        // the decoded path relative to the prefix
	guard    *apiBodyGuard // nil when the request has no streamed body
	// override is the X-HTTP-Method-Override method spoofing sends, or
	// "" (a client's own never passes).
	override string
}

type apiCallKey struct{}

func apiCallFrom(ctx context.Context) *apiCall {
	c, _ := ctx.Value(apiCallKey{}).(*apiCall)
	return c
}

// ServeHTTP forwards r to the backend and copies the answer to w.
// Failures are answered with the JSON bodies of docs/proxy-handler.md:
// 400 for a path outside the prefix, 413 for a body over MaxBodySize, 502
// when the backend is unreachable, 504 when it does not answer in time,
// nothing (status 499 in the log) when the client has gone.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	endpoint, rawEndpoint, ok := apiEndpoint(a.prefix, r.URL)
	if !ok {
		respond.Error(w, http.StatusBadRequest, respond.MsgBadPath)
		return
	}
	// A declared length is refused before anything reaches the backend.
	if r.ContentLength > a.maxBody {
		respond.Error(w, http.StatusRequestEntityTooLarge, respond.MsgTooLarge)
		return
	}
	call := &apiCall{endpoint: endpoint, target: a.target(r, endpoint, rawEndpoint)}
	ctx := context.WithValue(r.Context(), apiCallKey{}, call)
	if a.tracer != nil && sampled(ctx) {
		var span trace.Span
		ctx, span = startSpan(ctx, a.tracer, "api", r.Method, call.target.Path)
		defer span.End()
	}
	out := r.Clone(ctx)
	if out.Body != nil && out.Body != http.NoBody {
		// A chunked body is cut off at the limit: the transport fails and
		// handleError answers 413 if no response has started.
		call.guard = &apiBodyGuard{rc: http.MaxBytesReader(w, out.Body, a.maxBody)}
		out.Body = call.guard
	}
	if !a.prepareBody(w, out, call) {
		return
	}
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		// ReverseProxy aborts with ErrAbortHandler when copying the
		// response body fails. A client that left is not a fault; a
		// backend that broke mid-body keeps the abort so the client sees
		// a truncated response, not a complete-looking one.
		if v == http.ErrAbortHandler && r.Context().Err() != nil {
			a.log.Debug("proxy: api: client gone mid-response", a.logAttrs(r, call, StatusClientClosedRequest)...)
			return
		}
		panic(v)
	}()
	hw := newHintsWriter(w, a.reserved)
	a.rp.ServeHTTP(hw, out)
	hw.put()
}

// target is the backend URL of r: Backend + endpoint + query.
func (a *API) target(r *http.Request, endpoint, rawEndpoint string) *url.URL {
	t := *a.base
	t.Path = a.base.Path + endpoint
	t.RawPath = ""
	if rawEndpoint != "" {
		// Keep the client's escaping (a%2Fb stays one segment); URL falls
		// back to encoding Path if the two disagree.
		t.RawPath = a.base.EscapedPath() + rawEndpoint
	}
	t.RawQuery = r.URL.RawQuery
	if a.query != nil {
		if extra := a.query(r); len(extra) > 0 {
			q := r.URL.Query()
			for k, vs := range extra {
				q[k] = vs
			}
			t.RawQuery = q.Encode()
		}
	}
	return &t
}

// Close closes the idle connections of the transport NewAPI made. It is
// safe to call more than once; in-flight requests are not interrupted. A
// Transport given in APIOptions is the caller's to close.
func (a *API) Close() error {
	a.closeOnce.Do(func() {
		if a.owned != nil {
			a.owned.CloseIdleConnections()
		}
	})
	return nil
}

func (a *API) logAttrs(r *http.Request, call *apiCall, status int) []any {
	attrs := []any{
		"method", r.Method,
		"requestId", requestid.FromContext(r.Context()),
		"status", status,
	}
	if call != nil {
		// The endpoint only: a query string may carry secrets.
		attrs = append(attrs, "endpoint", call.endpoint)
	}
	return attrs
}
