package tracing

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/apilayer/apilayer/config"
)

// failing is an exporter whose next results are scripted.
type failing struct {
	sdktrace.SpanExporter
	results []error
}

func (f *failing) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	err := f.results[0]
	f.results = f.results[1:]
	return err
}

// Export failures are logged once per change, not once per batch, and
// never handed to the SDK's global error handler.
func TestReportingLogsOncePerChange(t *testing.T) {
	var logs bytes.Buffer
	down := errors.New("connection refused")
	r := &reporting{
		SpanExporter: &failing{results: []error{down, down, down, nil, nil, down}},
		log:          slog.New(slog.NewTextHandler(&logs, nil)),
		exporter:     "otlp-http",
	}
	for range 6 {
		if err := r.ExportSpans(context.Background(), nil); err != nil {
			t.Fatalf("ExportSpans returned %v: the SDK would log it on each batch", err)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	want := []string{"cannot export spans", "exporting spans again", "cannot export spans"}
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s\nwant %d lines", logs.String(), len(want))
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d %q, want %q", i, lines[i], w)
		}
	}
}

// The stdout exporter writes each span, and Close flushes them.
func TestStdoutExporter(t *testing.T) {
	var out bytes.Buffer
	one := 1.0
	p, err := New(config.Tracing{Enabled: true, Exporter: "stdout", SampleRatio: &one, ServiceName: "gw"}, Options{Stdout: &out, Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.Tracer("test").Start(context.Background(), "GET page")
	span.End()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"Name":"GET page"`, `"gw"`, `"v1"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %s:\n%s", want, out.String())
		}
	}
}

func TestHTTPEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://collector:4318":            "http://collector:4318/v1/traces",
		"http://collector:4318/":           "http://collector:4318/v1/traces",
		"https://c.example/otlp/v1/traces": "https://c.example/otlp/v1/traces",
	} {
		if got := httpEndpoint(in); got != want {
			t.Errorf("httpEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnknownExporter(t *testing.T) {
	if _, err := New(config.Tracing{Exporter: "zipkin"}, Options{}); err == nil {
		t.Error("New with exporter zipkin succeeded")
	}
}
