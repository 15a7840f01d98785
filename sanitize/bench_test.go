package sanitize

import (
	"fmt"
	"strings"
	"testing"
)

// body10KB is a JSON document of about 10 KB: mostly plain strings, some with
// markup, numbers and nesting, like a typical form or CMS payload.
func body10KB() []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < 10*1024-200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"title":"Item number %d","price":%d.50,"tags":["a","b"],"body":"Some plain text, 5 < 10 & more","html":"<p>Hello <b>world</b><script>x</script></p>"}`, i, i, i)
	}
	b.WriteString(`],"total":12345678901234567890}`)
	return []byte(b.String())
}

func BenchmarkSanitize10KB(b *testing.B) {
	body := body10KB()
	modes := []struct {
		name string
		opts Options
	}{
		{"strip", Options{}},
		{"escape", Options{Mode: ModeEscape}},
		{"allowList", Options{Mode: ModeAllowList, AllowedTags: []string{"p", "b"}}},
		{"strip/skipFields", Options{SkipFields: []string{"items.html"}}},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			s := mustNew(b, m.opts)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sanitize("items", body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
