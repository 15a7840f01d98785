package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// defaultSensitive are the words that mark a field, header or query
// parameter as secret, in normalised form (see normalise). Matching is by
// substring, so access_token, refreshToken and user_password are masked
// too (next-api-layer matched whole names and logged them).
var defaultSensitive = []string{
	"password", "passwd", "token", "secret", "authorization", "apikey",
	"creditcard", "cardnumber", "cvv", "ssn", "cookie", "session", "privatekey",
}

// normalise lower-cases s and drops "-" and "_", so X-Api-Key, api_key and
// apiKey all read "apikey".
func normalise(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("-", "", "_", "").Replace(s)
}

func sensitiveWords(extra []string) []string {
	out := append([]string(nil), defaultSensitive...)
	for _, w := range extra {
		if n := normalise(w); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// isSensitive reports whether a field, header or parameter name contains a
// sensitive word.
func (c *Client) isSensitive(name string) bool {
	n := normalise(name)
	for _, w := range c.sensitive {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func (c *Client) debug(ctx context.Context, msg string, attrs ...slog.Attr) {
	if c.log == nil {
		return
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}

func (c *Client) logRequest(ctx context.Context, p *prepared, attempt int) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", p.wire),
		slog.String("endpoint", p.endpoint),
		slog.String("url", c.safeURL(p)),
		slog.Int("attempt", attempt),
		slog.Duration("timeout", p.timeout),
	}
	if p.wire != p.method {
		attrs = append(attrs, slog.String("spoofed", p.method))
	}
	if id := p.header.Get(c.cfg.RequestID.Header); id != "" {
		attrs = append(attrs, slog.String("requestId", id))
	}
	if c.cfg.Debug.Headers {
		attrs = append(attrs, slog.Any("headers", c.headerPreview(p.header)))
	}
	if c.cfg.Debug.RequestBody {
		attrs = append(attrs, slog.Any("body", c.requestPreview(p.body)))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "apiclient: request", attrs...)
}

func (c *Client) logResponse(ctx context.Context, p *prepared, out outcome, d time.Duration) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", p.wire),
		slog.String("endpoint", p.endpoint),
		slog.Int("status", out.status),
		slog.Duration("duration", d),
	}
	if c.cfg.Debug.ResponseBody {
		attrs = append(attrs, slog.Any("body", c.responsePreview(out.header, out.body)))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "apiclient: response", attrs...)
}

// safeURL is the request URL with sensitive query parameters masked.
func (c *Client) safeURL(p *prepared) string {
	u := *p.url
	q := u.Query()
	for k := range q {
		if c.isSensitive(k) {
			q[k] = []string{"***"}
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// headerPreview returns the headers with sensitive ones (Authorization,
// Cookie, anything with a sensitive word) as "REDACTED".
func (c *Client) headerPreview(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if c.isSensitive(k) {
			out[k] = "REDACTED"
			continue
		}
		out[k] = c.previewString(strings.Join(v, ", "))
	}
	return out
}

func (c *Client) requestPreview(b payload) any {
	switch {
	case b.form != nil:
		return c.formPreview(b.form)
	case len(b.data) == 0:
		return "(empty)"
	}
	return c.jsonPreview(b.data)
}

func (c *Client) responsePreview(h http.Header, body []byte) any {
	if len(bytes.TrimSpace(body)) == 0 {
		return "(empty)"
	}
	if isJSONBody(h, body) {
		return c.jsonPreview(body)
	}
	return c.previewString(string(body))
}

// jsonPreview decodes a JSON document and formats it: the masking applies
// to request bodies too (next-api-layer logged them as one string).
func (c *Client) jsonPreview(data []byte) any {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return c.previewString(string(data))
	}
	return c.format(v, 0)
}

// format returns a loggable copy of v: sensitive fields masked at any
// depth, strings shortened, arrays and depth limited.
func (c *Client) format(v any, depth int) any {
	if depth > c.cfg.Debug.MaxDepth {
		return "[max depth reached]"
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if c.isSensitive(k) {
				out[k] = "***"
			} else {
				out[k] = c.format(e, depth+1)
			}
		}
		return out
	case []any:
		n := min(len(t), c.cfg.Debug.MaxArrayItems)
		out := make([]any, 0, n+1)
		for _, e := range t[:n] {
			out = append(out, c.format(e, depth+1))
		}
		if len(t) > n {
			out = append(out, fmt.Sprintf("... and %d more items", len(t)-n))
		}
		return out
	case string:
		return c.previewString(t)
	}
	return v
}

var base64Text = regexp.MustCompile(`^[A-Za-z0-9+/]+=*$`)

// previewString summarises data URLs and base64 blobs and truncates long
// strings.
func (c *Client) previewString(s string) string {
	if len(s) >= 50 && strings.HasPrefix(strings.ToLower(s), "data:") {
		mt := s[len("data:"):]
		if i := strings.IndexAny(mt, ";,"); i >= 0 {
			mt = mt[:i]
		}
		if mt == "" {
			mt = "text/plain"
		} else if _, _, err := mime.ParseMediaType(mt); err != nil || len(mt) > 100 {
			mt = "unknown"
		}
		return fmt.Sprintf("[data URL (%s), %s]", mt, formatBytes(len(s)))
	}
	if len(s) > 100 && base64Text.MatchString(s) {
		return fmt.Sprintf("[base64, %s]", formatBytes(len(s)*3/4))
	}
	max := c.cfg.Debug.MaxStringLength
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%s truncated)", formatBytes(len(s)-cut))
}

// formPreview lists a form's fields: sensitive ones masked, files as
// "[File: name, size, type]".
func (c *Client) formPreview(f *Form) map[string]any {
	fields := make(map[string]any)
	for i, p := range f.parts {
		if i == c.cfg.Debug.MaxArrayItems {
			fields["..."] = fmt.Sprintf("and %d more fields", len(f.parts)-i)
			break
		}
		switch {
		case c.isSensitive(p.name):
			fields[p.name] = "***"
		case p.file:
			fields[p.name] = fmt.Sprintf("[File: %s, %s, %s]", c.previewString(p.filename), formatBytes(len(p.content)), p.contentType)
		default:
			fields[p.name] = c.previewString(p.value)
		}
	}
	return map[string]any{"FormData": fields}
}

// formatBytes writes n as B, KB or MB.
func formatBytes(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%dB", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1fKB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1fMB", float64(n)/(1<<20))
}
