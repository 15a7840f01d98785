package cors

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// DefaultAllowedHeaders are the request headers a cross-origin front end may
// send when Options.AllowedHeaders is nil.
var DefaultAllowedHeaders = []string{"content-type", "x-csrf-token", "x-requested-with"}

// DefaultMaxAge is how long a browser may cache a preflight answer when
// Options.MaxAge is zero.
const DefaultMaxAge = 10 * time.Minute

// The fixed parts of the policy, which no cors.* key changes.
const (
	allowMethods  = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
	exposeHeaders = "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, X-Request-ID"
)

// Options configures a Policy.
type Options struct {
	// AllowedOrigins are the exact origins ("https://app.example.com",
	// "http://localhost:5173") allowed to make credentialed requests. "*" is
	// refused: a wildcard cannot go with credentials. Scheme and host are
	// compared case-insensitively and a default port (:443 for https, :80 for
	// http) is dropped, as browsers do when they send Origin. If empty, no
	// origin is allowed.
	AllowedOrigins []string

	// AllowedHeaders are the request headers a preflight allows. If nil,
	// DefaultAllowedHeaders is used; a non-nil empty slice allows only the
	// CORS-safelisted ones.
	AllowedHeaders []string

	// MaxAge is how long a browser may cache a preflight answer. If zero,
	// DefaultMaxAge is used; if negative, no Access-Control-Max-Age is sent
	// (the browser's own default, 5 seconds, applies).
	MaxAge time.Duration
}

// Policy answers preflights and labels responses for allowed origins. It is
// safe for concurrent use.
type Policy struct {
	origins      map[string]bool
	allowHeaders string
	maxAge       string // "" = no header
}

// New checks o and returns the Policy it describes. Every invalid entry is
// reported, by its key and index.
func New(o Options) (*Policy, error) {
	p := &Policy{origins: make(map[string]bool)}
	var errs []error
	for i, origin := range o.AllowedOrigins {
		norm, err := normalize(origin)
		if err != nil {
			errs = append(errs, fmt.Errorf("cors: allowedOrigins[%d]: %w", i, err))
			continue
		}
		p.origins[norm] = true
	}
	headers := o.AllowedHeaders
	if headers == nil {
		headers = DefaultAllowedHeaders
	}
	names := make([]string, 0, len(headers))
	for i, h := range headers {
		h = strings.TrimSpace(h)
		if !httpguts.ValidHeaderFieldName(h) || h == "*" {
			errs = append(errs, fmt.Errorf("cors: allowedHeaders[%d]: not a header name (got %q)", i, headers[i]))
			continue
		}
		names = append(names, strings.ToLower(h))
	}
	p.allowHeaders = strings.Join(names, ", ")
	switch {
	case o.MaxAge == 0:
		p.maxAge = strconv.Itoa(int(DefaultMaxAge / time.Second))
	case o.MaxAge > 0:
		p.maxAge = strconv.FormatInt(int64(o.MaxAge/time.Second), 10)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// normalize checks that origin is "scheme://host[:port]" and returns it the
// way a browser serializes it in the Origin header.
func normalize(origin string) (string, error) {
	if origin == "*" {
		return "", fmt.Errorf(`"*" is not allowed: credentialed requests need exact origins`)
	}
	u, err := url.Parse(origin)
	if err != nil {
		return "", fmt.Errorf("invalid origin %q: %w", origin, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("invalid origin %q: must be scheme://host[:port] with scheme http or https", origin)
	}
	if u.Host == "" || u.Opaque != "" || strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("invalid origin %q: host is required", origin)
	}
	if u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(origin, "#") {
		return "", fmt.Errorf("invalid origin %q: must be scheme://host[:port] without user, path, query or fragment", origin)
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return scheme + "://" + host, nil
}

// Allowed reports whether origin, the value of a request's Origin header,
// is one of the allowed origins. "null" and "" are never allowed.
func (p *Policy) Allowed(origin string) bool {
	return origin != "" && p.origins[origin]
}

// Origins returns the allowed origins, normalized and sorted. The gateway
// passes them to the CSRF check (csrf.Options.CORSOrigins).
func (p *Policy) Origins() []string {
	return slices.Sorted(maps.Keys(p.origins))
}

// Apply sets the CORS response headers for r and answers preflights. The
// gateway calls it early, before anything can refuse the request, so that
// every response to an allowed origin carries the headers, refusals (401,
// 403, 429, 503...) included: without them the browser would hide the
// status and body from the front end.
//
// Every response gets Vary: Origin, since it depends on the Origin header.
// A request from an allowed origin gets Access-Control-Allow-Origin (the
// origin itself, never "*"), Access-Control-Allow-Credentials: true and
// Access-Control-Expose-Headers. A request from any other origin gets no
// CORS header, so the browser keeps the response from the calling script.
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
// answered here with 204 and Apply reports true: the caller must stop. An
// allowed origin's preflight lists the methods, the allowed headers and the
// Max-Age; a foreign origin's preflight gets a bare 204 with no CORS header,
// the standard refusal: the browser then does not send the real request. The
// methods and headers asked for are not compared with the lists; the browser
// does that against the lists it receives.
func (p *Policy) Apply(w http.ResponseWriter, r *http.Request) (handled bool) {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != ""
	allowed := p.Allowed(origin)

	if !preflight {
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", exposeHeaders)
		}
		return false
	}

	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", allowMethods)
		if p.allowHeaders != "" {
			h.Set("Access-Control-Allow-Headers", p.allowHeaders)
		}
		if p.maxAge != "" {
			h.Set("Access-Control-Max-Age", p.maxAge)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// Handler is Apply as middleware: preflights are answered, every other
// request goes on to next with the CORS headers already set.
func (p *Policy) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.Apply(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}
