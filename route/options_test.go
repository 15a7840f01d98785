package route

import (
	"strings"
	"testing"
)

var fold = Options{CaseInsensitive: true}

func TestGlobMatchCaseInsensitive(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		p       string
		want    bool
	}{
		{"literal", "/admin", "/Admin", true},
		{"literal, pattern upper", "/ADMIN", "/admin", true},
		{"literal mixed", "/Dashboard/Settings", "/dASHBOARD/settings", true},
		{"literal still exact otherwise", "/admin", "/admins", false},
		{"doublestar", "/admin/**", "/ADMIN/users/1", true},
		{"doublestar sibling", "/admin/**", "/ADMINISTRATOR", false},
		{"star keeps its segment", "/users/*/posts", "/Users/42/POSTS", true},
		{"wild in segment", "/static/*.js", "/STATIC/App.JS", true},
		{"wild in segment no match", "/static/*.js", "/static/app.css", false},
		{"wild backtracks", "/x/*ab", "/x/AAB", true},
		{"relative", "news/*", "NEWS/1", true},
		{"only ASCII letters fold", "/%C3%BC", "/%C3%9C", false}, // ü and Ü
		{"escapes compare as cleaned", "/caf%C3%A9", "/CAF%C3%A9", true},
		{"digits and marks are exact", "/a-1", "/a_1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := fold.CompileGlob(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.Match(tt.p); got != tt.want {
				t.Fatalf("%q.Match(%q) = %v, want %v", tt.pattern, tt.p, got, tt.want)
			}
			gs, err := fold.CompileGlobs([]string{"/never", tt.pattern})
			if err != nil {
				t.Fatal(err)
			}
			if got := gs.Match(tt.p); got != tt.want {
				t.Fatalf("Globs.Match(%q) = %v, want %v", tt.p, got, tt.want)
			}
			// The zero Options (and the package functions) stay exact.
			if tt.want && tt.pattern != tt.p && MustCompileGlob(tt.pattern).Match(tt.p) {
				t.Fatalf("case-sensitive %q matched %q", tt.pattern, tt.p)
			}
		})
	}
}

func TestUnderCaseInsensitive(t *testing.T) {
	tests := []struct {
		name      string
		p, prefix string
		want      bool
	}{
		{"equal", "/API", "/api", true},
		{"below", "/Dashboard/Stats", "/dashboard", true},
		{"prefix upper", "/dashboard/x", "/DASHBOARD", true},
		{"sibling", "/DASHBOARDS", "/dashboard", false},
		{"root", "/X", "/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fold.Under(tt.p, tt.prefix); got != tt.want {
				t.Fatalf("Under(%q, %q) = %v, want %v", tt.p, tt.prefix, got, tt.want)
			}
			l := fold.NewList([]string{"/elsewhere", tt.prefix})
			if got := l.Match(tt.p); got != tt.want {
				t.Fatalf("List(%q).Match(%q) = %v, want %v", tt.prefix, tt.p, got, tt.want)
			}
			if tt.want && tt.p != tt.prefix && tt.prefix != "/" && (Under(tt.p, tt.prefix) || NewList([]string{tt.prefix}).Match(tt.p)) {
				t.Fatalf("case-sensitive %q covered %q", tt.prefix, tt.p)
			}
		})
	}
}

// Case-insensitive matching is case-sensitive matching of both sides with
// their ASCII letters lowered.
func FuzzCaseInsensitive(f *testing.F) {
	f.Add("/Admin/**", "/aDMIN/x/y")
	f.Add("/static/*.JS", "/Static/app.js")
	f.Add("news/*", "NEWS/1")
	f.Add("/caf%C3%A9", "/CAF%c3%a9")
	f.Fuzz(func(t *testing.T, pattern, p string) {
		// Matchers see cleaned paths; lowering one lowers its escapes' hex
		// digits, which cleaning puts back in upper case.
		p, ok := cleanAny(p)
		if !ok {
			return
		}
		low, _ := cleanAny(lowerASCII(p))
		g, err := fold.CompileGlob(pattern)
		if err != nil {
			return
		}
		ref, err := CompileGlob(lowerASCII(pattern))
		if err != nil {
			t.Fatalf("%q compiles only when not lowered: %v", pattern, err)
		}
		if got, want := g.Match(p), ref.Match(low); got != want {
			t.Fatalf("case-insensitive %q.Match(%q) = %v, lowered reference %v", pattern, p, got, want)
		}
		prefix, ok := cleanAny(pattern)
		if !ok {
			return
		}
		lowPrefix, _ := cleanAny(lowerASCII(prefix))
		if got, want := fold.Under(p, prefix), Under(low, lowPrefix); got != want {
			t.Fatalf("case-insensitive Under(%q, %q) = %v, lowered reference %v", p, prefix, got, want)
		}
	})
}

// cleanAny cleans an absolute or a relative path.
func cleanAny(p string) (string, bool) {
	if strings.HasPrefix(p, "/") {
		return Clean(p)
	}
	c, ok := Clean("/" + p)
	return strings.TrimPrefix(c, "/"), ok
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lower(c)
	}
	return string(b)
}
