package apilayer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apilayer/apilayer/access"
	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/audit"
	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/clientip"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/cors"
	"github.com/apilayer/apilayer/csrf"
	"github.com/apilayer/apilayer/i18n"
	"github.com/apilayer/apilayer/localjwt"
	"github.com/apilayer/apilayer/metrics"
	"github.com/apilayer/apilayer/peer"
	"github.com/apilayer/apilayer/proxy"
	"github.com/apilayer/apilayer/ratelimit"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/respond"
	"github.com/apilayer/apilayer/route"
	"github.com/apilayer/apilayer/sanitize"
	"github.com/apilayer/apilayer/session"
	"go.opentelemetry.io/otel/trace"
)

// Config is the gateway configuration; see package config.
type Config = config.Config

// Gateway is the auth gateway: the pipeline of docs/how-it-works.md with its
// caches, backend client and proxies. Create one with New and release it
// with Close.
type Gateway struct {
	cfg      *config.Config
	log      *slog.Logger
	prefix   string
	jar      *jar
	clientIP *clientip.Resolver
	access   *access.Policy
	bypass   route.List  // authApi.bypassPaths (auth API disabled)
	app      route.Globs // api.appRoutes: the web app's own routes under the prefix
	// tokenEndpoints are the backend endpoints that answer tokens (login,
	// register, refresh, guest), relative to backend.url.
	tokenEndpoints []string
	public         route.Globs
	backend        *backend.Client
	sessions       *session.Manager
	upstream       http.Handler
	api            *proxy.API
	cors           *cors.Policy       // nil without cors.allowedOrigins
	csrf           *csrf.Protection   // nil without csrf.enabled
	limiter        *ratelimit.Limiter // nil without rateLimit.enabled
	byUser         bool               // rateLimit.by is user
	audit          *audit.Logger      // nil without audit.enabled (a nil Logger emits nothing)
	hooks          Hooks
	i18n           *i18n.Router      // nil without i18n.enabled
	redis          *redisstore.Store // nil unless store.driver is redis
	peers          *peer.Set         // nil without store.peers
	peerH          http.Handler      // the paths under /_apilayer/peer/: never forwarded
	metrics        *metrics.Metrics  // nil without metrics.enabled (a nil Metrics records nothing)
	tracer         trace.Tracer      // nil without tracing.enabled nor WithTracerProvider: no spans
	metricsH       http.Handler      // metrics.path on listen: nil with admin.listen (see scrapeH)
	scrapeH        http.Handler      // the metrics, wherever they are served
	signer         *assertion.Signer // nil without identity.sign
	jwksH          http.Handler      // the signer's public keys at assertion.JWKSPath
	// assertionName is identity.header when it is not X-Auth-Assertion
	// (which StripInternal removes): removed from every request too.
	assertionName string
	// authzPath is authz.path with forward-auth mode on, else "".
	authzPath string
	closers   []io.Closer
	cert      *tls.Certificate // tls.certFile and keyFile, read by New

	opts  options          // what New was given: a reload builds the next Gateway with them
	prev  *Gateway         // during a reload's provision: the Gateway being replaced
	parts map[string]*part // the components a successor may keep, by name
	kept  []string         // the parts taken over from prev
	use   use              // the requests a Server serves with this Gateway

	pprofOnce sync.Once
	pprofH    http.Handler // admin.pprof

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
}

// Option changes how New builds a Gateway.
type Option func(*options)

type options struct {
	logger    *slog.Logger
	transport http.RoundTripper
	auditOut  io.Writer
	hooks     Hooks
	tracers   trace.TracerProvider
	tracing   TracerBuilder
}

// WithTracerProvider sends the gateway's spans to tp (a server span per
// request, child spans for the backend calls and the proxies; see
// docs/deployment.md#tracing) instead of the provider tracing.* builds:
// for a program that has its own OpenTelemetry setup. Spans are then made
// whatever tracing.enabled says; tp is yours to shut down.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracers = tp }
}

