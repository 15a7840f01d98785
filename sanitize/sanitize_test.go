package sanitize

import (
	"errors"
	"html"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		mode    string
		wantErr []string // substrings of the error; nil means no error
	}{
		{name: "zero value strips", opts: Options{}, mode: ModeStrip},
		{name: "escape", opts: Options{Mode: "escape"}, mode: ModeEscape},
		{name: "allowList without tags", opts: Options{Mode: "allowList"}, mode: ModeAllowList},
		{name: "allowList tags case-insensitive", opts: Options{Mode: "allowList", AllowedTags: []string{"B", " em "}}, mode: ModeAllowList},
		{name: "unknown mode", opts: Options{Mode: "allowlist"}, wantErr: []string{`sanitize: mode: unknown mode "allowlist"`}},
		{name: "bad tag name", opts: Options{Mode: "allowList", AllowedTags: []string{"b|script"}}, wantErr: []string{`allowedTags[0]: not a tag name (got "b|script")`}},
		{name: "refused tag", opts: Options{Mode: "allowList", AllowedTags: []string{"b", "Script"}}, wantErr: []string{`allowedTags[1]: "script" cannot be allowed safely`}},
		{name: "empty skip field segment", opts: Options{SkipFields: []string{"post..body"}}, wantErr: []string{`skipFields[0]: empty path segment`}},
		{name: "skip field with index", opts: Options{SkipFields: []string{"items[0].html"}}, wantErr: []string{`skipFields[0]: array indices are not segments, write "items.html"`}},
		{name: "partial star glob", opts: Options{SkipEndpoints: []string{"user-*/x"}}, wantErr: []string{`skipEndpoints[0]: "user-*"`}},
		{name: "empty glob segment", opts: Options{SkipEndpoints: []string{"a//b"}}, wantErr: []string{`skipEndpoints[0]: empty path segment`}},
		{name: "every error at once", opts: Options{Mode: "x", SkipFields: []string{""}, SkipEndpoints: []string{""}},
			wantErr: []string{"mode:", "skipFields[0]", "skipEndpoints[0]: empty glob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opts)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if s.Mode() != tt.mode {
					t.Errorf("Mode() = %q, want %q", s.Mode(), tt.mode)
				}
				return
			}
			if err == nil {
				t.Fatal("New: no error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if !strings.HasPrefix(err.Error(), "sanitize: ") {
				t.Errorf("error %q is not package-prefixed", err)
			}
		})
	}
}

func TestStringStrip(t *testing.T) {
	s := mustNew(t, Options{Mode: ModeStrip})
	tests := []struct{ name, in, want string }{
		{"plain text", "hello world", "hello world"},
		{"bare less and greater", "5 < 10 and 20 > 3", "5 < 10 and 20 > 3"},
		{"bare ampersand", "Tom & Jerry", "Tom & Jerry"},
		{"url with query", "https://example.com/a?b=1&c=2", "https://example.com/a?b=1&c=2"},
		{"script with content", "<script>x</script>", ""},
		{"seed: img onerror", `<img src="x" onerror="alert(1)">`, ""},
		{"unquoted onerror", "<img src=x onerror=alert(1)>", ""},
		{"seed: comment", "before<!-- comment -->after", "beforeafter"},
		{"tags removed, text kept", "<p>Hello <b>world</b></p>", "Hello world"},
		{"style content dropped", "<style>body{}</style>text", "text"},
		{"prose mentioning javascript: kept", "use javascript: URLs with care", "use javascript: URLs with care"},
		{"prose with onclick= kept", `set onclick="go()" in the template`, `set onclick="go()" in the template`},
		{"entity text decoded, tag opener kept escaped", "&lt;script&gt;", "&lt;script>"},
		{"entities decoded", "Tom &amp; Jerry &eacute;", "Tom & Jerry é"},
		{"entity text with markup: tag opener stays escaped", "<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>", "&lt;script>alert(1)&lt;/script>"},
		{"double-encoded stays text", "<i>&amp;lt;b&amp;gt;</i>", "&lt;b&gt;"},
		{"textarea content is not re-created", "<textarea><script>alert(1)</script></textarea>", "&lt;script>alert(1)&lt;/script>"},
		{"less than before digit kept", "<b>1</b> <2", "1 <2"},
		{"unicode", "<em>héllo 世界 🙂</em>", "héllo 世界 🙂"},
		{"crlf normalised when markup present", "a\r\nb<br>", "a\nb"},
		{"crlf kept without markup", "a\r\nb", "a\r\nb"},
		{"whitespace only", "  \n ", "  \n "},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.String(tt.in)
			if got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if p := markupProblems(got, true, nil); len(p) > 0 {
				t.Errorf("String(%q) = %q has markup: %v", tt.in, got, p)
			}
		})
	}
}

