package proxy

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// clientKind is the option of every client span, made once.
var clientKind = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}

// sampled reports whether the trace of ctx is recorded: only then does a
// proxied call get a span of its own. The call of a trace that is not
// recorded carries the trace context of the request's span instead (with
// its flag "not sampled"), which costs no span and no copy of the request.
func sampled(ctx context.Context) bool {
	return trace.SpanContextFromContext(ctx).IsSampled()
}

// startSpan starts the client span of a proxied call: its method and the
// path it is sent to (never the query, which may carry secrets).
func startSpan(ctx context.Context, t trace.Tracer, name, method, path string) (context.Context, trace.Span) {
	ctx, span := t.Start(ctx, name, clientKind...)
	if span.IsRecording() {
		span.SetAttributes(
			attribute.String("http.request.method", method),
			attribute.String("url.path", path),
		)
	}
	return ctx, span
}

// spanStatus records the status of the answer in the call's span.
func spanStatus(res *http.Response) {
	span := trace.SpanFromContext(res.Request.Context())
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.Int("http.response.status_code", res.StatusCode))
	if res.StatusCode >= 500 {
		span.SetStatus(codes.Error, http.StatusText(res.StatusCode))
	}
}

// spanFailed records in the call's span that no answer came.
func spanFailed(r *http.Request, err error) {
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetStatus(codes.Error, ClassifyError(r, err).String())
	}
}