// A TracerBuilder builds the tracer provider tracing.* describes (its
// exporter, sampler and span processor); the Closer flushes and stops it.
// tracing.Build, in package github.com/apilayer/apilayer/tracing, is the
// one the apilayer binary uses.
type TracerBuilder func(c config.Tracing, log *slog.Logger) (trace.TracerProvider, io.Closer, error)

// WithTracing lets tracing.enabled build its provider with b. Without it, a
// configuration with tracing.enabled is refused: this package depends on
// the OpenTelemetry API only, so that a program that does not trace does
// not link the SDK and its exporters (gRPC among them). A reload keeps the
// provider while tracing.* is unchanged. WithTracerProvider, when given
// too, wins.
func WithTracing(b TracerBuilder) Option { return func(o *options) { o.tracing = b } }

// WithAuditOutput sets where audit.output "stdout" writes (default
// os.Stdout): a test or an embedding program can capture the events.
func WithAuditOutput(w io.Writer) Option { return func(o *options) { o.auditOut = w } }

// WithLogger sets the logger of every component (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithTransport sets the transport for the gateway's calls to the backend
// and for both proxies (default: dedicated transports, one policy for all:
// no environment proxy, a keep-alive pool per host). upstream.timeout and
// api.timeout still apply. A Transport you pass is yours to close:
// Gateway.Close leaves it alone.
func WithTransport(t http.RoundTripper) Option { return func(o *options) { o.transport = t } }

// New builds a Gateway from cfg. cfg is defaulted and validated first; an
// invalid config returns every problem at once (*config.Errors).
func New(cfg Config, opts ...Option) (*Gateway, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return build(cfg, o, nil)
}

