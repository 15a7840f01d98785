package csrf

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/apilayer/apilayer/respond"
	"golang.org/x/net/http/httpguts"
)

// The strategies of csrf.strategy.
const (
	// StrategyBoth: same-origin requests (and trusted same-site ones, and
	// those from a trusted origin) pass on Fetch Metadata alone; cross-site
	// and untrusted same-site requests fail; every other request (no
	// Sec-Fetch-Site, or "none") needs a valid double-submit token.
	StrategyBoth = "both"
	// StrategyFetchMetadata: only the origin check, with the semantics of
	// net/http.CrossOriginProtection.
	StrategyFetchMetadata = "fetch-metadata"
	// StrategyDoubleSubmit: only the double-submit token counts.
	StrategyDoubleSubmit = "double-submit"
)

// Defaults used when the corresponding Options field is empty.
const (
	DefaultCookieName = "__csrf"
	DefaultHeaderName = "x-csrf-token"
)

// DefaultIgnoreMethods are the methods that pass without a check when
// Options.IgnoreMethods is nil.
var DefaultIgnoreMethods = []string{http.MethodGet, http.MethodHead, http.MethodOptions}

// Options configures a Protection. The zero value is usable: strategy
// "both", a random per-process secret, the default cookie and header names,
// GET, HEAD and OPTIONS ignored, nothing trusted beyond the same origin.
type Options struct {
	// Strategy is StrategyBoth, StrategyFetchMetadata or StrategyDoubleSubmit.
	// If empty, StrategyBoth is used.
	Strategy string

	// Secret is the HMAC key that signs new tokens. If empty, a random
	// 32-byte key is made for this process: tokens then fail across restarts
	// and across instances (the caller logs that warning).
	Secret []byte

	// PreviousSecrets are still accepted when verifying tokens (secret
	// rotation) but never used to sign new ones.
	PreviousSecrets [][]byte

	// CookieName is the cookie carrying the token. If empty,
	// DefaultCookieName is used.
	CookieName string

	// HeaderName is the request header that must repeat the token. If empty,
	// DefaultHeaderName is used.
	HeaderName string

	// IgnoreMethods pass every check. They are compared case-insensitively.
	// If nil, DefaultIgnoreMethods is used; a non-nil empty slice ignores no
	// method at all.
	IgnoreMethods []string

	// TrustSameSite lets requests with Sec-Fetch-Site: same-site pass the
	// origin check (sibling subdomains are then trusted not to forge).
	TrustSameSite bool

	// TrustedOrigins are exact origins ("https://app.example.com") whose
	// requests pass the origin check, whatever their Sec-Fetch-Site.
	TrustedOrigins []string

	// CORSOrigins are the gateway's CORS origins (cors.allowedOrigins). They
	// count as trusted origins for the Fetch Metadata check, but
	// under StrategyBoth their cross-origin requests still need a valid
	// double-submit token instead of passing outright.
	CORSOrigins []string
}

// Protection decides whether a request may change state. It is safe for
// concurrent use; it holds no per-request state.
type Protection struct {
	strategy      string
	keys          []*signer // keys[0] signs; all verify
	cookieName    string
	headerName    string
	ignore        map[string]bool // upper-case methods
	trustSameSite bool
	cop           *http.CrossOriginProtection
	corsOrigins   map[string]bool
}

