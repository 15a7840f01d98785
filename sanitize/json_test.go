package sanitize

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestSanitizeStructure(t *testing.T) {
	s := mustNew(t, Options{})
	tests := []struct{ name, in, want string }{
		{"top-level string", `"<b>x</b>"`, `"x"`},
		{"top-level number", `12345678901234567890`, `12345678901234567890`},
		{"scalars untouched", `[1.10, -0.0, 1e400, true, false, null, 12345678901234567890]`, `[1.10, -0.0, 1e400, true, false, null, 12345678901234567890]`},
		{"key order and whitespace kept", "{\n  \"z\": \"<i>1</i>\",\n  \"a\" : 2,\t\"m\":[ ]\n}", "{\n  \"z\": \"1\",\n  \"a\" : 2,\t\"m\":[ ]\n}"},
		{"nested", `{"a":{"b":[{"c":"<script>x</script>ok"}],"d":{}},"e":[[["<p>deep</p>"]]]}`, `{"a":{"b":[{"c":"ok"}],"d":{}},"e":[[["deep"]]]}`},
		{"keys untouched", `{"<b>k</b>":"<b>v</b>","a\u003cb\"c":"v"}`, `{"<b>k</b>":"v","a\u003cb\"c":"v"}`},
		{"escaped markup in value decoded and stripped", `{"a":"\u003cimg src=x onerror=alert(1)\u003eok"}`, `{"a":"ok"}`},
		{"unchanged string keeps its escapes", `{"a":"caf\u00e9 \/ \n"}`, `{"a":"caf\u00e9 \/ \n"}`},
		{"changed string re-encoded", `{"a":"<b>caf\u00e9</b> \"q\" \n \u2028"}`, `{"a":"café \"q\" \n \u2028"}`},
		{"unicode", `{"名前":"<em>世界 🙂</em>"}`, `{"名前":"世界 🙂"}`},
		{"bare less than kept unescaped", `{"a":"<b>5</b> < 10 & 3"}`, `{"a":"5 < 10 & 3"}`},
		{"empty containers", `{"a":{},"b":[],"c":""}`, `{"a":{},"b":[],"c":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Sanitize("posts", []byte(tt.in))
			if err != nil {
				t.Fatalf("Sanitize: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Sanitize(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
}

func TestSanitizeUnchangedReturnsBody(t *testing.T) {
	s := mustNew(t, Options{})
	body := []byte(`{"a":"plain","b":[1,2,"x & y"]}`)
	got, err := s.Sanitize("posts", body)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &body[0] || len(got) != len(body) {
		t.Errorf("Sanitize copied an unchanged body: %s", got)
	}
}

func TestSkipFields(t *testing.T) {
	const in = `{"content":"<b>1</b>","maincontent":"<b>2</b>","post":{"content":"<b>3</b>","body":"<b>4</b>","meta":{"body":"<b>5</b>"}},` +
		`"items":[{"content":"<b>6</b>","html":"<b>7</b>"},{"html":"<b>8</b>"}],"body":"<b>9</b>","raw":{"x":["<b>10</b>"]},"tags":["<b>11</b>"],` +
		`"thread":{"post":{"body":"<b>12</b>"}},"con\u0074ent":"<b>13</b>"}`
	tests := []struct {
		name   string
		fields []string
		want   string
	}{
		{"none", nil,
			`{"content":"1","maincontent":"2","post":{"content":"3","body":"4","meta":{"body":"5"}},"items":[{"content":"6","html":"7"},{"html":"8"}],"body":"9","raw":{"x":["10"]},"tags":["11"],"thread":{"post":{"body":"12"}},"con\u0074ent":"13"}`},
		{"single segment matches at any depth, whole segments only", []string{"content"},
			`{"content":"<b>1</b>","maincontent":"2","post":{"content":"<b>3</b>","body":"4","meta":{"body":"5"}},"items":[{"content":"<b>6</b>","html":"7"},{"html":"8"}],"body":"9","raw":{"x":["10"]},"tags":["11"],"thread":{"post":{"body":"12"}},"con\u0074ent":"<b>13</b>"}`},
		{"dotted path", []string{"post.body"},
			`{"content":"1","maincontent":"2","post":{"content":"3","body":"<b>4</b>","meta":{"body":"5"}},"items":[{"content":"6","html":"7"},{"html":"8"}],"body":"9","raw":{"x":["10"]},"tags":["11"],"thread":{"post":{"body":"<b>12</b>"}},"con\u0074ent":"13"}`},
		{"array indices are not segments", []string{"items.html"},
			`{"content":"1","maincontent":"2","post":{"content":"3","body":"4","meta":{"body":"5"}},"items":[{"content":"6","html":"<b>7</b>"},{"html":"<b>8</b>"}],"body":"9","raw":{"x":["10"]},"tags":["11"],"thread":{"post":{"body":"12"}},"con\u0074ent":"13"}`},
		{"skipping a container skips its contents", []string{"raw", "tags"},
			`{"content":"1","maincontent":"2","post":{"content":"3","body":"4","meta":{"body":"5"}},"items":[{"content":"6","html":"7"},{"html":"8"}],"body":"9","raw":{"x":["<b>10</b>"]},"tags":["<b>11</b>"],"thread":{"post":{"body":"12"}},"con\u0074ent":"13"}`},
		{"suffix must be whole", []string{"ntent", "ost.body"},
			`{"content":"1","maincontent":"2","post":{"content":"3","body":"4","meta":{"body":"5"}},"items":[{"content":"6","html":"7"},{"html":"8"}],"body":"9","raw":{"x":["10"]},"tags":["11"],"thread":{"post":{"body":"12"}},"con\u0074ent":"13"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNew(t, Options{SkipFields: tt.fields})
			got, err := s.Sanitize("posts", []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Sanitize\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestSkipEndpoints(t *testing.T) {
	s := mustNew(t, Options{SkipEndpoints: []string{"cms/*/html", "/raw/**", "files/v1.0/upload", "exact"}})
	tests := []struct {
		endpoint string
		skipped  bool
	}{
		{"cms/page/html", true},
		{"/cms/page/html/", true},
		{"cms/page/html?draft=1", true},
		{"cms/html", false},
		{"cms/a/b/html", false},
		{"raw", true},
		{"raw/a/b/c", true},
		{"rawdata", false},
		{"files/v1.0/upload", true},
		{"files/v1x0/upload", false},
		{"exact", true},
		{"exact/more", false},
		{"Exact", false},
		{"", false},
		{"posts", false},
	}
	body := []byte(`{"a":"<b>x</b>"}`)
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			got, err := s.Sanitize(tt.endpoint, body)
			if err != nil {
				t.Fatal(err)
			}
			if skipped := string(got) == string(body); skipped != tt.skipped {
				t.Errorf("Sanitize(%q) = %s, skipped = %v, want %v", tt.endpoint, got, skipped, tt.skipped)
			}
			if s.SkipsEndpoint(tt.endpoint) != tt.skipped {
				t.Errorf("SkipsEndpoint(%q) = %v, want %v", tt.endpoint, !tt.skipped, tt.skipped)
			}
		})
	}
	t.Run("skipped endpoint does not parse", func(t *testing.T) {
		got, err := s.Sanitize("raw/upload", []byte("not json"))
		if err != nil || string(got) != "not json" {
			t.Errorf("Sanitize = %q, %v; want the body unchanged", got, err)
		}
	})
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		{"**", "", true},
		{"**", "a/b", true},
		{"a/**", "a", true},
		{"a/**/z", "a/z", true},
		{"a/**/z", "a/b/c/z", true},
		{"a/**/z", "a/b/c", false},
		{"**/z", "a/z/z", true},
		{"**/b/**/d", "x/b/c/d/e", false},
		{"**/b/**/d", "x/b/c/b/d", true},
		{"*", "", false},
		{"*", "a", true},
		{"*/*", "a", false},
		{"*/**", "a", true},
		{"/", "", true},
		{"/", "a", false},
		{"a.b", "axb", false},
	}
	for _, tt := range tests {
		t.Run(tt.glob+" "+tt.path, func(t *testing.T) {
			p, err := parseGlob(tt.glob)
			if err != nil {
				t.Fatal(err)
			}
			if got := matchGlob(p, endpointSegments(tt.path)); got != tt.want {
				t.Errorf("match(%q, %q) = %v, want %v", tt.glob, tt.path, got, tt.want)
			}
		})
	}
}

func TestValue(t *testing.T) {
	s := mustNew(t, Options{SkipFields: []string{"html"}})
	in := map[string]any{
		"title": "<b>T</b>",
		"html":  "<b>kept</b>",
		"n":     json.Number("1.10"),
		"ok":    true,
		"nil":   nil,
		"list":  []any{"<i>a</i>", 2, map[string]any{"html": "<b>x</b>", "note": "<b>y</b>"}},
		"strs":  []string{"<u>s</u>"},
		"smap":  map[string]string{"html": "<b>h</b>", "x": "<b>x</b>"},
		"post":  map[string]any{"content": "<b>c</b>"},
	}
	want := map[string]any{
		"title": "T",
		"html":  "<b>kept</b>",
		"n":     json.Number("1.10"),
		"ok":    true,
		"nil":   nil,
		"list":  []any{"a", 2, map[string]any{"html": "<b>x</b>", "note": "y"}},
		"strs":  []string{"s"},
		"smap":  map[string]string{"html": "<b>h</b>", "x": "x"},
		"post":  map[string]any{"content": "<b>c</b>"},
	}
	got := s.Value(in, "post.content", "bad..field")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Value =\n %#v\nwant\n %#v", got, want)
	}
	if in["title"] != "<b>T</b>" || in["list"].([]any)[0] != "<i>a</i>" || in["strs"].([]string)[0] != "<u>s</u>" {
		t.Error("Value modified its input")
	}
	t.Run("per-call skip does not leak into later calls", func(t *testing.T) {
		got := s.Value(map[string]any{"post": map[string]any{"content": "<b>c</b>"}})
		want := map[string]any{"post": map[string]any{"content": "c"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Value = %#v, want %#v", got, want)
		}
	})
	t.Run("other types unchanged", func(t *testing.T) {
		type post struct{ Body string }
		p := post{Body: "<b>x</b>"}
		if got := s.Value(p); got != p {
			t.Errorf("Value(struct) = %#v", got)
		}
	})
}

// TestConcurrentUse runs one Sanitizer from many goroutines under -race.
func TestConcurrentUse(t *testing.T) {
	s := mustNew(t, Options{Mode: ModeAllowList, AllowedTags: []string{"b"}, SkipFields: []string{"raw"}})
	body := []byte(`{"a":"<b onclick=x>hi</b><script>1</script>","raw":"<i>r</i>"}`)
	const want = `{"a":"<b>hi</b>","raw":"<i>r</i>"}`
	for i := range 8 {
		t.Run(strings.Repeat("g", i+1), func(t *testing.T) {
			t.Parallel()
			for range 50 {
				got, err := s.Sanitize("x", body)
				if err != nil || string(got) != want {
					t.Fatalf("Sanitize = %s, %v", got, err)
				}
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	for _, in := range []string{"", "plain", `q"b\s`, "\n\r\t\x00\x1f\x7f\b\f", "<>&", "é世🙂", "\u2028\u2029", "bad\xffutf8\xc3"} {
		t.Run(in, func(t *testing.T) {
			var want strings.Builder
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(in); err != nil {
				t.Fatal(err)
			}
			if got := string(appendString(nil, in)); got+"\n" != want.String() {
				t.Errorf("appendString(%q) = %s, encoding/json gives %s", in, got, want.String())
			}
		})
	}
}
