package apilayer_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// The trace context a client (or the proxy in front) sends.
const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
)

// tracedEnv is an env whose gateway sends its spans to an in-memory
// recorder (WithTracerProvider).
func tracedEnv(t *testing.T, edit func(*config.Config)) (*env, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return newEnvWith(t, setup{edit: edit, opts: []apilayer.Option{apilayer.WithTracerProvider(tp)}}), rec
}

// spanNamed returns the only ended span named name.
func spanNamed(t *testing.T, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
		if s.Name() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %q, want 1 (spans: %v)", len(found), name, names)
	}
	return found[0]
}

// traceparent parses a traceparent header: trace ID, parent span ID, flags.
func traceparent(t *testing.T, h string) (traceID, spanID, flags string) {
	t.Helper()
	p := strings.Split(h, "-")
	if len(p) != 4 || p[0] != "00" {
		t.Fatalf("traceparent %q is not a W3C traceparent", h)
	}
	return p[1], p[2], p[3]
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

// A page request makes a server span, a child of the client's traceparent,
// with child spans for the validate call and the upstream call; the web
// app and the backend receive a traceparent naming their span, and the
// client's tracestate.
func TestTracingPageRequest(t *testing.T) {
	e, rec := tracedEnv(t, nil)
	alice := e.login("alice")
	res := e.do(req{path: "/dashboard", cookies: map[string]string{"userAuthToken": alice}, header: map[string]string{
		"Traceparent": "00-" + clientTraceID + "-" + clientSpanID + "-01",
		"Tracestate":  "vendor=abc",
	}})
	wantStatus(t, res, http.StatusOK)

	server := spanNamed(t, rec, "GET page")
	validate := spanNamed(t, rec, "backend validate")
	upstream := spanNamed(t, rec, "upstream")
	if got := server.SpanContext().TraceID().String(); got != clientTraceID {
		t.Errorf("server span trace %s, want the client's %s", got, clientTraceID)
	}
	if got := server.Parent().SpanID().String(); got != clientSpanID || !server.Parent().IsRemote() {
		t.Errorf("server span parent %s, want the client's remote span %s", got, clientSpanID)
	}
	if server.SpanKind() != trace.SpanKindServer || upstream.SpanKind() != trace.SpanKindClient || validate.SpanKind() != trace.SpanKindClient {
		t.Errorf("kinds: server %v, upstream %v, validate %v", server.SpanKind(), upstream.SpanKind(), validate.SpanKind())
	}
	for _, child := range []sdktrace.ReadOnlySpan{validate, upstream} {
		if child.Parent().SpanID() != server.SpanContext().SpanID() {
			t.Errorf("%s: parent %s, want the server span %s", child.Name(), child.Parent().SpanID(), server.SpanContext().SpanID())
		}
	}
	for name, want := range map[string]string{
		"http.request.method": "GET", "url.path": "/dashboard", "http.response.status_code": "200",
		"apilayer.kind": "page", "enduser.id": "1", "client.address": "127.0.0.1",
	} {
		if got := attr(server, name); got != want {
			t.Errorf("server span %s = %q, want %q", name, got, want)
		}
	}
	if attr(server, "apilayer.request_id") == "" {
		t.Error("server span has no request ID")
	}
	if got := attr(validate, "http.response.status_code"); got != "200" {
		t.Errorf("validate span status %q, want 200", got)
	}

	// What the web app and the backend received.
	up := e.upstream.Last()
	tid, sid, flags := traceparent(t, up.Header.Get("Traceparent"))
	if tid != clientTraceID || sid != upstream.SpanContext().SpanID().String() || flags != "01" {
		t.Errorf("the web app got traceparent %s, want trace %s, parent %s (the upstream span), sampled",
			up.Header.Get("Traceparent"), clientTraceID, upstream.SpanContext().SpanID())
	}
	if got := up.Header.Get("Tracestate"); got != "vendor=abc" {
		t.Errorf("the web app got tracestate %q, want the client's", got)
	}
	be := e.lastBackend("/api/auth/me")
	tid, sid, _ = traceparent(t, be.Header.Get("Traceparent"))
	if tid != clientTraceID || sid != validate.SpanContext().SpanID().String() {
		t.Errorf("the backend got traceparent %s, want trace %s, parent %s (the validate span)",
			be.Header.Get("Traceparent"), clientTraceID, validate.SpanContext().SpanID())
	}
}

// An API request: a server span "GET api" and an "api" span, whose
// traceparent the backend receives.
func TestTracingAPIRequest(t *testing.T) {
	e, rec := tracedEnv(t, nil)
	res := e.do(req{path: "/api/posts", cookies: map[string]string{"userAuthToken": e.login("alice")}})
	wantStatus(t, res, http.StatusOK)
	server := spanNamed(t, rec, "GET api")
	api := spanNamed(t, rec, "api")
	if api.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Errorf("api span parent %s, want the server span", api.Parent().SpanID())
	}
	if server.Parent().IsValid() {
		t.Errorf("server span without a client traceparent has parent %s, want a new trace", server.Parent().SpanID())
	}
	if got := attr(api, "http.response.status_code"); got != "200" {
		t.Errorf("api span status %q", got)
	}
	tid, sid, _ := traceparent(t, e.lastBackend("/api/posts").Header.Get("Traceparent"))
	if tid != server.SpanContext().TraceID().String() || sid != api.SpanContext().SpanID().String() {
		t.Errorf("the backend's API call got trace %s parent %s, want %s and the api span %s",
			tid, sid, server.SpanContext().TraceID(), api.SpanContext().SpanID())
	}
}