// New checks o and returns the Protection it describes.
func New(o Options) (*Protection, error) {
	p := &Protection{
		strategy:      o.Strategy,
		cookieName:    o.CookieName,
		headerName:    o.HeaderName,
		trustSameSite: o.TrustSameSite,
		ignore:        make(map[string]bool),
		cop:           http.NewCrossOriginProtection(),
		corsOrigins:   make(map[string]bool),
	}
	var errs []error
	switch p.strategy {
	case "":
		p.strategy = StrategyBoth
	case StrategyBoth, StrategyFetchMetadata, StrategyDoubleSubmit:
	default:
		errs = append(errs, fmt.Errorf("csrf: strategy: must be both, fetch-metadata or double-submit (got %q)", o.Strategy))
	}

	if len(o.Secret) > 0 {
		p.keys = append(p.keys, newSigner(o.Secret))
	} else {
		key := make([]byte, 32)
		rand.Read(key) // never fails (crypto/rand aborts the program instead)
		p.keys = append(p.keys, newSigner(key))
	}
	for i, s := range o.PreviousSecrets {
		if len(s) == 0 {
			errs = append(errs, fmt.Errorf("csrf: previousSecrets[%d]: empty secret", i))
			continue
		}
		p.keys = append(p.keys, newSigner(s))
	}

	if p.cookieName == "" {
		p.cookieName = DefaultCookieName
	}
	if !httpguts.ValidHeaderFieldName(p.cookieName) {
		errs = append(errs, fmt.Errorf("csrf: cookieName: not a valid cookie name (got %q)", p.cookieName))
	}
	if p.headerName == "" {
		p.headerName = DefaultHeaderName
	}
	if !httpguts.ValidHeaderFieldName(p.headerName) {
		errs = append(errs, fmt.Errorf("csrf: headerName: not a valid header name (got %q)", p.headerName))
	}

	methods := o.IgnoreMethods
	if methods == nil {
		methods = DefaultIgnoreMethods
	}
	for i, m := range methods {
		m = strings.TrimSpace(m)
		if !httpguts.ValidHeaderFieldName(m) {
			errs = append(errs, fmt.Errorf("csrf: ignoreMethods[%d]: not a valid method (got %q)", i, methods[i]))
			continue
		}
		p.ignore[strings.ToUpper(m)] = true
	}

	for i, origin := range o.TrustedOrigins {
		if err := p.cop.AddTrustedOrigin(origin); err != nil {
			errs = append(errs, fmt.Errorf("csrf: trustedOrigins[%d]: %w", i, err))
		}
	}
	for i, origin := range o.CORSOrigins {
		// Validated like a trusted origin, whatever the strategy.
		if err := http.NewCrossOriginProtection().AddTrustedOrigin(origin); err != nil {
			errs = append(errs, fmt.Errorf("csrf: corsOrigins[%d]: %w", i, err))
			continue
		}
		if p.strategy == StrategyFetchMetadata {
			// With the origin check alone, a CORS origin simply passes.
			p.cop.AddTrustedOrigin(origin)
		} else {
			p.corsOrigins[origin] = true
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// Strategy reports the strategy in effect (StrategyBoth when none was given).
func (p *Protection) Strategy() string { return p.strategy }

// CookieName reports the name of the token cookie.
func (p *Protection) CookieName() string { return p.cookieName }

// HeaderName reports the name of the token request header.
func (p *Protection) HeaderName() string { return p.headerName }

// Ignored reports whether method passes without any check. The comparison
// is case-insensitive, on both sides.
func (p *Protection) Ignored(method string) bool {
	return p.ignore[strings.ToUpper(method)]
}

// CheckOrigin is the Fetch Metadata / Origin part of the check, run before
// the session is validated (it needs no identity and makes no backend call).
//
// It returns Pass when the request may go on without a token, Fail with a
// reason when it must be refused, and NeedToken when the decision rests on
// the double-submit token ([Protection.CheckToken]), which is always the
// case under StrategyDoubleSubmit for a method that is not ignored.
func (p *Protection) CheckOrigin(r *http.Request) Verdict {
	if p.Ignored(r.Method) {
		return Verdict{Outcome: Pass}
	}
	if p.strategy == StrategyDoubleSubmit {
		return Verdict{Outcome: NeedToken}
	}
	site := r.Header.Get("Sec-Fetch-Site")

	// CrossOriginProtection has no notion of a trusted same-site request: it
	// refuses every same-site request whose Origin is not trusted. TrustSameSite
	// is therefore decided here, before it is consulted.
	if site == "same-site" && p.trustSameSite {
		return Verdict{Outcome: Pass}
	}
	// Under "both", a request without Sec-Fetch-Site (an old browser, or not a
	// browser at all) or with "none" (typed in the address bar, a bookmark)
	// is not judged on its Origin: the token decides. CrossOriginProtection
	// would let "none" and header-less requests through.
	if p.strategy == StrategyBoth && (site == "" || site == "none") {
		return Verdict{Outcome: NeedToken}
	}

	if err := p.crossOriginCheck(r); err == nil {
		return Verdict{Outcome: Pass}
	}
	if p.strategy == StrategyBoth && len(p.corsOrigins) > 0 && p.corsOrigins[r.Header.Get("Origin")] {
		// A CORS origin passes the Fetch Metadata check, but under "both" its
		// requests still carry the token.
		return Verdict{Outcome: NeedToken}
	}
	return Verdict{Outcome: Fail, Reason: siteReason(site)}
}

// crossOriginCheck asks CrossOriginProtection about r. It always lets GET,
// HEAD and OPTIONS through; a request reaching this point has a method that
// IgnoreMethods does not list, so it is asked about as if it were a POST
// (a shallow copy: the headers are shared, not changed).
func (p *Protection) crossOriginCheck(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		rr := *r
		rr.Method = http.MethodPost
		r = &rr
	}
	return p.cop.Check(r)
}

func siteReason(site string) Reason {
	switch site {
	case "":
		return ReasonOriginMismatch
	case "cross-site":
		return ReasonCrossSite
	case "same-site":
		return ReasonSameSite
	default:
		return ReasonUnknownSite
	}
}

// Check runs both parts, for callers that know the binding up front:
// CheckOrigin, then CheckToken when the origin check asks for it. It returns
// nil or a [Reason].
func (p *Protection) Check(r *http.Request, binding string) error {
	v := p.CheckOrigin(r)
	switch v.Outcome {
	case Pass:
		return nil
	case NeedToken:
		return p.CheckToken(r, binding)
	default:
		return v.Reason
	}
}

// Handler is a convenience for library users without sessions: it runs
// [Protection.Check] with the empty binding, refuses a failing request with
// 403 {"success":false,"message":"CSRF validation failed.","code":"csrf"}, and otherwise
// makes sure the visitor holds a token ([Protection.Ensure], Secure when the
// connection is TLS, host-only) before calling next.
//
// The gateway does not use it: it runs the two parts at their places in the
// pipeline, with the session's binding.
func (p *Protection) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := p.Check(r, ""); err != nil {
			respond.ErrorCode(w, http.StatusForbidden, respond.CodeCSRF, respond.MsgCSRF)
			return
		}
		p.Ensure(w, r, "", r.TLS != nil, "")
		next.ServeHTTP(w, r)
	})
}
