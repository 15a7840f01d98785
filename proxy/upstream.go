package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/apilayer/apilayer/internal/tracectx"
	"github.com/apilayer/apilayer/requestid"
	"github.com/apilayer/apilayer/respond"
)

// DefaultUpstreamTimeout is the wait for the web app's response headers when
// UpstreamOptions.Timeout is zero (upstream.timeout).
const DefaultUpstreamTimeout = 60 * time.Second

// The sentences of the pages the upstream proxy answers itself.
const (
	msgUnreachable = "The web app is unreachable."
	msgTimeout     = "The web app did not answer in time."
)

// UpstreamOptions configures NewUpstream. Exactly one of URL and Static must
// be set.
type UpstreamOptions struct {
	// URL is the web app, such as http://127.0.0.1:3000. A path in it is a
	// base path: /dashboard is forwarded to http://host/base/dashboard.
	URL string

	// Static is a folder to serve instead of a web app: GET and HEAD only,
	// no directory listings, no dotfiles (except /.well-known/), nothing
	// outside the folder, and SPA fallback to index.html for page
	// navigations to unknown paths without a file extension.
	Static string

	// Timeout bounds the wait for the web app's response headers once the
	// request body has been sent: a slow upload, response bodies,
	// server-sent events and WebSockets are never cut by it. It applies to
	// any Transport. Zero means DefaultUpstreamTimeout.
	Timeout time.Duration

	// ReservedCookies are the gateway's own cookie names (user, guest,
	// refresh, CSRF and locale cookies): a Set-Cookie of the web app with
	// one of these names is dropped from 1xx responses. Final responses
	// keep them: the web app may set the locale cookie (a language
	// switcher) and, with the built-in auth API off, its own login handlers
	// set the auth cookies. The name is compared as browsers read it,
	// trimmed of spaces and tabs. If empty, every Set-Cookie passes.
	ReservedCookies []string

	// AssertionHeader is the name of the signed identity header
	// (identity.header). If it is not X-Auth-Assertion (always handled),
	// a client's value in any spelling is removed and the pipeline's is
	// set after hop-by-hop removal, like the other identity headers.
	AssertionHeader string

	// Tracer, if set, makes a client span ("upstream") of each request
	// forwarded to the web app, a child of the span in the request's
	// context, and sends its W3C trace context to the web app in place of
	// the client's. If nil, a client's traceparent passes through
	// untouched.
	Tracer trace.Tracer
	// Transport sends the requests to the web app. If nil, a dedicated
	// *http.Transport is used (Close releases it): a keep-alive pool sized
	// for a single host, no environment proxy, no transparent compression.
	// A Transport you pass is yours to close.
	Transport http.RoundTripper

	// ClientInfo returns who the client is, as the gateway resolved it: its
	// IP, the scheme it used ("http" or "https") and the host it asked for.
	// If nil, they come from the request's RemoteAddr, TLS and Host.
	ClientInfo func(*http.Request) (ip netip.Addr, proto, host string)

	// Logger receives failures (at warn) and clients gone (at debug). It
	// never receives tokens, cookies or query strings. If nil, nothing is
	// logged.
	Logger *slog.Logger
}

// Upstream forwards page requests to the web app, or serves a static
// folder in its place. It is an http.Handler; create it with NewUpstream
// and release it with Close.
//
// Upstream trusts the request it is given: the gateway's pipeline has
// cleaned the path, removed forged identity headers and set the verified
// ones (X-Auth-User, X-Auth-Token-Type, X-Refreshed-Token, X-Locale,
// X-Request-ID, the rewritten Cookie). It passes them on unchanged, even
// when a client's Connection header names them, and removes every other
// spelling of them itself.
type Upstream struct {
	target     *url.URL
	proxy      *httputil.ReverseProxy
	static     *static
	transport  http.RoundTripper
	owned      *http.Transport // the transport NewUpstream made, closed by Close
	reserved   map[string]bool
	assertion  string // a custom AssertionHeader, canonical; "" for none
	clientInfo func(*http.Request) (netip.Addr, string, string)
	log        *slog.Logger
	tracer     trace.Tracer // nil: no spans
}

