package apilayer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/apilayer/apilayer/internal/tracectx"
)

// startSpan starts the server span of a request (tracing, see
// docs/deployment.md#tracing): a child of the traceparent the request
// carries, if any. The backend calls and the proxies make their spans its
// children, and send them on as their traceparent.
func (g *Gateway) startSpan(r *http.Request) (context.Context, trace.Span) {
	ctx := tracectx.Extract(r.Context(), r.Header)
	return g.tracer.Start(ctx, r.Method, serverKind...)
}

// serverKind is the option of every server span, made once.
var serverKind = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

// endSpan names the server span after the method and the kind of request
// ("GET page", "POST auth"), records what the request was and ends it.
// Attributes never carry a token, a cookie or a user field but the user's
// id: the method, the cleaned path (never the query), the status, the
// request ID, the client address and enduser.id.
func (g *Gateway) endSpan(x *exchange, status int) {
	s := x.span
	if !s.IsRecording() {
		s.End()
		return
	}
	s.SetName(x.r.Method + " " + x.rec.kind)
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", x.r.Method),
		attribute.String("url.path", x.url.Path),
		attribute.Int("http.response.status_code", status),
		attribute.String("apilayer.kind", x.rec.kind),
		attribute.String("apilayer.request_id", x.id),
		attribute.String("client.address", x.info.IP.String()),
	}
	if id := spanUserID(x); id != "" {
		attrs = append(attrs, attribute.String("enduser.id", id))
	}
	s.SetAttributes(attrs...)
	if status >= 500 {
		s.SetStatus(codes.Error, strconv.Itoa(status)+" "+http.StatusText(status))
	}
	s.End()
}

// spanUserID is the id of the signed-in user of the request: the "id" or
// "sub" field of the backend's user object, nothing else of it; "" for a
// guest or an anonymous visitor.
func spanUserID(x *exchange) string {
	id := x.val.User()
	if x.authed {
		id = x.out.Identity
	}
	if id == nil || id.Type == "guest" {
		return ""
	}
	for _, k := range [...]string{"id", "sub"} {
		switch v := id.User[k].(type) {
		case string:
			if v != "" {
				return v
			}
		case json.Number:
			return v.String()
		case float64, int, int64:
			return fmt.Sprint(v)
		}
	}
	return ""
}
