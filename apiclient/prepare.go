package apiclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/requestid"
	"github.com/apilayer/apilayer/route"
)

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
