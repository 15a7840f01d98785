package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends e, encoded exactly as [Event.MarshalJSON] encodes it,
// to dst. The logger encodes every event with it into one buffer per batch:
// json.Marshal of an event took a dozen allocations (the wire struct, the
// timestamp string, the sorted map keys, the result), and an audit log
// with auth:success on sees one event per request.
//
// The output is the output of encoding/json, byte for byte: the fields in
// the wireEvent order with its omitempty rules, strings escaped as
// json.Marshal escapes them (HTML-safe, invalid UTF-8 as U+FFFD), metadata
// keys sorted. Metadata values other than strings, booleans and integers
// go through json.Marshal; an error there is returned, with dst unchanged.
func (e Event) AppendJSON(dst []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, e.Type)
	dst = append(dst, `,"timestamp":"`...)
	dst = e.Timestamp.UTC().AppendFormat(dst, TimeFormat)
	dst = append(dst, `","ip":`...)
	dst = appendString(dst, e.IP)
	if e.UserID != "" {
		dst = append(dst, `,"userId":`...)
		dst = appendString(dst, e.UserID)
	}
	dst = append(dst, `,"path":`...)
	dst = appendString(dst, e.Path)
	dst = append(dst, `,"method":`...)
	dst = appendString(dst, e.Method)
	dst = append(dst, `,"success":`...)
	dst = strconv.AppendBool(dst, e.Success)
	if e.RequestID != "" {
		dst = append(dst, `,"requestId":`...)
		dst = appendString(dst, e.RequestID)
	}
	if len(e.Metadata) > 0 {
		dst = append(dst, `,"metadata":{`...)
		var err error
		if dst, err = appendMetadata(dst, e.Metadata); err != nil {
			return dst[:start], fmt.Errorf("audit: encode %s event: %w", e.Type, err)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

// appendMetadata appends the members of m, keys sorted as encoding/json
// sorts them. Most events carry one or two members.
func appendMetadata(dst []byte, m map[string]any) ([]byte, error) {
	var small [4]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		switch v := m[k].(type) {
		case string:
			dst = appendString(dst, v)
		case bool:
			dst = strconv.AppendBool(dst, v)
		case int:
			dst = strconv.AppendInt(dst, int64(v), 10)
		case int64:
			dst = strconv.AppendInt(dst, v, 10)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return dst, fmt.Errorf("metadata %q: %w", k, err)
			}
			dst = append(dst, b...)
		}
	}
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as json.Marshal
// escapes it: quotes, backslashes and control characters; <, > and & as
// \u003c, \u003e and \u0026; U+2028 and U+2029; invalid UTF-8 as \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
