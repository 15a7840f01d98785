package route

import "testing"

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
