// Package tracing builds the OpenTelemetry tracer provider of tracing.*:
// the exporter (OTLP over HTTP or gRPC, or stdout), the sampler (a ratio of
// new traces, and whatever a sampled parent decided) and the batching span
// processor. A gateway uses it when built with
// apilayer.WithTracing(tracing.Build), as the apilayer binary is: the
// apilayer package itself depends on the OpenTelemetry API only, so a
// program that does not trace does not link the SDK and the exporters.
//
// A collector that cannot be reached never holds up a request: spans are
// queued and sent in the background, dropped when the queue is full, and
// the failure is logged once (and once more when exports work again)
// instead of on each batch.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/version"
)

// ExportTimeout bounds one export, and the flush of Close.
const ExportTimeout = 5 * time.Second

// Options configures New.
type Options struct {
	// Version is the service.version of the spans.
	Version string
	// Stdout is where the stdout exporter writes. If nil, os.Stdout.
	Stdout io.Writer
	// Logger receives the export failures (one line per change). If nil,
	// nothing is logged.
	Logger *slog.Logger
}

// Provider is the tracer provider of tracing.*. Close flushes and stops it.
type Provider struct {
	*sdktrace.TracerProvider
}

// Build is New for apilayer.WithTracing: the provider c describes, with
// this build's version (apilayer version) as service.version, its
// failures logged to log.
func Build(c config.Tracing, log *slog.Logger) (trace.TracerProvider, io.Closer, error) {
	p, err := New(c, Options{Version: version.Get().Version, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return p, p, nil
}

// New builds the provider c describes. It does not connect: a collector
// that is down at start is not an error.
func New(c config.Tracing, o Options) (*Provider, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var exp sdktrace.SpanExporter
	var err error
	ctx := context.Background()
	switch c.Exporter {
	case "", "otlp-http":
		opts := []otlptracehttp.Option{
			otlptracehttp.WithTimeout(ExportTimeout),
			// A batch that fails is dropped, not retried for a minute:
			// the queue behind it keeps the newer spans.
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
			// The collector is reached directly, as the backend is:
			// an HTTP_PROXY meant for outbound traffic must not capture it.
			otlptracehttp.WithProxy(func(*http.Request) (*url.URL, error) { return nil, nil }),
		}
		if c.Endpoint != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(httpEndpoint(c.Endpoint)))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	case "otlp-grpc":
		opts := []otlptracegrpc.Option{
			otlptracegrpc.WithTimeout(ExportTimeout),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
		}
		if c.Endpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(c.Endpoint))
		}
		exp, err = otlptracegrpc.New(ctx, opts...)
	case "stdout":
		w := o.Stdout
		if w == nil {
			w = os.Stdout
		}
		exp, err = stdouttrace.New(stdouttrace.WithWriter(w))
	default:
		return nil, fmt.Errorf("tracing: unknown exporter %q", c.Exporter)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: %s exporter: %w", c.Exporter, err)
	}
	ratio := config.DefaultSampleRatio
	if c.SampleRatio != nil {
		ratio = *c.SampleRatio
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", c.ServiceName),
		attribute.String("service.version", o.Version),
	)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		// A request whose traceparent says sampled is recorded: a trace
		// started upstream stays whole. The trade-off: a client can ask
		// for its requests to be recorded; the queue bounds what that
		// costs.
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
		sdktrace.WithBatcher(&reporting{SpanExporter: exp, log: log, exporter: c.Exporter},
			sdktrace.WithExportTimeout(ExportTimeout)),
	)
	return &Provider{tp}, nil
}

// httpEndpoint is the OTLP/HTTP URL of tracing.endpoint: the collector's
// base URL gets the traces path, as OTEL_EXPORTER_OTLP_ENDPOINT does; a
// URL with a path is used as it is.
func httpEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Path != "" && u.Path != "/") {
		return endpoint
	}
	u.Path = "/v1/traces"
	return u.String()
}

// Close flushes the queued spans and stops the exporter, within
// ExportTimeout: a collector that is down costs at most that.
func (p *Provider) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), ExportTimeout)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("tracing: %w", err)
	}
	return nil
}

// reporting logs the failures of the exporter it wraps once per change
// (failing, then working again), and hands the error on to the span
// processor, which drops the batch.
type reporting struct {
	sdktrace.SpanExporter
	log      *slog.Logger
	exporter string

	mu      sync.Mutex
	failing bool // guarded by mu
}

func (r *reporting) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := r.SpanExporter.ExportSpans(ctx, spans)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil && !r.failing:
		r.failing = true
		r.log.Warn("tracing: cannot export spans: they are dropped until the collector answers (requests are not affected)",
			"exporter", r.exporter, "error", err.Error())
	case err == nil && r.failing:
		r.failing = false
		r.log.Info("tracing: exporting spans again", "exporter", r.exporter)
	}
	return nil // logged here: the SDK's global error handler would log each batch
}