// build makes a Gateway from cfg with o. prev, when not nil, is the
// Gateway it replaces: the components built from unchanged settings are
// taken over from it (see keep) instead of built anew.
func build(cfg Config, o options, prev *Gateway) (*Gateway, error) {
	c := cfg // a copy: the caller's Config is never changed
	c.Defaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	g := &Gateway{cfg: &c, log: o.logger, prefix: strings.TrimSuffix(c.API.Prefix, "/"), hooks: o.hooks, opts: o, prev: prev}
	g.use.init()
	err := g.provision(o)
	g.prev = nil // the replaced Gateway is not kept alive by its successor
	if err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// provision builds the components. On error, Close releases what was built.
func (g *Gateway) provision(o options) error {
	c := g.cfg
	var err error
	g.jar = newJar(c.Cookies)
	if g.clientIP, err = clientip.New(c.ClientIP.TrustedProxies, c.ClientIP.Headers); err != nil {
		return fmt.Errorf("apilayer: clientIP: %w", err)
	}
	for _, w := range c.Warnings() {
		g.log.Warn(w)
	}
	authPaths := make([]string, 0, 6)
	for _, p := range []string{"login", "logout", "me", "refresh", "register", "csrf"} {
		authPaths = append(authPaths, g.prefix+"/auth/"+p)
	}
	if g.access, err = access.New(c.Access, append([]string{c.Health.Path}, authPaths...)...); err != nil {
		return fmt.Errorf("apilayer: %w", err)
	}
	// access.caseInsensitive: every route list and glob in any letter case.
	match := route.Options{CaseInsensitive: c.Access.CaseInsensitive}
	if !*c.AuthAPI.Enabled {
		bypass := c.AuthAPI.BypassPaths
		if len(bypass) == 0 {
			bypass = authPaths[:5]
		}
		g.bypass = match.NewList(bypass)
	}
	if g.public, err = match.CompileGlobs(c.API.PublicEndpoints); err != nil {
		return fmt.Errorf("apilayer: api.publicEndpoints: %w", err)
	}
	if g.app, err = match.CompileGlobs(c.API.AppRoutes); err != nil {
		return fmt.Errorf("apilayer: api.appRoutes: %w", err)
	}
	ep := c.Backend.Endpoints
	g.tokenEndpoints = []string{ep.Login, ep.Register, ep.Refresh, ep.Guest}

	if c.TLS.CertFile != "" && c.TLS.KeyFile != "" {
		// Read now, and again by each reload: a renewed certificate is
		// served from the next reload on (Server.Reload).
		cert, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile)
		if err != nil {
			return fmt.Errorf("apilayer: tls: %w", err)
		}
		g.cert = &cert
	}

	var client *http.Client
	if o.transport != nil {
		client = &http.Client{Transport: o.transport}
	}
	if c.Metrics.Enabled {
		g.metrics, _ = keep(g, "metrics", true, func() (*metrics.Metrics, io.Closer, error) {
			return metrics.New(), nil, nil
		})
		g.scrapeH = g.metrics.Handler()
		if c.Admin.Listen == "" {
			g.metricsH = g.scrapeH // else served by the admin listener only
		}
	}
	if err := g.provisionTracing(); err != nil {
		return err
	}
	if err := g.provisionBackend(client); err != nil {
		return err
	}
	g.metrics.BackendBreakers(g.breakerStates)
	if err := g.provisionSessions(client); err != nil {
		return err
	}
	g.peerH = g.peerHandler()
	if c.Identity.Sign {
		if err := g.provisionSigner(); err != nil {
			return err
		}
	}
	if h := http.CanonicalHeaderKey(c.Identity.Header); h != "" && h != proxy.HeaderAuthAssertion {
		g.assertionName = h
	}
	if c.Authz.Enabled {
		g.authzPath = c.Authz.Path
	}

	info := func(r *http.Request) (netip.Addr, string, string) {
		i, ok := clientip.FromContext(r.Context())
		if !ok {
			i = g.clientIP.Resolve(r)
		}
		return i.IP, i.Proto, i.Host
	}
	if c.Upstream.URL != "" || c.Upstream.Static != "" {
		up, err := proxy.NewUpstream(proxy.UpstreamOptions{
			URL:       c.Upstream.URL,
			Static:    c.Upstream.Static,
			Timeout:   c.Upstream.Timeout,
			Transport: o.transport,
			// The web app cannot set or delete the gateway's cookies.
			ReservedCookies: reservedCookies(c),
			AssertionHeader: c.Identity.Header,
			ClientInfo:      info,
			Logger:          g.log.With("component", "upstream"),
			Tracer:          g.tracer,
		})
		if err != nil {
			return fmt.Errorf("apilayer: upstream: %w", err)
		}
		g.upstream = up
		g.closers = append(g.closers, up)
	} else {
		g.upstream = http.HandlerFunc(noUpstream)
	}
	if len(c.CORS.AllowedOrigins) > 0 {
		if g.cors, err = cors.New(cors.Options{
			AllowedOrigins: c.CORS.AllowedOrigins,
			AllowedHeaders: c.CORS.AllowedHeaders,
			MaxAge:         c.CORS.MaxAge,
		}); err != nil {
			return fmt.Errorf("apilayer: cors: %w", err)
		}
	}
	if c.CSRF.Enabled {
		if err := g.provisionCSRF(); err != nil {
			return err
		}
	}
	if c.RateLimit.Enabled {
		settings := struct {
			RateLimit       config.RateLimit
			CaseInsensitive bool
			Store           config.Store
		}{c.RateLimit, c.Access.CaseInsensitive, redisSettings(c.Store)}
		g.limiter, err = keep(g, "rateLimit", settings, func() (*ratelimit.Limiter, io.Closer, error) {
			rules := make([]ratelimit.Rule, len(c.RateLimit.Rules))
			for i, r := range c.RateLimit.Rules {
				rules[i] = ratelimit.Rule{Path: r.Path, MaxRequests: r.MaxRequests, Window: r.Window}
			}
			l, err := ratelimit.New(ratelimit.Options{
				Window:      c.RateLimit.Window,
				MaxRequests: c.RateLimit.MaxRequests,
				Rules:       rules,
				SkipRoutes:  c.RateLimit.SkipRoutes,
				// Prefetches are exempt for pages only: the pipeline decides.
				SkipPrefetch:    false,
				CaseInsensitive: c.Access.CaseInsensitive,
				Store:           g.rateStore(),
				Logger:          g.log.With("component", "ratelimit"),
			})
			if err != nil {
				return nil, nil, fmt.Errorf("apilayer: rateLimit: %w", err)
			}
			return l, l, nil
		})
		if err != nil {
			return err
		}
		g.byUser = c.RateLimit.By == "user"
	}
	if c.Audit.Enabled {
		g.audit, err = audit.New(audit.Options{
			Events:        c.Audit.Events,
			Output:        c.Audit.Output,
			QueueSize:     c.Audit.QueueSize,
			WebhookSecret: c.Audit.WebhookSecret,
			Stdout:        o.auditOut,
			Logger:        g.log.With("component", "audit"),
		})
		if err != nil {
			return fmt.Errorf("apilayer: audit: %w", err)
		}
		g.closers = append(g.closers, g.audit)
	}
	if c.I18n.Enabled {
		g.i18n, err = i18n.New(i18n.Options{
			Locales:       c.I18n.Locales,
			DefaultLocale: c.I18n.DefaultLocale,
			ParamName:     c.I18n.ParamName,
			Prefix:        c.I18n.Prefix,
			Cookie:        c.I18n.Cookie,
			CookiePath:    c.Cookies.Path,
			CookieDomain:  c.Cookies.Domain,
		})
		if err != nil {
			return fmt.Errorf("apilayer: i18n: %w", err)
		}
	}
	var sanitizer proxy.Sanitizer
	if s := c.API.Sanitize; s.Enabled {
		sz, err := sanitize.New(sanitize.Options{
			Mode:          s.Mode,
			AllowedTags:   s.AllowedTags,
			SkipFields:    s.SkipFields,
			SkipEndpoints: s.SkipEndpoints,
		})
		if err != nil {
			return fmt.Errorf("apilayer: api.sanitize: %w", err)
		}
		sanitizer = sz
	}
	g.api, err = proxy.NewAPI(proxy.APIOptions{
		Backend:           c.Backend.URL,
		Prefix:            g.prefix,
		Timeout:           c.API.Timeout,
		MaxBodySize:       int64(c.API.MaxBodySize),
		MethodSpoofing:    c.API.MethodSpoofing,
		Sanitizer:         sanitizer,
		SanitizeResponses: c.API.Sanitize.Responses,
		ReservedCookies:   reservedCookies(c),
		DropHeaders:       []string{c.CSRF.HeaderName},
		Query:             g.apiQuery(),
		ClientInfo:        info,
		Transport:         o.transport,
		Logger:            g.log.With("component", "api"),
		Tracer:            g.tracer,
	})
	if err != nil {
		return fmt.Errorf("apilayer: api: %w", err)
	}
	g.closers = append(g.closers, g.api)
	return nil
}

