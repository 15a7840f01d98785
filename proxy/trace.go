package proxy

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// startSpan starts the client span of a proxied call: its method and the
// path it is sent to (never the query, which may carry secrets).
func startSpan(ctx context.Context, t trace.Tracer, name, method, path string) (context.Context, trace.Span) {
	return t.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("http.request.method", method),
		attribute.String("url.path", path),
	))
}

// spanStatus records the status of the answer in the call's span.
func spanStatus(res *http.Response) {
	span := trace.SpanFromContext(res.Request.Context())
	span.SetAttributes(attribute.Int("http.response.status_code", res.StatusCode))
	if res.StatusCode >= 500 {
		span.SetStatus(codes.Error, http.StatusText(res.StatusCode))
	}
}

// spanFailed records in the call's span that no answer came.
func spanFailed(r *http.Request, err error) {
	trace.SpanFromContext(r.Context()).SetStatus(codes.Error, ClassifyError(r, err).String())
}
