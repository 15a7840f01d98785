package apiclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// Form is a multipart/form-data body: text fields and files, in order.
// Pass a *Form as the body of Post, Put or Patch. Text fields are
// sanitized like JSON strings (a field name's "." and "[...]" parts are
// its path segments, so "post[content]" is skipped by the skip field
// "post.content" or "content"); files are sent as they are. The client
// never changes a Form, so one may be sent several times.
type Form struct {
	parts []formPart
}

type formPart struct {
	name        string
	value       string // text fields
	file        bool
	filename    string
	contentType string
	content     []byte
}

// NewForm returns an empty Form.
func NewForm() *Form { return &Form{} }

// Add appends a text field and returns f.
func (f *Form) Add(name, value string) *Form {
	f.parts = append(f.parts, formPart{name: name, value: value})
	return f
}

// AddFile appends a file and returns f. An empty contentType means
// application/octet-stream. The content is kept, not copied: do not change
// it while calls use f.
func (f *Form) AddFile(name, filename, contentType string, content []byte) *Form {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	f.parts = append(f.parts, formPart{name: name, file: true, filename: filename, contentType: contentType, content: content})
	return f
}

// payload is an encoded request body.
type payload struct {
	data        []byte
	contentType string
	form        *Form // the form actually sent (after sanitizing), for the debug log
}

// encodeBody turns a call's body into JSON or multipart bytes, sanitized
// and with the spoofed method field when spoofField is set. spoofed is
// false when the body could not carry the field (the caller then uses the
// header).
func (c *Client) encodeBody(endpoint string, body any, o *callOptions, spoofField, spoofMethod string) (p payload, spoofed bool, err error) {
	san := c.san
	if o.skipSanitize || (san != nil && san.SkipsEndpoint(endpoint)) {
		san = nil
	}
	if f, ok := body.(*Form); ok {
		if f == nil {
			body = nil
		} else {
			sent := f.sanitized(san, o.skipFields)
			if spoofField != "" {
				sent.Add(spoofField, spoofMethod)
				spoofed = true
			}
			data, ct, err := sent.encode()
			if err != nil {
				return payload{}, false, err
			}
			return payload{data: data, contentType: ct, form: sent}, spoofed, nil
		}
	}
	if body == nil {
		if spoofField == "" {
			return payload{}, false, nil
		}
		data, _ := marshal(map[string]string{spoofField: spoofMethod})
		return payload{data: data, contentType: "application/json"}, true, nil
	}
	data, err := marshal(body)
	if err != nil {
		return payload{}, false, fmt.Errorf("apiclient: encode body: %w", err)
	}
	if san != nil {
		if data, err = sanitizeJSON(san, endpoint, data, o.skipFields); err != nil {
			return payload{}, false, err
		}
	}
	if spoofField != "" {
		if out, ok := addJSONField(data, spoofField, spoofMethod); ok {
			data, spoofed = out, true
		}
	}
	return payload{data: data, contentType: "application/json"}, spoofed, nil
}

// marshal encodes v as JSON without escaping <, > and & (the backend gets
// the text as written; the sanitizer, not the encoding, deals with HTML).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// sanitizeJSON sanitizes a JSON document. Without per-call skip fields it
// rewrites only the strings that change; with them it decodes the document
// (numbers kept exact) and encodes it again.
func sanitizeJSON(san Sanitizer, endpoint string, data []byte, extra []string) ([]byte, error) {
	if len(extra) == 0 {
		out, err := san.Sanitize(endpoint, data)
		if err != nil {
			return nil, fmt.Errorf("apiclient: sanitize body: %w", err)
		}
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("apiclient: sanitize body: %w", err)
	}
	out, err := marshal(san.Value(v, extra...))
	if err != nil {
		return nil, fmt.Errorf("apiclient: sanitize body: %w", err)
	}
	return out, nil
}

// addJSONField adds "field":"value" to a JSON object, replacing a field of
// that name. ok is false for a document that is not an object.
func addJSONField(data []byte, field, value string) ([]byte, bool) {
	obj := bytes.TrimSpace(data)
	if len(obj) == 0 || obj[0] != '{' {
		return nil, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(obj, &fields); err != nil {
		return nil, false
	}
	val, _ := marshal(value)
	if _, dup := fields[field]; dup {
		fields[field] = val
		out, err := marshal(fields)
		return out, err == nil
	}
	key, _ := marshal(field)
	inner := bytes.TrimSpace(obj[1 : len(obj)-1])
	out := make([]byte, 0, len(obj)+len(key)+len(val)+3)
	out = append(out, '{')
	out = append(out, inner...)
	if len(inner) > 0 {
		out = append(out, ',')
	}
	out = append(out, key...)
	out = append(out, ':')
	out = append(out, val...)
	return append(out, '}'), true
}

// sanitized returns a copy of f with its text fields sanitized.
func (f *Form) sanitized(san Sanitizer, extra []string) *Form {
	out := &Form{parts: make([]formPart, len(f.parts))}
	copy(out.parts, f.parts)
	if san == nil {
		return out
	}
	for i := range out.parts {
		p := &out.parts[i]
		if p.file {
			continue
		}
		p.value = sanitizeField(san, p.name, p.value, extra)
	}
	return out
}

// sanitizeField sanitizes one form value, with the field name's segments
// as its path so that skip fields apply as they do to JSON.
func sanitizeField(san Sanitizer, name, value string, extra []string) string {
	segs := fieldPath(name)
	if len(segs) == 0 {
		return san.String(value)
	}
	var v any = value
	for i := len(segs) - 1; i >= 0; i-- {
		v = map[string]any{segs[i]: v}
	}
	v = san.Value(v, extra...)
	for _, s := range segs {
		m, ok := v.(map[string]any)
		if !ok {
			return san.String(value)
		}
		v = m[s]
	}
	if s, ok := v.(string); ok {
		return s
	}
	return san.String(value)
}

// fieldPath splits "post[tags][0].name" into post, tags, name: array
// indices are not segments, as in package sanitize.
func fieldPath(name string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(name, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
		if strings.Trim(s, "0123456789") == "" {
			continue
		}
		out = append(out, s)
	}
	return out
}

// encode writes f as multipart/form-data with a fresh boundary.
func (f *Form) encode() ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range f.parts {
		if !p.file {
			if err := w.WriteField(p.name, p.value); err != nil {
				return nil, "", fmt.Errorf("apiclient: encode form: %w", err)
			}
			continue
		}
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, escapeQuotes(p.name), escapeQuotes(p.filename)))
		h.Set("Content-Type", p.contentType)
		pw, err := w.CreatePart(h)
		if err == nil {
			_, err = pw.Write(p.content)
		}
		if err != nil {
			return nil, "", fmt.Errorf("apiclient: encode form: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", fmt.Errorf("apiclient: encode form: %w", err)
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "%0D", "\n", "%0A")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }
