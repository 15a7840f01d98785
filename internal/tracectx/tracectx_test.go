package tracectx

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Inject writes what the OpenTelemetry propagator writes, and replaces a
// client's headers.
func TestInjectIsTheW3CPropagators(t *testing.T) {
	ts, _ := trace.ParseTraceState("vendor=abc,other=1")
	for _, flags := range []trace.TraceFlags{0, trace.FlagsSampled, trace.FlagsSampled | trace.FlagsRandom, 0xff} {
		for _, state := range []trace.TraceState{{}, ts} {
			sc := trace.NewSpanContext(trace.SpanContextConfig{
				TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
				SpanID:     trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
				TraceFlags: flags,
				TraceState: state,
			})
			ctx := trace.ContextWithSpanContext(context.Background(), sc)
			want := http.Header{}
			propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(want))
			got := http.Header{"Traceparent": {"00-client"}, "Tracestate": {"client=1"}}
			Inject(ctx, got)
			if got.Get("Traceparent") != want.Get("Traceparent") || got.Get("Tracestate") != want.Get("Tracestate") || len(got) != len(want) {
				t.Errorf("flags %v state %q: Inject wrote %v, the propagator %v", flags, state, got, want)
			}
		}
	}
	h := http.Header{"Traceparent": {"00-client"}, "Tracestate": {"client=1"}}
	Inject(context.Background(), h)
	if len(h) != 0 {
		t.Errorf("without a span, Inject left %v", h)
	}
}

// Extract reads a traceparent, and ignores a tracestate without one.
func TestExtract(t *testing.T) {
	h := http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "Tracestate": {"vendor=abc"}}
	sc := trace.SpanContextFromContext(Extract(context.Background(), h))
	if !sc.IsValid() || !sc.IsRemote() || !sc.IsSampled() || sc.TraceState().String() != "vendor=abc" {
		t.Errorf("Extract = %+v", sc)
	}
	ctx := context.Background()
	if got := Extract(ctx, http.Header{"Tracestate": {"vendor=abc"}}); got != ctx {
		t.Error("a tracestate alone made a new context")
	}
	empty := http.Header{"Accept": {"text/html"}}
	if n := testing.AllocsPerRun(100, func() { Extract(ctx, empty) }); n != 0 {
		t.Errorf("Extract without a traceparent allocates %v times", n)
	}
}
