// Package tracectx reads and writes the W3C trace context (traceparent,
// tracestate) of HTTP requests. It depends on the OpenTelemetry API only,
// not on the SDK and its exporters (package internal/tracing), so the
// packages that send requests (backend, proxy) stay light.
package tracectx

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
)

var propagator = propagation.TraceContext{}

// Inject writes the trace context of ctx into h, in place of any
// traceparent and tracestate h had (a client's, which the span of ctx is
// a child of).
func Inject(ctx context.Context, h http.Header) {
	h.Del("Traceparent")
	h.Del("Tracestate")
	propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// Extract returns ctx with the trace context of h, if any.
func Extract(ctx context.Context, h http.Header) context.Context {
	return propagator.Extract(ctx, propagation.HeaderCarrier(h))
}