// Refreshes and guest minting are spans too, and no span carries a token,
// a cookie or a user field but the user's id.
func TestTracingSpansCarryNoSecret(t *testing.T) {
	e, rec := tracedEnv(t, nil)
	expired := e.expired("alice")
	res := e.do(req{path: "/dashboard", cookies: map[string]string{"userAuthToken": expired}})
	wantStatus(t, res, http.StatusOK)
	refreshed := setCookies(res)["userAuthToken"]
	if refreshed == nil || refreshed.Value == "" {
		t.Fatal("no refresh happened")
	}
	res = e.do(req{path: "/api/posts"}) // an anonymous API call: a guest is minted
	guest := setCookies(res)["guestAuthToken"]
	if guest == nil || guest.Value == "" {
		t.Fatal("no guest was minted")
	}
	spanNamed(t, rec, "backend refresh")
	spanNamed(t, rec, "backend guest")

	secrets := []string{expired, refreshed.Value, guest.Value, "userAuthToken", "guestAuthToken", "Bearer",
		"Alice", "alice@example.com", demo.GuestPassword}
	for _, s := range rec.Ended() {
		texts := []string{s.Name(), s.Status().Description}
		for _, a := range s.Attributes() {
			k := strings.ToLower(string(a.Key))
			for _, bad := range []string{"token", "cookie", "authorization", "user.name", "email", "password"} {
				if strings.Contains(k, bad) {
					t.Errorf("span %q has the attribute %s", s.Name(), a.Key)
				}
			}
			texts = append(texts, string(a.Key)+"="+a.Value.String())
		}
		for _, ev := range s.Events() {
			texts = append(texts, ev.Name)
			for _, a := range ev.Attributes {
				texts = append(texts, a.Value.String())
			}
		}
		for _, text := range texts {
			for _, secret := range secrets {
				if strings.Contains(text, secret) {
					t.Errorf("span %q carries %q in %q", s.Name(), secret, text)
				}
			}
		}
		if id := attr(s, "enduser.id"); id != "" && id != "1" {
			t.Errorf("span %q: enduser.id %q, want alice's id 1", s.Name(), id)
		}
	}
}

// Without tracing, the gateway makes no span and a client's traceparent
// reaches the web app and the backend as it was sent.
func TestTracingOffPassesTraceparentThrough(t *testing.T) {
	e := newEnv(t, nil)
	tp := "00-" + clientTraceID + "-" + clientSpanID + "-01"
	h := map[string]string{"Traceparent": tp, "Tracestate": "vendor=abc"}
	tok := e.login("alice")
	wantStatus(t, e.do(req{path: "/dashboard", cookies: map[string]string{"userAuthToken": tok}, header: h}), http.StatusOK)
	if got := e.upstream.Last().Header.Get("Traceparent"); got != tp {
		t.Errorf("the web app got traceparent %q, want the client's %q", got, tp)
	}
	wantStatus(t, e.do(req{path: "/api/posts", cookies: map[string]string{"userAuthToken": tok}, header: h}), http.StatusOK)
	if got := e.lastBackend("/api/posts").Header.Get("Traceparent"); got != tp {
		t.Errorf("the backend's API call got traceparent %q, want the client's %q", got, tp)
	}
}

