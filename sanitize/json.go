package sanitize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/apilayer/apilayer/internal/jsonstr"
)

// Sanitize returns body, a JSON document, with the mode applied to every
// string value not exempted by Options.SkipFields. Keys, numbers, booleans,
// null, whitespace and key order are copied byte for byte, and so is every
// string the mode leaves unchanged; when nothing changes, body itself is
// returned. An endpoint matching Options.SkipEndpoints returns body
// unchanged without parsing it. A body that is not valid JSON (an empty one
// included) returns an error wrapping ErrNotJSON.
func (s *Sanitizer) Sanitize(endpoint string, body []byte) ([]byte, error) {
	if s.SkipsEndpoint(endpoint) {
		return body, nil
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("%w (%d bytes)", ErrNotJSON, len(body))
	}
	w := walker{s: s, in: body, skip: s.skip}
	w.value()
	if w.out == nil {
		return body, nil
	}
	return append(w.out, body[w.copied:]...), nil
}

// walker rewrites the string values of a document already checked by
// json.Valid, so it can scan without reporting syntax errors. Output is
// built lazily: out stays nil until a string changes, and copied marks how
// much of in has been copied to out.
type walker struct {
	s      *Sanitizer
	in     []byte
	pos    int
	out    []byte
	copied int
	skip   [][]string
	path   []string // object keys from the root; array indices left out
}

func (w *walker) ws() {
	for w.pos < len(w.in) {
		switch w.in[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// value scans one value at w.pos (after whitespace).
func (w *walker) value() {
	w.ws()
	if len(w.skip) > 0 && skipped(w.path, w.skip) {
		w.skipValue()
		return
	}
	switch w.in[w.pos] {
	case '{':
		w.pos++
		for {
			w.ws()
			if w.in[w.pos] == '}' {
				w.pos++
				return
			}
			if w.in[w.pos] == ',' {
				w.pos++
				w.ws()
			}
			start := w.pos
			w.pos = stringEnd(w.in, start)
			if len(w.skip) > 0 {
				w.path = append(w.path, decodeString(w.in[start:w.pos]))
			}
			w.ws()
			w.pos++ // ':'
			w.value()
			if len(w.skip) > 0 {
				w.path = w.path[:len(w.path)-1]
			}
		}
	case '[':
		w.pos++
		for {
			w.ws()
			switch w.in[w.pos] {
			case ']':
				w.pos++
				return
			case ',':
				w.pos++
			}
			w.value()
		}
	case '"':
		start := w.pos
		w.pos = stringEnd(w.in, start)
		raw := w.in[start:w.pos]
		v := decodeString(raw)
		if sv := w.s.String(v); sv != v {
			w.out = append(w.out, w.in[w.copied:start]...)
			w.out = appendString(w.out, sv)
			w.copied = w.pos
		}
	default: // number, true, false, null
		for w.pos < len(w.in) {
			switch w.in[w.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			w.pos++
		}
	}
}

// skipValue passes over one value without looking inside strings.
func (w *walker) skipValue() {
	w.ws()
	depth := 0
	for w.pos < len(w.in) {
		switch c := w.in[w.pos]; c {
		case '"':
			w.pos = stringEnd(w.in, w.pos)
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return // end of the enclosing container
			}
			depth--
			if depth == 0 {
				w.pos++
				return
			}
		case ',':
			if depth == 0 {
				return
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return
			}
		}
		w.pos++
	}
}

// stringEnd returns the index just past the string starting with the quote
// at in[start].
func stringEnd(in []byte, start int) int {
	for i := start + 1; i < len(in); i++ {
		switch in[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(in)
}

// decodeString decodes a quoted JSON string (valid, as checked by
// json.Valid). Invalid UTF-8 becomes U+FFFD, as encoding/json does.
func decodeString(raw []byte) string {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body)
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		// Unreachable for a document json.Valid accepted; sanitize the
		// bytes as they are rather than lose the value.
		return string(body)
	}
	return v
}

// appendString appends v as a JSON string, as encoding/json with
// SetEscapeHTML(false) would: HTML characters are not turned into \u003c and
// friends (the backend reads JSON and the mode already did the HTML work).
func appendString(out []byte, v string) []byte { return jsonstr.Append(out, v, false) }