func TestStringEscape(t *testing.T) {
	for _, opts := range []Options{{Mode: ModeEscape}, {Mode: ModeAllowList}} {
		s := mustNew(t, opts)
		tests := []struct{ name, in, want string }{
			{"seed: script", `<script>alert("xss")</script>`, "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;"},
			{"apostrophe", "it's", "it&#39;s"},
			{"ampersand", "Tom & Jerry", "Tom &amp; Jerry"},
			{"seed: javascript url unchanged", "javascript:alert(1)", "javascript:alert(1)"},
			{"seed: protocol-relative unchanged", "//evil.com/steal", "//evil.com/steal"},
			{"seed: data url", "data:text/html,<script>alert(1)</script>", "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"},
			{"nothing removed", "<!-- c -->", "&lt;!-- c --&gt;"},
		}
		for _, tt := range tests {
			t.Run(s.Mode()+"/"+tt.name, func(t *testing.T) {
				if got := s.String(tt.in); got != tt.want {
					t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
				}
			})
		}
	}
}

func TestStringAllowList(t *testing.T) {
	tests := []struct {
		name string
		tags []string
		in   string
		want string
	}{
		{"seed: div removed", []string{"b", "i", "em", "strong"}, "<div><b>bold</b></div>", "<b>bold</b>"},
		{"seed: style removed", []string{"a", "b", "img"}, `<b style="color:red">hi</b>`, "<b>hi</b>"},
		{"handlers removed", []string{"b"}, `<b onclick="x()" onmouseover=y>hi</b>`, "<b>hi</b>"},
		{"script dropped with content", []string{"b"}, "<b>a</b><script>alert(1)</script>", "<b>a</b>"},
		{"https link kept", []string{"a"}, `<a href="https://ok.com/?a=1&b=2" title="t">ok</a>`, `<a href="https://ok.com/?a=1&amp;b=2" title="t">ok</a>`},
		{"mailto link kept", []string{"a"}, `<a href="mailto:a@b.c">m</a>`, `<a href="mailto:a@b.c">m</a>`},
		{"javascript link dropped", []string{"a"}, `<a href="javascript:alert(1)">x</a>`, "x"},
		{"mixed-case javascript dropped", []string{"a"}, `<a href="  JaVaScRiPt:alert(1)">x</a>`, "x"},
		{"entity-split javascript dropped", []string{"a"}, `<a href="java&#x09;script:alert(1)">x</a>`, "x"},
		{"vbscript dropped", []string{"a"}, `<a href="vbscript:msgbox(1)">x</a>`, "x"},
		{"relative link dropped", []string{"a"}, `<a href="/rel">r</a>`, "r"},
		{"img https kept", []string{"img"}, `<img src="https://i.com/x.png" alt="x" onerror="y">`, `<img src="https://i.com/x.png" alt="x">`},
		{"img data url dropped", []string{"img"}, `<img src="data:image/png;base64,AAAA" alt="x">`, `<img alt="x">`},
		{"img mailto dropped", []string{"img"}, `<img src="mailto:a@b.c">`, ""},
		{"other attributes dropped", []string{"b"}, `<b id="x" class="y" data-z="1">hi</b>`, "<b>hi</b>"},
		{"text escaped", []string{"b"}, `5 < 10 & "q"`, "5 &lt; 10 &amp; &#34;q&#34;"},
		{"plain text unchanged", []string{"b"}, "plain text", "plain text"},
		{"regex metacharacters are just names", []string{"b"}, "<b.*>x</b.*><bb>y</bb>", "xy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNew(t, Options{Mode: ModeAllowList, AllowedTags: tt.tags})
			got := s.String(tt.in)
			if got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			allowed := map[string]bool{}
			for _, tag := range tt.tags {
				allowed[tag] = true
			}
			if p := markupProblems(got, false, allowed); len(p) > 0 {
				t.Errorf("String(%q) = %q: %v", tt.in, got, p)
			}
		})
	}
}

