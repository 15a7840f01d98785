package route

import (
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		p       string
		want    bool
	}{
		{"literal", "/admin", "/admin", true},
		{"literal trailing slash on path", "/admin", "/admin/", true},
		{"literal trailing slash on pattern", "/admin/", "/admin", true},
		{"literal is not a prefix", "/admin", "/admin/x", false},
		{"literal case sensitive", "/admin", "/Admin", false},

		{"star one segment", "/news/*", "/news/1", true},
		{"star not two", "/news/*", "/news/1/2", false},
		{"star not zero", "/news/*", "/news", false},
		{"star not zero with slash", "/news/*", "/news/", false},
		{"star in middle", "/users/*/posts", "/users/42/posts", true},
		{"star in middle wrong tail", "/users/*/posts", "/users/42/likes", false},
		{"star alone", "/*", "/x", true},
		{"star alone not root", "/*", "/", false},

		{"doublestar zero", "/admin/**", "/admin", true},
		{"doublestar zero slash", "/admin/**", "/admin/", true},
		{"doublestar one", "/admin/**", "/admin/x", true},
		{"doublestar many", "/admin/**", "/admin/x/y/z", true},
		{"doublestar sibling", "/admin/**", "/administrator", false},
		{"doublestar other tree", "/admin/**", "/public/admin", false},
		{"doublestar root covers all", "/**", "/a/b", true},
		{"doublestar root covers root", "/**", "/", true},
		{"doublestar leading", "/**/edit", "/a/b/edit", true},
		{"doublestar leading zero", "/**/edit", "/edit", true},
		{"doublestar leading wrong end", "/**/edit", "/a/b/edit/x", false},
		{"doublestar middle", "/a/**/z", "/a/z", true},
		{"doublestar middle many", "/a/**/z", "/a/b/c/z", true},
		{"doublestar middle backtrack", "/a/**/b/c", "/a/b/x/b/c", true},
		{"doublestar middle no end", "/a/**/z", "/a/b/c", false},
		{"two doublestars", "/**/x/**/y", "/1/x/2/3/y", true},
		{"two doublestars fail", "/**/x/**/y", "/1/x/2/3/z", false},
		{"doublestar then star", "/a/**/*", "/a", false},
		{"doublestar then star one", "/a/**/*", "/a/b", true},
		{"repeated doublestar", "/a/**/**", "/a/b/c", true},

		{"dot is literal", "/v1.0/*", "/v1.0/a", true},
		{"dot is not a wildcard", "/v1.0/*", "/v1x0/a", false},
		{"regex chars literal", "/a+b/(c)", "/a+b/(c)", true},
		{"regex chars no regex", "/a+b", "/aab", false},

		{"wild in segment", "/static/*.js", "/static/app.js", true},
		{"wild in segment no match", "/static/*.js", "/static/app.css", false},
		{"wild in segment no slash", "/static/*.js", "/static/a/b.js", false},
		{"wild prefix", "/img/logo-*", "/img/logo-dark.svg", true},
		{"wild in segment empty run", "/x/a*b", "/x/ab", true},

		{"relative star", "news/*", "news/1", true},
		{"relative literal", "auth/login", "auth/login", true},
		{"relative doublestar", "public/**", "public", true},
		{"relative doublestar all", "**", "", true},
		{"relative vs absolute path", "news/*", "/news/1", false},
		{"absolute vs relative path", "/news/*", "news/1", false},
		{"absolute vs empty path", "/**", "", false},

		{"escaped pattern matches cleaned path", "/caf%c3%a9/*", "/caf%C3%A9/menu", true},
		{"decoded pattern matches cleaned path", "/über/*", "/%C3%BCber/x", true},
		{"unreserved escape in pattern", "/%61dmin/**", "/admin/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := CompileGlob(tt.pattern)
			if err != nil {
				t.Fatalf("CompileGlob(%q): %v", tt.pattern, err)
			}
			if got := g.Match(tt.p); got != tt.want {
				t.Fatalf("Glob(%q).Match(%q) = %v, want %v", tt.pattern, tt.p, got, tt.want)
			}
		})
	}
}

func TestCompileGlobErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    string // substring of the error
	}{
		{"empty", "", "empty pattern"},
		{"blank", "  ", "empty pattern"},
		{"doublestar in segment", "/a**/b", `"**" must be a whole segment`},
		{"doublestar suffix", "/a/**x", `"**" must be a whole segment`},
		{"triple star", "/a/***", `"**" must be a whole segment`},
		{"relative doublestar in segment", "news/x**", `"**" must be a whole segment`},
		{"bad escape", "/a%zz", "not a valid path"},
		{"above root", "/../x", "not a valid path"},
		{"control byte", "/a\x00", "not a valid path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileGlob(tt.pattern)
			if err == nil {
				t.Fatalf("CompileGlob(%q) = nil error", tt.pattern)
			}
			if !strings.HasPrefix(err.Error(), "route: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CompileGlob(%q) = %q, want it to contain %q", tt.pattern, err, tt.want)
			}
		})
	}
}

func TestGlobs(t *testing.T) {
	gs, err := CompileGlobs([]string{"news/*", "categories/**", "health"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    string
		want bool
	}{
		{"first", "news/1", true},
		{"second zero", "categories", true},
		{"second deep", "categories/a/b", true},
		{"third", "health", true},
		{"none", "users/1", false},
		{"absolute path never matches relative globs", "/news/1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gs.Match(tt.p); got != tt.want {
				t.Fatalf("Match(%q) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}

	_, err = CompileGlobs([]string{"/ok/*", "/bad**", "", "/fine"})
	if err == nil {
		t.Fatal("CompileGlobs accepted invalid patterns")
	}
	for _, want := range []string{"route: glob 1 (\"/bad**\")", "route: glob 2 (\"\")"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	var zero Globs
	if zero.Match("/") {
		t.Error("zero Globs matched")
	}
	var zg Glob
	if zg.Match("/") || zg.Match("") {
		t.Error("zero Glob matched")
	}
}

func TestMustCompileGlobPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustCompileGlob did not panic on an invalid pattern")
		}
	}()
	MustCompileGlob("/a**")
}

func TestGlobMatchDoesNotAllocate(t *testing.T) {
	gs, err := CompileGlobs([]string{"/admin/**", "/**/edit", "/static/*.js", "/users/*/posts"})
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		gs.Match("/a/b/c/d/e/f")
		gs.Match("/users/1/posts/")
	})
	if allocs != 0 {
		t.Errorf("Globs.Match: %v allocations, want 0", allocs)
	}
}

// naiveMatch is a reference matcher: recursive over segment slices.
func naiveMatch(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	switch pat[0] {
	case "**":
		for i := 0; i <= len(segs); i++ {
			if naiveMatch(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	case "*":
		return len(segs) > 0 && segs[0] != "" && naiveMatch(pat[1:], segs[1:])
	}
	return len(segs) > 0 && pat[0] == segs[0] && naiveMatch(pat[1:], segs[1:])
}

func splitSegs(s string) []string {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "/"), "/")
	if s == "" {
		return nil
	}
	return strings.Split(s, "/")
}

func FuzzGlob(f *testing.F) {
	f.Add("/admin/**", "/admin/x/y")
	f.Add("/**/x/**/y", "/1/x/2/y")
	f.Add("news/*", "news/1")
	f.Add("/a/*/b", "/a//b")
	f.Add("/static/*.js", "/static/app.js")
	f.Fuzz(func(t *testing.T, pattern, p string) {
		g, err := CompileGlob(pattern)
		if err != nil {
			return
		}
		got := g.Match(p) // never panics
		if g.Absolute() != strings.HasPrefix(p, "/") {
			if got {
				t.Fatalf("Glob(%q).Match(%q): absolute and relative mixed", pattern, p)
			}
			return
		}
		// Compare with the reference on cleaned paths, for patterns without
		// in-segment wildcards.
		cp, _ := Clean("/" + strings.TrimPrefix(pattern, "/"))
		pat := splitSegs(cp)
		for _, s := range pat {
			if s != "*" && s != "**" && strings.Contains(s, "*") {
				return
			}
		}
		abs := p
		if !g.Absolute() {
			abs = "/" + p
		}
		if c, ok := Clean(abs); !ok || c != abs {
			return
		}
		if want := naiveMatch(pat, splitSegs(abs)); got != want {
			t.Fatalf("Glob(%q).Match(%q) = %v, reference says %v", pattern, p, got, want)
		}
	})
}
