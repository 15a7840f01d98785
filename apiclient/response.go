package apiclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// ErrNoData is returned by Response.Decode when the response has no JSON
// data: an empty body (204), a non-JSON body (an HTML error page), or an
// envelope without "data".
var ErrNoData = errors.New("apiclient: response has no data")

// Response is the backend's answer in the envelope of the backend contract
// ({"success", "data", "message", "errors"}). Every call that got an answer
// returns one, whatever its status; each caller gets its own copy, so it
// may be changed freely.
//
// A JSON object with a "success" or "data" key is read as an envelope. Any
// other JSON body is the data itself (Data is the whole body). An empty
// body (204) or a body that is not JSON (text, an HTML error page) is not
// an error: Data is nil and the bytes are in Body.
type Response struct {
	// Status is the HTTP status.
	Status int
	// Header holds the backend's response headers.
	Header http.Header
	// Success is the envelope's "success" when it has one, else whether
	// Status is 2xx. It is false for any status outside 2xx.
	Success bool
	// Data is the envelope's "data", or the whole body for a JSON body that
	// is not an envelope; nil without JSON data.
	Data json.RawMessage
	// Message is the body's "message" when it is a string.
	Message string
	// Errors is the body's "errors": an object of field names to a message
	// or a list of messages. Messages that are not strings are kept as
	// JSON text; an "errors" list is kept under the key "".
	Errors map[string][]string
	// Body is the raw body.
	Body []byte

	errorOrder []string
}

// Decode unmarshals Data into v. It returns ErrNoData when there is none.
func (r *Response) Decode(v any) error {
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return ErrNoData
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		return fmt.Errorf("apiclient: decode data: %w", err)
	}
	return nil
}

// IsJSON reports whether the body was JSON.
func (r *Response) IsJSON() bool { return len(r.Body) > 0 && isJSONBody(r.Header, r.Body) }

// isJSONBody reports whether body is JSON: a valid document with a JSON
// media type, or a valid object or array sent as text/plain or without a
// type (sloppy backends, and Go's content sniffing, label JSON so).
func isJSONBody(h http.Header, body []byte) bool {
	mt := ""
	if ct := h.Get("Content-Type"); ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return false
		}
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return json.Valid(body)
	case mt == "" || mt == "text/plain":
		b := bytes.TrimSpace(body)
		return len(b) > 0 && (b[0] == '{' || b[0] == '[') && json.Valid(b)
	}
	return false
}

// newResponse builds a Response from an answer; it takes ownership of
// header and body.
func newResponse(status int, header http.Header, body []byte) *Response {
	r := &Response{Status: status, Header: header, Body: body}
	ok2xx := status >= 200 && status < 300
	r.Success = ok2xx
	if len(bytes.TrimSpace(body)) == 0 || !isJSONBody(header, body) {
		return r
	}
	trimmed := bytes.TrimSpace(body)
	if trimmed[0] != '{' {
		r.Data = trimmed
		return r
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &env); err != nil {
		r.Data = trimmed
		return r
	}
	if raw, ok := env["message"]; ok {
		var m string
		if json.Unmarshal(raw, &m) == nil {
			r.Message = m
		}
	}
	if raw, ok := env["errors"]; ok {
		r.Errors, r.errorOrder = parseErrors(raw)
	}
	rawSuccess, hasSuccess := env["success"]
	rawData, hasData := env["data"]
	if !hasSuccess && !hasData {
		r.Data = trimmed
		return r
	}
	if hasData {
		r.Data = rawData
	}
	if hasSuccess {
		var b bool
		if json.Unmarshal(rawSuccess, &b) == nil {
			r.Success = b && ok2xx
		}
	}
	return r
}

// parseErrors reads an "errors" value, keeping the order of the keys.
func parseErrors(raw json.RawMessage) (map[string][]string, []string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	switch raw[0] {
	case '[':
		msgs := messages(raw)
		if len(msgs) == 0 {
			return nil, nil
		}
		return map[string][]string{"": msgs}, []string{""}
	case '{':
	default:
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return nil, nil
	}
	out := make(map[string][]string)
	var order []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil
		}
		if _, dup := out[key]; !dup {
			order = append(order, key)
		}
		out[key] = messages(v)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, order
}

// messages turns a message or a list of messages into strings.
func messages(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		out := make([]string, 0, len(list))
		for _, item := range list {
			if json.Unmarshal(item, &s) == nil {
				out = append(out, s)
			} else {
				out = append(out, string(item))
			}
		}
		return out
	}
	return []string{string(bytes.TrimSpace(raw))}
}
