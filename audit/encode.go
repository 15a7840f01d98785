package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/apilayer/apilayer/internal/jsonstr"
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

// appendString appends s as json.Marshal writes it (HTML-safe).
func appendString(dst []byte, s string) []byte { return jsonstr.Append(dst, s, true) }
