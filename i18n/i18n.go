package i18n

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// Header is the header that carries the locale to the web app (request) and
// to the browser (response).
const Header = "X-Locale"

// Prefix modes of Options.Prefix.
const (
	PrefixNever    = "never"
	PrefixAsNeeded = "as-needed"
	PrefixAlways   = "always"
)

// Options configures a Router (config.I18n plus the attributes of the locale
// cookie).
type Options struct {
	// Locales are the supported locales, language tags such as en or pt-BR.
	// They are matched exactly against the first path segment. At least one
	// is required.
	Locales []string
	// DefaultLocale is the locale when nothing else resolves. It must be one
	// of Locales. If empty, an unresolved request has no locale.
	DefaultLocale string
	// ParamName is the query parameter that carries the locale to backend
	// API calls. If empty, "lang" is used.
	ParamName string
	// Prefix is the page locale routing mode: "never", "as-needed" or
	// "always". If empty, "never" is used.
	Prefix string
	// Cookie is the name of the locale cookie (NEXT_LOCALE in the
	// configuration). If empty, no locale cookie is read or set.
	Cookie string
	// CookiePath is the Path of the locale cookie. If empty, "/" is used.
	CookiePath string
	// CookieDomain is the Domain of the locale cookie. If empty, the cookie
	// is a host-only cookie.
	CookieDomain string
	// CookieSecure sets the Secure attribute of the locale cookie.
	CookieSecure bool
}

// Router resolves the locale of requests. It is safe for concurrent use.
type Router struct {
	locales  []string        // as configured, without duplicates
	set      map[string]bool // locales, for the exact match of a segment
	def      string
	param    string
	prefix   string
	cookie   string
	path     string
	domain   string
	secure   bool
	matcher  language.Matcher
	matchIdx []string // the configured locale of each supported tag of matcher
}

// New returns a Router for o. It fails when a locale is not a language tag,
// when no locale is given, when the default locale is not one of them, or
// when the prefix mode is unknown; the error names the offending value.
func New(o Options) (*Router, error) {
	r := &Router{
		set:    make(map[string]bool, len(o.Locales)),
		def:    o.DefaultLocale,
		param:  o.ParamName,
		prefix: o.Prefix,
		cookie: o.Cookie,
		path:   o.CookiePath,
		domain: o.CookieDomain,
		secure: o.CookieSecure,
	}
	if r.param == "" {
		r.param = "lang"
	}
	if r.prefix == "" {
		r.prefix = PrefixNever
	}
	if r.path == "" {
		r.path = "/"
	}
	var errs []error
	switch r.prefix {
	case PrefixNever, PrefixAsNeeded, PrefixAlways:
	default:
		errs = append(errs, fmt.Errorf("i18n: prefix must be never, as-needed or always (got %q)", o.Prefix))
	}
	if len(o.Locales) == 0 {
		errs = append(errs, errors.New("i18n: no locales"))
	}
	var tags []language.Tag
	for _, l := range o.Locales {
		t, err := language.Parse(l)
		if err == nil && strings.ContainsAny(l, "/\\ ") {
			err = errors.New("not a path segment")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("i18n: locale %q is not a language tag such as en or pt-BR: %w", l, err))
			continue
		}
		if r.set[l] {
			continue
		}
		r.set[l] = true
		r.locales = append(r.locales, l)
		tags = append(tags, t)
	}
	if r.def != "" && !slices.Contains(o.Locales, r.def) {
		errs = append(errs, fmt.Errorf("i18n: default locale %q is not one of the locales %q", r.def, o.Locales))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// The matcher falls back to its first supported tag; put the default
	// first so that the fallback, should it leak, is the default locale.
	r.matchIdx = slices.Clone(r.locales)
	if i := slices.Index(r.matchIdx, r.def); i > 0 {
		r.matchIdx[0], r.matchIdx[i] = r.matchIdx[i], r.matchIdx[0]
		tags[0], tags[i] = tags[i], tags[0]
	}
	r.matcher = language.NewMatcher(tags)
	return r, nil
}