// NewUpstream checks opts and returns the upstream handler. It fails when
// neither or both of URL and Static are set, when URL is not an absolute
// http or https URL, or when Static is not a readable folder.
func NewUpstream(opts UpstreamOptions) (*Upstream, error) {
	u := &Upstream{clientInfo: opts.ClientInfo, reserved: reservedSet(opts.ReservedCookies), log: opts.Logger, tracer: opts.Tracer}
	if a := http.CanonicalHeaderKey(opts.AssertionHeader); a != "" && a != HeaderAuthAssertion {
		u.assertion = a
	}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	if u.clientInfo == nil {
		u.clientInfo = defaultClientInfo
	}
	switch {
	case opts.URL == "" && opts.Static == "":
		return nil, errors.New("proxy: upstream: one of url and static is required")
	case opts.URL != "" && opts.Static != "":
		return nil, errors.New("proxy: upstream: url and static are mutually exclusive")
	case opts.Static != "":
		s, err := newStatic(opts.Static)
		if err != nil {
			return nil, err
		}
		u.static = s
		return u, nil
	}

	target, err := parseUpstreamURL(opts.URL)
	if err != nil {
		return nil, err
	}
	u.target = target

	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultUpstreamTimeout
	}
	u.transport = opts.Transport
	if u.transport == nil {
		u.owned = newTransport()
		u.transport = u.owned
	}
	u.proxy = &httputil.ReverseProxy{
		Rewrite:        u.rewrite,
		Transport:      withHeaderTimeout(u.transport, u.owned != nil, timeout),
		ModifyResponse: u.modifyResponse,
		ErrorHandler:   u.handleError,
		BufferPool:     bufferPool{},
		ErrorLog:       slog.NewLogLogger(u.log.Handler(), slog.LevelDebug),
	}
	return u, nil
}

// parseUpstreamURL accepts an absolute http(s) URL without query or
// fragment. The error names the problem, never the URL (it may carry
// credentials).
func parseUpstreamURL(raw string) (*url.URL, error) {
	target, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("proxy: upstream url: not a valid URL")
	}
	if target.Scheme != "http" && target.Scheme != "https" {
		return nil, fmt.Errorf("proxy: upstream url: scheme must be http or https (got %q)", target.Scheme)
	}
	if target.Host == "" {
		return nil, errors.New("proxy: upstream url: host is missing")
	}
	if target.RawQuery != "" || target.Fragment != "" {
		return nil, errors.New("proxy: upstream url: query and fragment are not allowed")
	}
	return target, nil
}

// ServeHTTP forwards r to the web app (or serves it from the static
// folder) and copies the answer to w. Failures are answered with small HTML
// pages: 502 when the web app is unreachable, 504 when it does not answer
// in time; nothing (status 499) when the client has gone.
func (u *Upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u.static != nil {
		u.static.ServeHTTP(w, r)
		return
	}
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		// ReverseProxy aborts with ErrAbortHandler when copying the body
		// fails. If the client left (the server cancels the request's
		// context on a failed write or a closed connection), that is not a
		// fault: swallow it rather than have recover middleware report a
		// panic for every closed tab. If the web app broke mid-body, keep
		// the abort so the client sees a truncated response, not a
		// complete-looking one.
		if v == http.ErrAbortHandler && errors.Is(r.Context().Err(), context.Canceled) {
			u.log.Debug("proxy: upstream: client gone mid-response",
				"method", r.Method, "path", r.URL.Path, "requestId", requestid.FromContext(r.Context()))
			return
		}
		panic(v)
	}()
	if u.tracer != nil && sampled(r.Context()) {
		ctx, span := startSpan(r.Context(), u.tracer, "upstream", r.Method, r.URL.Path)
		defer span.End()
		r = r.WithContext(ctx)
	}
	hw := newHintsWriter(w, u.reserved)
	u.proxy.ServeHTTP(hw, r)
	hw.put()
}

