// Package metrics exposes the gateway's Prometheus metrics (metrics.enabled,
// served at metrics.path): requests by kind and status with their latency,
// session outcomes, refreshes, calls to the backend and the state of its
// circuit breakers, rate-limit and CSRF refusals, and the build
// (apilayer_build_info). docs/metrics.md lists every metric with its labels
// and what to alert on.
//
// A nil *Metrics is valid and records nothing, so the pipeline calls it
// without checking whether metrics are on. Metrics are kept in their own
// registry (not the process-wide default), so several gateways in one
// process do not collide.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/apilayer/apilayer/internal/version"
)

// Metrics holds the gateway's collectors.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	sessions     *prometheus.CounterVec
	refreshes    *prometheus.CounterVec
	backendCalls *prometheus.CounterVec
	rateLimited  prometheus.Counter
	csrfFailed   prometheus.Counter
	reloads      *prometheus.CounterVec
	buildInfo    prometheus.Gauge
	breakers     *breakerStates

	own []prometheus.Collector // the apilayer_* collectors, in registration order
}

// New returns Metrics registered in a new registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	build := version.Get()
	revision := build.Revision
	if revision == "" {
		revision = "unknown"
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apilayer_requests_total",
			Help: "Requests answered by the gateway, by kind (page, api, auth) and status code.",
		}, []string{"kind", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apilayer_request_duration_seconds",
			Help:    "Time from the request to the end of its response, by kind.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"kind"}),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apilayer_sessions_total",
			Help: "Outcomes of the token cascade: user, guest, anonymous, expired, unavailable.",
		}, []string{"state"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apilayer_refreshes_total",
			Help: "Token refreshes seen by requests: ok, or the failure reason (expired, revoked, reuse, network, unknown).",
		}, []string{"result"}),
		backendCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apilayer_backend_calls_total",
			Help: "Calls the gateway made to the JWT backend (validate, refresh, guest, login...), by outcome (2xx, 4xx, 5xx, error).",
		}, []string{"endpoint", "outcome"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "apilayer_rate_limited_total",
			Help: "Requests refused with 429.",
		}),
		csrfFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "apilayer_csrf_failures_total",
			Help: "Requests refused by CSRF protection.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apilayer_config_reloads_total",
			Help: "Configuration reloads (SIGHUP), by result: ok, or error when the running config stayed.",
		}, []string{"result"}),
		buildInfo: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "apilayer_build_info",
			Help: "Always 1; its labels name the running build: version, VCS revision and Go version.",
			ConstLabels: prometheus.Labels{
				"version": build.Version, "revision": revision, "goversion": build.GoVersion,
			},
		}),
	}
	m.buildInfo.Set(1)
	m.breakers = &breakerStates{desc: prometheus.NewDesc("apilayer_backend_breaker_state",
		"State of the circuit breaker of each backend endpoint (backend.breaker): 1 for its current state (closed, open, half-open), 0 for the others.",
		[]string{"endpoint", "state"}, nil)}
	m.own = []prometheus.Collector{m.requests, m.duration, m.sessions, m.refreshes, m.backendCalls,
		m.rateLimited, m.csrfFailed, m.reloads, m.buildInfo, m.breakers}
	m.reg.MustRegister(m.own...)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request records one answered request.
func (m *Metrics) Request(kind string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(kind, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(kind).Observe(d.Seconds())
}

// Session records the outcome of a request's token cascade: its state, and
// the result of a refresh when one happened ("ok" or a failure reason).
func (m *Metrics) Session(state, refresh string) {
	if m == nil {
		return
	}
	m.sessions.WithLabelValues(state).Inc()
	if refresh != "" {
		m.refreshes.WithLabelValues(refresh).Inc()
	}
}

// RateLimited counts a 429.
func (m *Metrics) RateLimited() {
	if m != nil {
		m.rateLimited.Inc()
	}
}

// CSRFFailed counts a CSRF refusal.
func (m *Metrics) CSRFFailed() {
	if m != nil {
		m.csrfFailed.Inc()
	}
}

// ConfigReload counts a configuration reload: ok, or failed (the running
// configuration stayed).
func (m *Metrics) ConfigReload(ok bool) {
	if m == nil {
		return
	}
	result := "error"
	if ok {
		result = "ok"
	}
	m.reloads.WithLabelValues(result).Inc()
}

// BackendBreakers sets where apilayer_backend_breaker_state reads the
// breakers' states at each scrape: states returns the state (closed, open,
// half-open) of each backend endpoint (validate, refresh...).
func (m *Metrics) BackendBreakers(states func() map[string]string) {
	if m == nil {
		return
	}
	m.breakers.mu.Lock()
	m.breakers.states = states
	m.breakers.mu.Unlock()
}

// BreakerStates are the states apilayer_backend_breaker_state reports.
var BreakerStates = []string{"closed", "open", "half-open"}

// breakerStates is the collector of apilayer_backend_breaker_state: the
// breakers' states are read when Prometheus scrapes, so they are never out
// of date.
type breakerStates struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	states func() map[string]string // guarded by mu; nil: no samples
}

func (b *breakerStates) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b *breakerStates) Collect(ch chan<- prometheus.Metric) {
	b.mu.Lock()
	states := b.states
	b.mu.Unlock()
	if states == nil {
		return
	}
	for endpoint, cur := range states() {
		for _, s := range BreakerStates {
			v := 0.0
			if s == cur {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, v, endpoint, s)
		}
	}
}

// Transport wraps the backend client's transport to count its calls by
// endpoint (the last path segments after base, e.g. "auth/me") and outcome.
func (m *Metrics) Transport(base string, next http.RoundTripper) http.RoundTripper {
	if m == nil {
		return next
	}
	return &counting{m: m, base: base, next: next}
}

type counting struct {
	m    *Metrics
	base string
	next http.RoundTripper
}

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(r)
	outcome := "error"
	if err == nil {
		outcome = strconv.Itoa(res.StatusCode/100) + "xx"
	}
	c.m.backendCalls.WithLabelValues(c.endpoint(r), outcome).Inc()
	return res, err
}

// CloseIdleConnections closes the idle connections of the wrapped transport.
func (c *counting) CloseIdleConnections() {
	if ci, ok := c.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// endpoint names the called endpoint without ids or query: the path below
// the backend URL's path (a bounded set: the configured endpoints).
func (c *counting) endpoint(r *http.Request) string {
	p := strings.TrimPrefix(r.URL.Path, c.base)
	if p == r.URL.Path || p == "" {
		return "other"
	}
	return p
}
