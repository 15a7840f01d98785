package sanitize

import (
	"encoding/json"
	"html"
	"strings"
	"testing"
)

// FuzzSanitize checks, for any input: no panic; a valid JSON input gives
// valid JSON with the same shape (same keys, same non-string values); every
// string in strip output is markup-free text; allowList output keeps only
// the allowed tags and safe attributes.
func FuzzSanitize(f *testing.F) {
	for _, seed := range []string{
		`{"a":"<script>alert(1)</script>","b":[1,2.50,"x"]}`,
		`"https://x.com/\"><script>alert(1)</script>"`,
		`["/<img src=x onerror=alert(1)>","mailto:<img src=x onerror=alert(1)>"]`,
		`{"k\u003c":"\u003cscript\u003e","n":12345678901234567890}`,
		`{"t":"&lt;script&gt;alert(1)&lt;/script&gt;<b>x</b>"}`,
		`{"t":"<textarea><script>x</script></textarea>"}`,
		`{"a":{"b":{"c":["<a href=javascript:x>y</a>"]}}}`,
		`not json <script>`,
		``,
	} {
		f.Add([]byte(seed))
	}
	strip := mustNew(f, Options{SkipFields: []string{"skip"}})
	allowed := map[string]bool{"a": true, "b": true, "img": true, "p": true}
	allow := mustNew(f, Options{Mode: ModeAllowList, AllowedTags: []string{"a", "b", "img", "p"}})
	escape := mustNew(f, Options{Mode: ModeEscape})

	f.Fuzz(func(t *testing.T, body []byte) {
		for _, s := range []*Sanitizer{strip, allow, escape} {
			out, err := s.Sanitize("x", body)
			if !json.Valid(body) {
				if err == nil {
					t.Fatalf("%s: no error for invalid JSON %q", s.Mode(), body)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: error for valid JSON %q: %v", s.Mode(), body, err)
			}
			if !json.Valid(out) {
				t.Fatalf("%s: invalid JSON output %q for %q", s.Mode(), out, body)
			}
			var in, got any
			if err := json.Unmarshal(body, &in); err != nil {
				return // valid but beyond encoding/json limits (depth)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%s: output does not decode: %v", s.Mode(), err)
			}
			checkShape(t, s, in, got, false)
			if s == strip && strings.Contains(strings.ToLower(string(out)), "<script") {
				t.Fatalf("strip output contains <script: %q", out)
			}
			checkStrings(t, got, func(v string) {
				switch s {
				case strip:
					if p := markupProblems(v, true, nil); len(p) > 0 {
						t.Fatalf("strip string %q: %v", v, p)
					}
				case allow:
					if p := markupProblems(v, false, allowed); len(p) > 0 {
						t.Fatalf("allowList string %q: %v", v, p)
					}
				}
			})
		}
	})
}

// checkShape compares a decoded input and output: same kinds, same keys,
// same non-string values; strings under a "skip" key unchanged.
func checkShape(t *testing.T, s *Sanitizer, in, out any, skipping bool) {
	t.Helper()
	switch a := in.(type) {
	case map[string]any:
		b, ok := out.(map[string]any)
		if !ok || len(a) != len(b) {
			t.Fatalf("%s: object %v became %v", s.Mode(), in, out)
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok {
				t.Fatalf("%s: key %q lost", s.Mode(), k)
			}
			checkShape(t, s, v, w, skipping || (k == "skip" && s.skip != nil))
		}
	case []any:
		b, ok := out.([]any)
		if !ok || len(a) != len(b) {
			t.Fatalf("%s: array %v became %v", s.Mode(), in, out)
		}
		for i := range a {
			checkShape(t, s, a[i], b[i], skipping)
		}
	case string:
		b, ok := out.(string)
		if !ok {
			t.Fatalf("%s: string %q became %v", s.Mode(), a, out)
		}
		if skipping && a != b {
			t.Fatalf("%s: skipped string %q changed to %q", s.Mode(), a, b)
		}
		if !skipping && b != s.String(a) {
			t.Fatalf("%s: string %q became %q, String gives %q", s.Mode(), a, b, s.String(a))
		}
	default:
		if in != out {
			t.Fatalf("%s: %v became %v", s.Mode(), in, out)
		}
	}
}

func checkStrings(t *testing.T, v any, check func(string)) {
	t.Helper()
	switch a := v.(type) {
	case map[string]any:
		for _, e := range a {
			checkStrings(t, e, check)
		}
	case []any:
		for _, e := range a {
			checkStrings(t, e, check)
		}
	case string:
		check(a)
	}
}

// FuzzStripString checks that strip output of any string is markup-free and
// that the fast path agrees with the full path.
func FuzzStripString(f *testing.F) {
	for _, seed := range []string{"5 < 10", "<b>x</b>", "&lt;script&gt;", "a\r\nb", "<<a>script>", "</", "<!-->"} {
		f.Add(seed)
	}
	s := mustNew(f, Options{})
	f.Fuzz(func(t *testing.T, in string) {
		got := s.String(in)
		if p := markupProblems(got, true, nil); len(p) > 0 {
			t.Fatalf("String(%q) = %q: %v", in, got, p)
		}
		if !strings.ContainsAny(in, "\r\x00") {
			full := escapeTagOpeners(html.UnescapeString(s.policy.Sanitize(in)))
			if strings.TrimSpace(in) != "" && got != full {
				t.Fatalf("fast path %q != full path %q for %q", got, full, in)
			}
		}
	})
}

// FuzzGlob compares matchGlob with a plain recursive definition.
func FuzzGlob(f *testing.F) {
	f.Add("a/**/b", "a/x/y/b")
	f.Add("**/*/**", "a")
	f.Add("*", "")
	f.Fuzz(func(t *testing.T, glob, path string) {
		p, err := parseGlob(glob)
		if err != nil {
			return
		}
		segs := endpointSegments(path)
		if got, want := matchGlob(p, segs), matchRef(p, segs); got != want {
			t.Fatalf("matchGlob(%q, %q) = %v, reference %v", glob, path, got, want)
		}
	})
}

func matchRef(p, s []string) bool {
	if len(p) == 0 {
		return len(s) == 0
	}
	if p[0] == "**" {
		return matchRef(p[1:], s) || (len(s) > 0 && matchRef(p, s[1:]))
	}
	return len(s) > 0 && (p[0] == "*" || p[0] == s[0]) && matchRef(p[1:], s[1:])
}
