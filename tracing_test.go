package apilayer_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// collector is a fake OTLP/HTTP collector that counts the exports it
// receives.
type collector struct {
	srv     *httptest.Server
	exports atomic.Int64
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			c.exports.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// tracing.* builds the provider: spans reach an OTLP collector;
// sampleRatio 0 records no new trace, but a sampled parent's, and the web
// app is told the decision.
func TestTracingConfigExportsToACollector(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	for _, tc := range []struct {
		name        string
		ratio       float64
		traceparent string
		exported    bool
		flags       string
	}{
		{"ratio 1", 1, "", true, "01"},
		{"ratio 0", 0, "", false, "00"},
		{"ratio 0, sampled parent", 0, "00-" + clientTraceID + "-" + clientSpanID + "-01", true, "01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			col := newCollector(t)
			ratio := tc.ratio
			gw, err := apilayer.New(config.Config{
				Backend:  config.Backend{URL: b.URL()},
				Upstream: config.Upstream{URL: up.URL()},
				Tracing:  config.Tracing{Enabled: true, Endpoint: col.srv.URL, SampleRatio: &ratio},
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(gw.Handler())
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
			if tc.traceparent != "" {
				req.Header.Set("Traceparent", tc.traceparent)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			srv.Close()
			if err := gw.Close(); err != nil { // flushes the spans
				t.Fatal(err)
			}
			if got := col.exports.Load() > 0; got != tc.exported {
				t.Errorf("exported: %v, want %v", got, tc.exported)
			}
			if _, _, flags := traceparent(t, up.Last().Header.Get("Traceparent")); flags != tc.flags {
				t.Errorf("the web app got flags %s, want %s", flags, tc.flags)
			}
		})
	}
}

// A collector that cannot be reached changes nothing for requests: they
// are answered, and one log line says the spans are dropped.
func TestTracingUnreachableCollector(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	var logs lockedBuffer
	one := 1.0
	for _, exporter := range []string{"otlp-http", "otlp-grpc"} {
		t.Run(exporter, func(t *testing.T) {
			logs = lockedBuffer{}
			gw, err := apilayer.New(config.Config{
				Backend:  config.Backend{URL: b.URL()},
				Upstream: config.Upstream{URL: up.URL()},
				Tracing:  config.Tracing{Enabled: true, Exporter: exporter, Endpoint: "http://" + freeAddr(t), SampleRatio: &one},
			}, apilayer.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			if err != nil {
				t.Fatalf("New with an unreachable collector: %v", err)
			}
			srv := httptest.NewServer(gw.Handler())
			for i := range 20 {
				res, err := srv.Client().Get(srv.URL + fmt.Sprintf("/page/%d", i))
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Fatalf("request %d: %d, want 200", i, res.StatusCode)
				}
			}
			srv.Close()
			start := time.Now()
			if err := gw.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			t.Logf("Close flushed to an unreachable collector in %v", time.Since(start).Round(time.Millisecond))
			lines := withMsg(jsonLines(t, &logs), "tracing: cannot export spans: they are dropped until the collector answers (requests are not affected)")
			if len(lines) != 1 {
				t.Errorf("%d lines about the export, want 1:\n%s", len(lines), logText(&logs))
			}
		})
	}
}