// TestNoSafeURLShortcut pins the fix of next-api-layer's safe-URL bypass of
// the sanitizer (docs/apiclient.md#fixed-next-api-layer-defects): strings
// that look like URLs go through the policy like any other.
func TestNoSafeURLShortcut(t *testing.T) {
	tags := []string{"a", "b", "img"}
	allowed := map[string]bool{"a": true, "b": true, "img": true}
	modes := []struct {
		name     string
		opts     Options
		textOnly bool
	}{
		{"strip", Options{}, true},
		{"allowList", Options{Mode: ModeAllowList, AllowedTags: tags}, false},
	}
	attacks := []string{
		`https://x.com/"><script>alert(1)</script>`,
		`/<img src=x onerror=alert(1)>`,
		`mailto:<img src=x onerror=alert(1)>`,
		`https://x.com/<a href="javascript:alert(1)">x</a>`,
		`tel:<svg onload=alert(1)>`,
	}
	for _, m := range modes {
		s := mustNew(t, m.opts)
		for _, in := range attacks {
			t.Run(m.name+"/"+in, func(t *testing.T) {
				got := s.String(in)
				if p := markupProblems(got, m.textOnly, allowed); len(p) > 0 {
					t.Errorf("String(%q) = %q: %v", in, got, p)
				}
				if strings.Contains(got, "onerror=") && !m.textOnly {
					t.Errorf("String(%q) = %q keeps onerror=", in, got)
				}
			})
		}
		for _, in := range []string{"https://example.com/a?b=1&c=2", "/path/to?x=1", "mailto:someone@example.com"} {
			t.Run(m.name+"/plain "+in, func(t *testing.T) {
				if got := html.UnescapeString(s.String(in)); got != in {
					t.Errorf("String(%q) unescaped = %q, want the input", in, got)
				}
			})
		}
	}
}

func TestEscapeTagOpeners(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"none", "a < b", "a < b"},
		{"letter", "<a", "&lt;a"},
		{"end tag", "</a", "&lt;/a"},
		{"comment", "<!--", "&lt;!--"},
		{"processing instruction", "<?x", "&lt;?x"},
		{"several", "<a<b < c<", "&lt;a&lt;b < c<"},
		{"trailing", "x<", "x<"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escapeTagOpeners(tt.in); got != tt.want {
				t.Errorf("escapeTagOpeners(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestErrNotJSON(t *testing.T) {
	s := mustNew(t, Options{})
	for _, in := range []string{"", "   ", "{", `{"a":}`, "<html>", `{"a":1}x`, `'single'`} {
		t.Run(in, func(t *testing.T) {
			out, err := s.Sanitize("posts", []byte(in))
			if !errors.Is(err, ErrNotJSON) {
				t.Fatalf("Sanitize(%q) error = %v, want ErrNotJSON", in, err)
			}
			if out != nil {
				t.Errorf("Sanitize(%q) returned %q with the error", in, out)
			}
		})
	}
}