// Locales returns the configured locales, in configuration order.
func (r *Router) Locales() []string { return slices.Clone(r.locales) }

// Result is the locale decision for one request.
type Result struct {
	// Locale is the request's locale ("" when none resolves).
	Locale string
	// Prefixed reports that the path started with a configured locale
	// segment.
	Prefixed bool
	// Path is the path with the locale prefix stripped, for route
	// matching: /tr/login/ gives /login/, /tr gives /. It always starts
	// with "/".
	Path string
	// Redirect, when not empty, is the locale redirect (307) that page
	// routing wants: a same-site path with the query kept, such as /en/
	// for / with prefix always, or /x for /en/x with prefix as-needed when
	// en is the default. The auth decision wins over it.
	Redirect string
	// SetCookie reports that the locale cookie should be (re)set to Locale
	// ([Router.Cookie]) on whatever response ends the request, redirects
	// included. It is set for a page whose locale comes from its prefix,
	// with prefix as-needed or always, when the request's locale cookie
	// says otherwise (or is missing).
	SetCookie bool
}

// Resolve returns the locale decision for req, whose cleaned, escaped path
// (route.Clean) is cleanPath; api reports an API request, which never gets a
// locale redirect or a locale cookie. A cleanPath that does not start with
// "/" is read as if it did.
func (r *Router) Resolve(req *http.Request, cleanPath string, api bool) Result {
	if !strings.HasPrefix(cleanPath, "/") {
		cleanPath = "/" + cleanPath
	}
	seg, rest := cleanPath[1:], ""
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		seg, rest = seg[:i], seg[i:]
	}
	if r.set[seg] {
		if rest == "" {
			rest = "/"
		}
		res := Result{Locale: seg, Prefixed: true, Path: rest}
		if api {
			return res
		}
		if r.prefix != PrefixNever && r.cookie != "" && !r.hasCookie(req, seg) {
			res.SetCookie = true
		}
		if r.prefix == PrefixAsNeeded && seg == r.def {
			res.Redirect = target(rest, query(req))
		}
		return res
	}

	res := Result{Locale: r.detect(req), Path: cleanPath}
	if api || res.Locale == "" {
		return res
	}
	switch {
	case r.prefix == PrefixAlways,
		r.prefix == PrefixAsNeeded && res.Locale != r.def:
		res.Redirect = target("/"+res.Locale+cleanPath, query(req))
	}
	return res
}

// Localize returns path, a redirect target of the gateway such as the login
// or home path (with or without a query), prefixed with the request's locale
// when the request had a locale prefix: "/login" gives "/tr/login" for a
// request to /tr/dashboard. Other paths, and paths that do not start with
// "/", are returned unchanged.
func (r *Router) Localize(path string, res Result) string {
	if !res.Prefixed || res.Locale == "" || !strings.HasPrefix(path, "/") {
		return path
	}
	return "/" + res.Locale + path
}

// Query returns the query parameters that carry locale to backend API calls,
// {ParamName: [locale]}, or nil when locale is empty.
func (r *Router) Query(locale string) url.Values {
	if locale == "" {
		return nil
	}
	return url.Values{r.param: {locale}}
}

// query returns the raw query of req, or "" when it holds a control byte (it
// is going into a Location header).
func query(req *http.Request) string {
	if req == nil || req.URL == nil || hasControl(req.URL.RawQuery) {
		return ""
	}
	return req.URL.RawQuery
}

// target returns the redirect target p?q as a same-site path: leading
// slashes and backslashes are collapsed into one slash, so that a target
// never reads as a protocol-relative URL (//evil.example). A path holding a
// control byte (never the case for a cleaned path) gives no redirect.
func target(p, q string) string {
	if hasControl(p) {
		return ""
	}
	p = "/" + strings.TrimLeft(p, "/\\")
	if q != "" {
		p += "?" + q
	}
	return p
}

// hasControl reports whether s holds an ASCII control byte.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(c rune) bool { return c < 0x20 || c == 0x7f })
}