// provisionSigner builds the signer of identity.sign, from identity.keyFile
// or a key generated now (with a warning: every restart changes it).
// A reload keeps the signer while identity.* and the key file's content
// are unchanged: a generated key survives reloads, a rotated key file is
// read again.
func (g *Gateway) provisionSigner() error {
	id := g.cfg.Identity
	var pem []byte
	if id.KeyFile != "" {
		b, err := os.ReadFile(id.KeyFile)
		if err != nil {
			return fmt.Errorf("apilayer: identity.keyFile: %w", err)
		}
		pem = b
	}
	settings := struct {
		Identity config.Identity
		Key      []byte
	}{id, pem}
	s, err := keep(g, "signer", settings, func() (*assertion.Signer, io.Closer, error) {
		s, err := assertion.NewSigner(assertion.SignerOptions{
			Algorithm: id.Algorithm,
			KeyPEM:    pem,
			TTL:       id.TTL,
			Audience:  id.Audience,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("apilayer: identity: %w", err)
		}
		if s.Generated() {
			g.log.Warn("identity.sign: no identity.keyFile, signing with a key generated at start; it changes on every restart",
				"kid", s.KeyID(), "algorithm", s.Algorithm())
		}
		return s, nil, nil
	})
	if err != nil {
		return err
	}
	g.signer, g.jwksH = s, s.JWKSHandler()
	return nil
}

// provisionTracing makes the tracer: of the WithTracerProvider provider,
// else of the one tracing.* describes (built by the WithTracing builder,
// kept by a reload while tracing.* is unchanged), else none.
func (g *Gateway) provisionTracing() error {
	if tp := g.opts.tracers; tp != nil {
		g.tracer = tp.Tracer(tracerName)
		return nil
	}
	if !g.cfg.Tracing.Enabled {
		return nil
	}
	build := g.opts.tracing
	if build == nil {
		return errors.New("apilayer: tracing.enabled: this program builds no tracer provider: " +
			"pass apilayer.WithTracing(tracing.Build) (package github.com/apilayer/apilayer/tracing) or WithTracerProvider")
	}
	tp, err := keep(g, "tracing", g.cfg.Tracing, func() (trace.TracerProvider, io.Closer, error) {
		tp, c, err := build(g.cfg.Tracing, g.log.With("component", "tracing"))
		if err != nil {
			return nil, nil, fmt.Errorf("apilayer: %w", err)
		}
		return tp, c, nil
	})
	if err != nil {
		return err
	}
	g.tracer = tp.Tracer(tracerName)
	return nil
}

// tracerName is the instrumentation scope of the gateway's spans.
const tracerName = "github.com/apilayer/apilayer"

// tracingSettings are the tracing settings the components that make spans
// depend on.
func (g *Gateway) tracingSettings() any {
	if g.opts.tracers != nil {
		return "provider"
	}
	if !g.cfg.Tracing.Enabled {
		return nil
	}
	return g.cfg.Tracing
}

// reservedCookies are the names of the gateway's own cookies: auth cookies,
// the CSRF cookie and the locale cookie. A Set-Cookie with one of these
// names from the web app or the backend never reaches the browser.
func reservedCookies(c *config.Config) []string {
	names := []string{c.Cookies.User, c.Cookies.Guest}
	if c.Cookies.Refresh != "" {
		names = append(names, c.Cookies.Refresh)
	}
	if c.CSRF.Enabled {
		names = append(names, c.CSRF.CookieName)
	}
	if c.I18n.Enabled {
		names = append(names, c.I18n.Cookie)
	}
	return names
}

// provisionRedis connects the shared stores of distributed mode
// (docs/distributed.md). An unreachable Redis at start is not an error (the
// gateway starts on per-instance state and recovers by itself). A reload keeps the
// connection while store.* is unchanged.
func (g *Gateway) provisionRedis() error {
	s, err := keep(g, "redis", redisSettings(g.cfg.Store), func() (*redisstore.Store, io.Closer, error) {
		r := g.cfg.Store.Redis
		s, err := redisstore.New(context.Background(), redisstore.Options{
			URL:       r.URL,
			KeyPrefix: r.KeyPrefix,
			Timeout:   r.Timeout,
			Logger:    g.log.With("component", "redis"),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("apilayer: store.redis: %w", err)
		}
		return s, s, nil
	})
	g.redis = s
	return err
}

// stores are the session manager's stores: in memory, or (store.driver
// redis) in Redis, each falling back to this instance's memory while Redis
// is unavailable, so no request fails only because Redis is down.
type stores struct {
	cache         session.Cache
	failures      session.Failures
	successors    session.Successors
	revalidations session.Revalidations
	guests        session.Limiter // nil: no cap on guest minting
	lock          session.RefreshLock
}

// provisionStores makes the session stores, or keeps those of the Gateway
// this one replaces when their settings are unchanged: what a validation
// result, a failed refresh or a successor record means depends on the
// backend and on how tokens are validated, so those settings are part of
// theirs.
func (g *Gateway) provisionStores() (stores, error) {
	c := g.cfg
	return keep(g, "sessionStores", g.storeSettings(), func() (stores, io.Closer, error) {
		size := c.Validation.CacheSize
		st := stores{
			cache:         session.NewMemoryCache(size, nil),
			failures:      session.NewMemoryFailures(size, nil),
			successors:    session.NewMemorySuccessors(size, nil),
			revalidations: session.NewMemoryRevalidations(size, nil),
		}
		if c.Guest.Enabled && c.Guest.MaxPerMinute > 0 {
			st.guests = session.NewMemoryLimiter(c.Guest.MaxPerMinute, size, nil)
		}
		if s := g.redis; s != nil {
			st.cache = redisstore.CacheWithFallback(s.Cache(), st.cache)
			if ttl := *c.Store.Redis.NearCacheTTL; ttl > 0 {
				// Cache hits without a Redis round trip (docs/distributed.md).
				st.cache = s.NearCache(st.cache, ttl, size)
			}
			st.failures = redisstore.FailuresWithFallback(s.Failures(), st.failures)
			st.successors = redisstore.SuccessorsWithFallback(s.Successors(), st.successors)
			st.revalidations = redisstore.RevalidationsWithFallback(s.Revalidations(), st.revalidations)
			st.guests = s.GuestLimiter(c.Guest.MaxPerMinute, nil)
			st.lock = s.Locks()
		}
		return st, nil, nil
	})
}

// storeSettings are the settings the session stores depend on.
func (g *Gateway) storeSettings() any {
	c := g.cfg
	return struct {
		CacheSize        int
		Mode             string
		Local            config.Local
		Backend          string
		Endpoints        config.Endpoints
		Mapping          config.Mapping
		Store            config.Store
		GuestEnabled     bool
		GuestPerMinute   int
		IPv6PrefixLength int
	}{c.Validation.CacheSize, c.Validation.Mode, c.Validation.Local, c.Backend.URL, c.Backend.Endpoints,
		c.Backend.Mapping, redisSettings(c.Store), c.Guest.Enabled, c.Guest.MaxPerMinute, c.RateLimit.IPv6PrefixLength}
}

// provisionBackend makes the backend client, or keeps the replaced
// Gateway's (its circuit breakers and connections) while its settings are
// unchanged.
func (g *Gateway) provisionBackend(client *http.Client) error {
	c := g.cfg
	b, err := keep(g, "backend", g.backendSettings(), func() (*backend.Client, io.Closer, error) {
		var wrap func(http.RoundTripper) http.RoundTripper
		if m := g.metrics; m != nil {
			base := c.Backend.URL
			if u, err := url.Parse(base); err == nil {
				base = u.Path
			}
			wrap = func(t http.RoundTripper) http.RoundTripper { return m.Transport(base, t) }
		}
		b, err := backend.New(backend.Options{
			URL:              c.Backend.URL,
			Timeout:          c.Backend.Timeout,
			Endpoints:        c.Backend.Endpoints,
			Mapping:          c.Backend.Mapping,
			ReuseStatusCodes: c.Refresh.ReuseStatusCodes,
			ReuseCodes:       c.Refresh.ReuseCodes,
			GuestCredentials: c.Guest.Credentials,
			HTTPClient:       client,
			WrapTransport:    wrap,
			Breaker:          backend.BreakerOptions{Failures: c.Backend.Breaker.Failures, OpenFor: c.Backend.Breaker.OpenFor},
			Logger:           g.log.With("component", "backend"),
			Tracer:           g.tracer,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("apilayer: backend: %w", err)
		}
		return b, b, nil
	})
	g.backend = b
	return err
}

// backendSettings are the settings the backend client depends on.
func (g *Gateway) backendSettings() any {
	c := g.cfg
	return struct {
		Backend          config.Backend
		ReuseStatusCodes []int
		ReuseCodes       []string
		GuestCredentials map[string]any
		Metrics          bool
		Tracing          any
	}{c.Backend, c.Refresh.ReuseStatusCodes, c.Refresh.ReuseCodes, c.Guest.Credentials, c.Metrics.Enabled, g.tracingSettings()}
}

// provisionSessions makes the session manager, or keeps the replaced
// Gateway's while none of its settings changed: then refreshes in flight
// stay coalesced with those of new requests, and nothing is lost. Its
// stores and the backend client are kept on their own terms.
func (g *Gateway) provisionSessions(client *http.Client) error {
	c := g.cfg
	if c.Store.Driver == "redis" {
		if err := g.provisionRedis(); err != nil {
			return err
		}
	}
	var local session.LocalVerifier
	var localSettings any
	if c.Validation.Mode == "local" {
		v, settings, err := g.provisionLocal(client)
		if err != nil {
			return err
		}
		local, localSettings = v, settings
	}
	st, err := g.provisionStores()
	if err != nil {
		return err
	}
	relay, err := g.provisionPeers()
	if err != nil {
		return err
	}
	settings := struct {
		Validation config.Validate
		Refresh    config.Refresh
		Guest      config.Guest
		DualToken  bool
		IPv6       int
		Backend    any
		Stores     any
		Local      any
		Peers      any
	}{c.Validation, c.Refresh, c.Guest, c.Cookies.Refresh != "", c.RateLimit.IPv6PrefixLength,
		g.backendSettings(), g.storeSettings(), localSettings, g.peerSettings()}
	g.sessions, err = keep(g, "sessions", settings, func() (*session.Manager, io.Closer, error) {
		so := session.Options{
			Backend:            g.backend,
			Local:              local,
			CacheTTL:           *c.Validation.CacheTTL,
			CacheSize:          c.Validation.CacheSize,
			StaleIfError:       *c.Validation.StaleIfError,
			SingleFlight:       *c.Refresh.SingleFlight,
			GuestFallback:      *c.Refresh.GuestFallback,
			GuestEnabled:       c.Guest.Enabled,
			GuestMaxPerMinute:  c.Guest.MaxPerMinute,
			GuestIPv6Prefix:    c.RateLimit.IPv6PrefixLength,
			DualToken:          c.Cookies.Refresh != "",
			Proactive:          c.Refresh.Proactive,
			ProactiveWindow:    c.Refresh.ProactiveWindow,
			SuccessorTTL:       *c.Refresh.SuccessorTTL,
			RevalidateInterval: c.Validation.RevalidateInterval,
			Cache:              st.cache,
			Failures:           st.failures,
			Successors:         st.successors,
			Revalidations:      st.revalidations,
			GuestLimiter:       st.guests,
			RefreshLock:        st.lock,
			Logger:             g.log.With("component", "session"),
		}
		if relay != nil {
			so.Relay = relay
		}
		if st.lock != nil {
			// The lock covers the refresh call and the validation of its
			// new token, each bounded by backend.timeout, with room to
			// spare.
			so.RefreshLockTTL = 3 * c.Backend.Timeout
		}
		m, err := session.New(so)
		if err != nil {
			return nil, nil, fmt.Errorf("apilayer: session: %w", err)
		}
		return m, m, nil
	})
	return err
}

// redisSettings is st without the peers, so that changing store.peers
// on a reload keeps the Redis connection and what uses it.
func redisSettings(st config.Store) config.Store {
	st.Peers, st.PeerSecret = nil, ""
	return st
}

// rateStore is the rate limiter's storage: Redis in distributed mode (the
// limiter falls back to memory on its own), else memory.
func (g *Gateway) rateStore() ratelimit.Store {
	if g.redis == nil {
		return nil
	}
	return g.redis.RateLimit()
}

// provisionLocal builds the local JWT verifier of validate.mode local, or
// keeps the replaced Gateway's (and its key set) while validate.local and
// the public key file's content are unchanged. It returns the settings it
// was built from.
func (g *Gateway) provisionLocal(client *http.Client) (*localjwt.Verifier, any, error) {
	l := g.cfg.Validation.Local
	var pem []byte
	if l.PublicKeyFile != "" {
		b, err := os.ReadFile(l.PublicKeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("apilayer: validate.local.publicKeyFile: %w", err)
		}
		pem = b
	}
	settings := struct {
		Local   config.Local
		Key     []byte
		Timeout time.Duration
	}{l, pem, g.cfg.Backend.Timeout}
	v, err := keep(g, "localjwt", settings, func() (*localjwt.Verifier, io.Closer, error) {
		o := localjwt.Options{
			Secret:         []byte(l.Secret),
			JWKSURL:        l.JWKSURL,
			PublicKeyPEM:   pem,
			Algorithms:     l.Algorithms,
			Issuer:         l.Issuer,
			Audience:       l.Audience,
			Leeway:         *l.Leeway,
			RequireExp:     *l.RequireExp,
			TokenTypeClaim: l.TokenTypeClaim,
			HTTPClient:     client,
			Logger:         g.log.With("component", "localjwt"),
		}
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.Backend.Timeout)
		defer cancel()
		v, err := localjwt.New(ctx, o)
		if err != nil {
			return nil, nil, fmt.Errorf("apilayer: validate.local: %w", err)
		}
		return v, v, nil
	})
	return v, settings, err
}

// provisionCSRF builds the CSRF protection. Without csrf.secret a random
// per-process secret is used, with a warning: tokens then fail across
// restarts and instances (config.Validate refuses that with store.driver
// redis).
//
// A reload keeps the protection (and so a random secret) while csrf.* and
// cors.allowedOrigins are unchanged.
func (g *Gateway) provisionCSRF() error {
	settings := struct {
		CSRF    config.CSRF
		Origins []string
	}{g.cfg.CSRF, g.cfg.CORS.AllowedOrigins}
	p, err := keep(g, "csrf", settings, g.newCSRF)
	g.csrf = p
	return err
}

func (g *Gateway) newCSRF() (*csrf.Protection, io.Closer, error) {
	c := g.cfg.CSRF
	o := csrf.Options{
		Strategy:       c.Strategy,
		Secret:         []byte(c.Secret),
		CookieName:     c.CookieName,
		HeaderName:     c.HeaderName,
		IgnoreMethods:  c.IgnoreMethods,
		TrustSameSite:  c.TrustSameSite,
		TrustedOrigins: c.TrustedOrigins,
	}
	for _, s := range c.PreviousSecrets {
		o.PreviousSecrets = append(o.PreviousSecrets, []byte(s))
	}
	if g.cors != nil {
		o.CORSOrigins = g.cors.Origins()
	}
	p, err := csrf.New(o)
	if err != nil {
		return nil, nil, fmt.Errorf("apilayer: csrf: %w", err)
	}
	return p, nil, nil
}

// apiQuery adds i18n's paramName=<locale> to API proxy calls.
func (g *Gateway) apiQuery() func(*http.Request) url.Values {
	if g.i18n == nil {
		return nil
	}
	return func(r *http.Request) url.Values { return g.i18n.Query(AuthFrom(r.Context()).Locale) }
}

// noUpstream answers page requests when no web app is configured (a
// gateway used only for its API, or as Middleware without next).
func noUpstream(w http.ResponseWriter, r *http.Request) {
	respond.Page(w, http.StatusNotFound, "There is no web app behind this gateway.")
}

// Handler returns the whole gateway as the binary runs it: pages go to the
// configured upstream, API requests to the backend.
func (g *Gateway) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serve(w, r, g.upstream) })
}

// Middleware returns the whole gateway with next in place of the upstream:
// it serves the built-in auth API and the API proxy itself (paths under
// api.prefix never reach next) and hands every other request, after the
// auth pipeline, to next; the upstream.* settings are not used. Handlers
// read the identity with AuthFrom(r.Context()).
func (g *Gateway) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serve(w, r, next) })
}

// APIProxy returns the API proxy alone, without the auth pipeline: requests
// keep the api.prefix in their path (/api/posts is sent to
// backend.url + "posts") and must already carry the Authorization header
// they should send.
func (g *Gateway) APIProxy() http.Handler { return g.api }

// Close releases everything New built: background work (the session
// manager's shared calls are cancelled and awaited, the audit writer
// flushes), stores and the idle connections of the gateway's own
// transports. No goroutine of the gateway is left once it returns. A
// transport given with WithTransport is the caller's to close. It is safe
// to call more than once.
func (g *Gateway) Close() error {
	g.closeOnce.Do(func() {
		g.closed.Store(true)
		var errs []error
		for i := len(g.closers) - 1; i >= 0; i-- {
			if err := g.closers[i].Close(); err != nil {
				errs = append(errs, err)
			}
		}
		g.closeErr = errors.Join(errs...)
	})
	return g.closeErr
}
