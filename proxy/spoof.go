package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/url"
)

// Method spoofing (api.methodSpoofing, docs/proxy-handler.md): Laravel
// and Rails read the real method of a POST from a body field (strategy
// body) or from X-HTTP-Method-Override (strategy header).

// apiSpoofableBody reports whether the body strategy can carry the method
// in a body of this media type: JSON, URL-encoded and multipart forms, and
// an empty body without a type (which becomes a JSON object).
func apiSpoofableBody(mediaType string, empty bool) bool {
	switch {
	case apiIsJSON(mediaType), mediaType == "application/x-www-form-urlencoded", mediaType == "multipart/form-data":
		return true
	default:
		return mediaType == "" && empty
	}
}

// spoofBody returns body with the field "field" set to method, and the
// Content-Type of the result ("" when the request's own still fits). ok is false when the body cannot carry the
// field (a JSON body that is not an object, a malformed multipart body):
// the caller then falls back to the header strategy with the body as is.
func spoofBody(mediaType string, params map[string]string, body []byte, field, method string) (out []byte, contentType string, ok bool) {
	switch {
	case mediaType == "application/x-www-form-urlencoded":
		return spoofForm(body, field, method), "", true
	case mediaType == "multipart/form-data":
		out, contentType, err := spoofMultipart(body, params["boundary"], field, method)
		return out, contentType, err == nil
	case apiIsJSON(mediaType):
		out, ok := spoofJSON(body, field, method)
		return out, "", ok
	case mediaType == "":
		out, ok := spoofJSON(body, field, method)
		return out, "application/json", ok
	}
	return nil, "", false
}

// spoofJSON adds "field":"method" to a JSON object (an empty body counts
// as {}). The client's bytes and key order are kept; a field of that name
// the client sent is replaced, so the backend sees one unambiguous value.
func spoofJSON(body []byte, field, method string) ([]byte, bool) {
	obj := bytes.TrimSpace(body)
	if len(obj) == 0 {
		obj = []byte("{}")
	}
	if obj[0] != '{' {
		return nil, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(obj, &fields); err != nil {
		return nil, false
	}
	val, _ := json.Marshal(method)
	if _, dup := fields[field]; dup {
		fields[field] = val
		out, err := json.Marshal(fields)
		return out, err == nil
	}
	key, _ := json.Marshal(field)
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

// spoofForm appends field=method to a URL-encoded form. Laravel (PHP) and
// Rails (Rack) take the last value of a repeated field.
func spoofForm(body []byte, field, method string) []byte {
	pair := url.QueryEscape(field) + "=" + url.QueryEscape(method)
	body = bytes.TrimRight(body, "\r\n")
	out := make([]byte, 0, len(body)+len(pair)+1)
	out = append(out, body...)
	if len(out) > 0 && out[len(out)-1] != '&' {
		out = append(out, '&')
	}
	return append(out, pair...)
}

// spoofMultipart re-encodes a multipart/form-data body with an extra field
// field=method. Every part is copied raw (headers and bytes, files
// included); the result has a new boundary, returned in its Content-Type
// (not the client's stale one). An empty body becomes a form with the
// single field.
func spoofMultipart(body []byte, boundary, field, method string) ([]byte, string, error) {
	var buf bytes.Buffer
	buf.Grow(len(body) + 256)
	mw := multipart.NewWriter(&buf)
	if len(bytes.TrimSpace(body)) > 0 {
		if boundary == "" {
			return nil, "", errors.New("proxy: multipart body without a boundary")
		}
		mr := multipart.NewReader(bytes.NewReader(body), boundary)
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, "", err
			}
			pw, err := mw.CreatePart(p.Header)
			if err != nil {
				return nil, "", err
			}
			if _, err := io.Copy(pw, p); err != nil {
				return nil, "", err
			}
		}
	}
	if err := mw.WriteField(field, method); err != nil {
		return nil, "", err
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}
