package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

// reference is encoding/json's encoding of s, with or without HTML escaping.
func reference(t testing.TB, s string, html bool) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "\n\r\t\x00\x1f\x7f\b\f", "<a href=\"x\">&amp;</a>",
		"é世🙂", "\u2028\u2029", "bad\xffutf8\xc3", "\xed\xa0\x80 surrogate half"} {
		for _, html := range []bool{true, false} {
			got := Append([]byte("pre"), s, html)
			if want := append([]byte("pre"), reference(t, s, html)...); !bytes.Equal(got, want) {
				t.Errorf("Append(%q, html=%v) = %s, encoding/json gives %s", s, html, got, want)
			}
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("<p>\u2028\xff</p>", true)
	f.Fuzz(func(t *testing.T, s string, html bool) {
		if got, want := Append(nil, s, html), reference(t, s, html); !bytes.Equal(got, want) {
			t.Errorf("Append(%q, html=%v) = %s, encoding/json gives %s", s, html, got, want)
		}
	})
}
