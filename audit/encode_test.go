package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// reference is the encoding AppendJSON must reproduce: encoding/json on
// the wire struct.
func reference(t testing.TB, e Event) []byte {
	b, err := json.Marshal(wireEvent{
		Type: e.Type, Timestamp: e.Timestamp.UTC().Format(TimeFormat), IP: e.IP, UserID: e.UserID,
		Path: e.Path, Method: e.Method, Success: e.Success, RequestID: e.RequestID, Metadata: e.Metadata,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	ts := time.Date(2026, 11, 26, 22, 10, 5, 123456789, time.FixedZone("x", 3600))
	events := []Event{
		{Type: TypeAuthSuccess, Timestamp: ts},
		{
			Type: TypeAuthFail, Timestamp: ts, IP: "192.0.2.1", UserID: "u<1>&", Path: "/a\"b\\c\n\t\r\b\f\x00\x1f\x7f",
			Method: "GET", Success: true, RequestID: "r1",
			Metadata: map[string]any{"reason": "no-token", "minted": true, "n": 42, "n64": int64(-7)},
		},
		{Type: "x", Path: "\u2028\u2029é日本\xff\xfe\xc3", Metadata: map[string]any{
			"float": 1.5, "big": 1e21, "tiny": 1e-7, "nil": nil, "list": []string{"a", "<b>"},
			"nested": map[string]any{"z": 1, "a": "\u2028"}, "raw": json.RawMessage(`{"k": [1, 2]}`),
			"": "empty key", "k\"ey<>": "v",
		}},
		{Type: "y", Metadata: map[string]any{}},
	}
	for i, e := range events {
		got, err := e.AppendJSON([]byte("prefix"))
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		want := append([]byte("prefix"), reference(t, e)...)
		if !bytes.Equal(got, want) {
			t.Errorf("event %d:\n got %s\nwant %s", i, got, want)
		}
		if m, _ := e.MarshalJSON(); !bytes.Equal(m, want[len("prefix"):]) {
			t.Errorf("event %d: MarshalJSON = %s", i, m)
		}
	}
}

func TestAppendJSONError(t *testing.T) {
	e := Event{Type: "x", Metadata: map[string]any{"bad": math.Inf(1)}}
	got, err := e.AppendJSON([]byte("keep"))
	if err == nil {
		t.Fatal("an unencodable metadata value gave no error")
	}
	if string(got) != "keep" {
		t.Errorf("dst after an error = %q, want it unchanged", got)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("auth:success", "/p<a>th", "v\u2028\xff", "id")
	f.Fuzz(func(t *testing.T, typ, path, value, user string) {
		e := Event{Type: typ, Path: path, UserID: user, Timestamp: time.Unix(1700000000, 0),
			Metadata: map[string]any{value: value, "b": true}}
		got, err := e.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := reference(t, e); !bytes.Equal(got, want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	e := Event{Type: TypeAuthSuccess, Timestamp: time.Now(), IP: "192.0.2.1", UserID: "42", Path: "/dashboard",
		Method: "GET", Success: true, RequestID: "0123456789abcdef0123456789abcdef",
		Metadata: map[string]any{"tokenType": "user"}}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = e.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reference(b, e)
		}
	})
}