// rewrite maps the inbound request onto the web app.
func (u *Upstream) rewrite(pr *httputil.ProxyRequest) {
	// Target scheme and host, target base path joined with the request
	// path, query kept; Host becomes the web app's own.
	pr.SetURL(u.target)

	// One pass over the names removes, in every spelling an app server
	// may read as them: forged identity headers and X-Middleware-* (the
	// pipeline removed them already; this keeps the web app safe even if
	// it did not), the client's claims about where it comes from (the
	// gateway has decided who the client is: UpstreamOptions.ClientInfo),
	// routing override headers and any spelling of X-Request-ID.
	// ReverseProxy itself only removed the exact X-Forwarded-For, -Host,
	// -Proto and Forwarded.
	h := pr.Out.Header
	stripClasses(h, upstreamStrip)
	onlyWebSocketUpgrade(h)
	ip, proto, host := u.clientInfo(pr.In)
	setForwarded(h, ip, proto, host)
	// Last, what the pipeline set, from the inbound request: a client's
	// Connection header made ReverseProxy remove any of them it listed.
	copyOwned(pr.In.Header, h, upstreamOwned)
	if u.assertion != "" {
		StripName(h, u.assertion)
		if v, ok := pr.In.Header[u.assertion]; ok {
			h[u.assertion] = v[:len(v):len(v)]
		}
	}
	if u.tracer != nil {
		tracectx.Inject(pr.Out.Context(), h) // the upstream span's
	}
}

// upstreamStrip are the classes of request headers the page proxy removes.
const upstreamStrip = classIdentity | classForwarded | classRequestID | classRouting

// upstreamOwned are the request headers of the page proxy that the
// pipeline sets (docs/security.md): they reach the web app as the inbound
// request has them.
var upstreamOwned = []string{
	HeaderAuthUser, HeaderAuthUserTruncated, HeaderTokenType, HeaderRefreshed, HeaderLocale, HeaderAuthAssertion,
	headerRequestID, "Cookie", "Authorization",
}

// modifyResponse removes what the browser must never receive, from every
// answer including 101 Switching Protocols, and from trailers: the
// internal headers.
func (u *Upstream) modifyResponse(res *http.Response) error {
	if u.tracer != nil {
		spanStatus(res)
	}
	StripFromResponse(res.Header)
	if u.assertion != "" {
		res.Header.Del(u.assertion)
	}
	if res.StatusCode != http.StatusSwitchingProtocols { // its Body must stay an io.ReadWriteCloser
		res.Body = &trailerStripper{ReadCloser: res.Body, res: res}
	}
	return nil
}

// trailerStripper removes the internal headers from the trailers, which
// ReverseProxy copies to the client after closing the body.
type trailerStripper struct {
	io.ReadCloser
	res *http.Response
}

func (b *trailerStripper) Close() error {
	err := b.ReadCloser.Close()
	StripFromResponse(b.res.Trailer)
	return err
}

// handleError answers a request the web app did not answer. The error text
// goes to the log only: it names hosts and ports of the private network.
func (u *Upstream) handleError(w http.ResponseWriter, r *http.Request, err error) {
	if u.tracer != nil {
		spanFailed(r, err)
	}
	f := ClassifyError(r, err)
	attrs := []any{
		"method", r.Method,
		"path", r.URL.Path,
		"requestId", requestid.FromContext(r.Context()),
		"failure", f.String(),
		"status", f.Status(),
	}
	switch f {
	case FailureClientGone:
		u.log.Debug("proxy: upstream: client gone", attrs...)
		w.WriteHeader(StatusClientClosedRequest)
	case FailureTimeout:
		u.log.Warn("proxy: upstream: web app timed out", append(attrs, "error", err)...)
		respond.Page(w, http.StatusGatewayTimeout, msgTimeout)
	default:
		u.log.Warn("proxy: upstream: web app unreachable", append(attrs, "error", err)...)
		respond.Page(w, http.StatusBadGateway, msgUnreachable)
	}
}

// Close closes the idle connections of the transport NewUpstream made. A
// Transport you pass is yours to close. It is safe to call more than once;
// in-flight requests are not interrupted.
func (u *Upstream) Close() error {
	if u.owned != nil {
		u.owned.CloseIdleConnections()
	}
	return nil
}

// defaultClientInfo reads who the client is from the connection itself.
func defaultClientInfo(r *http.Request) (netip.Addr, string, string) {
	var ip netip.Addr
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		ip = ap.Addr()
	} else if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		ip = a
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	return ip, proto, r.Host
}

// bufferPool recycles the 32 KiB copy buffers of ReverseProxy.
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

func (bufferPool) Get() []byte { return *copyBuffers.Get().(*[]byte) }

func (bufferPool) Put(b []byte) {
	if cap(b) != 32*1024 {
		return
	}
	b = b[:cap(b)]
	copyBuffers.Put(&b)
}