// countingBuilder is a TracerBuilder that records its spans in memory and
// counts the providers it built and closed.
type countingBuilder struct {
	rec            *tracetest.SpanRecorder
	built, closed  atomic.Int32
	lastSampleRate float64
}

func (b *countingBuilder) build(c config.Tracing, _ *slog.Logger) (trace.TracerProvider, io.Closer, error) {
	b.built.Add(1)
	b.lastSampleRate = *c.SampleRatio
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b.rec), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	return tp, closerFunc(func() error { b.closed.Add(1); return tp.Shutdown(context.Background()) }), nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// tracing.enabled builds its provider with the WithTracing builder; a
// reload keeps it while tracing.* is unchanged and builds a new one when it
// changes; the replaced one and the last are closed.
func TestWithTracingBuildsAndKeeps(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	tb := &countingBuilder{rec: tracetest.NewSpanRecorder()}
	one := 1.0
	c := config.Config{
		Backend:  config.Backend{URL: b.URL()},
		Upstream: config.Upstream{URL: up.URL()},
		Tracing:  config.Tracing{Enabled: true, Exporter: "stdout", SampleRatio: &one},
	}
	gw, err := apilayer.New(c, apilayer.WithTracing(tb.build))
	if err != nil {
		t.Fatal(err)
	}
	s := apilayer.NewServer(gw)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	page := func() {
		t.Helper()
		res, err := srv.Client().Get(srv.URL + "/page")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	page()
	if n := len(tb.rec.Ended()); n == 0 {
		t.Error("no span recorded by the builder's provider")
	}
	reload := func() {
		t.Helper()
		if err := s.Reload(func() (*config.Config, error) { cc := c; return &cc, nil }); err != nil {
			t.Fatal(err)
		}
		apilayer.WaitDrained(s)
	}
	c.Log.Level = "debug" // not tracing.*: the provider is kept
	reload()
	if n, m := tb.built.Load(), tb.closed.Load(); n != 1 || m != 0 {
		t.Errorf("after a reload that left tracing.* alone: built %d, closed %d; want 1, 0", n, m)
	}
	half := 0.5
	c.Tracing.SampleRatio = &half
	reload()
	if n, m := tb.built.Load(), tb.closed.Load(); n != 2 || m != 1 || tb.lastSampleRate != 0.5 {
		t.Errorf("after a reload that changed tracing.sampleRatio: built %d, closed %d, ratio %v; want 2, 1, 0.5", n, m, tb.lastSampleRate)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if m := tb.closed.Load(); m != 2 {
		t.Errorf("after Close: closed %d, want 2", m)
	}
}

// Without WithTracing (nor WithTracerProvider), tracing.enabled is refused
// with an error that says what to add.
func TestTracingEnabledNeedsABuilder(t *testing.T) {
	_, err := apilayer.New(config.Config{
		Backend:  config.Backend{URL: "http://127.0.0.1:1/"},
		Upstream: config.Upstream{URL: "http://127.0.0.1:2/"},
		Tracing:  config.Tracing{Enabled: true},
	})
	if err == nil || !strings.Contains(err.Error(), "apilayer.WithTracing(tracing.Build)") {
		t.Fatalf("New = %v, want an error naming apilayer.WithTracing(tracing.Build)", err)
	}
}

// The apilayer package depends on the OpenTelemetry API only: a program
// that does not trace links neither the SDK nor the exporters (nor gRPC).
func TestNoOpenTelemetrySDKLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "go.opentelemetry.io/otel/sdk") || strings.HasPrefix(dep, "go.opentelemetry.io/otel/exporters") ||
			strings.HasPrefix(dep, "google.golang.org/grpc") {
			t.Errorf("the apilayer package links %s", dep)
		}
	}
}
