// Package tracectx reads and writes the W3C trace context (traceparent,
// tracestate) of HTTP requests. It depends on the OpenTelemetry API only,
// not on the SDK and its exporters (package internal/tracing), so the
// packages that send requests (backend, proxy) stay light.
package tracectx

import (
	"context"
	"encoding/hex"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

var propagator = propagation.TraceContext{}

// Inject writes the trace context of ctx into h, in place of any
// traceparent and tracestate h had (a client's, which the span of ctx is
// a child of). It writes what propagation.TraceContext does, under the
// canonical header names, without the work of canonicalizing them on each
// request.
func Inject(ctx context.Context, h http.Header) {
	delete(h, "Traceparent")
	delete(h, "Tracestate")
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	if ts := sc.TraceState().String(); ts != "" {
		h["Tracestate"] = []string{ts}
	}
	// version 00, trace ID, parent ID, and the flags the spec defines:
	// sampled (0x01) and random (0x02).
	var b [55]byte
	tid, sid := sc.TraceID(), sc.SpanID()
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags() & (trace.FlagsSampled | trace.FlagsRandom))})
	h["Traceparent"] = []string{string(b[:])}
}

// Extract returns ctx with the trace context of h, if any. A request
// without a traceparent (a tracestate alone means nothing) costs a map
// lookup: no canonicalization of the header name, no allocation. h must
// have canonical keys, as the requests of net/http servers do.
func Extract(ctx context.Context, h http.Header) context.Context {
	if _, ok := h["Traceparent"]; !ok {
		return ctx
	}
	return propagator.Extract(ctx, propagation.HeaderCarrier(h))
}
