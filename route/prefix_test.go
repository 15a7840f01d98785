package route

import "testing"

func TestUnder(t *testing.T) {
	tests := []struct {
		name      string
		p, prefix string
		want      bool
	}{
		{"equal", "/api", "/api", true},
		{"below", "/api/news", "/api", true},
		{"deep below", "/api/news/1/comments", "/api", true},
		{"trailing slash on path", "/api/", "/api", true},
		{"trailing slash on prefix", "/api", "/api/", true},
		{"trailing slash on both", "/api/news/", "/api/", true},
		{"sibling with same start", "/apiary", "/api", false},
		{"sibling with dash", "/api-v2", "/api", false},
		{"shorter path", "/ap", "/api", false},
		{"parent of prefix", "/", "/api", false},
		{"case sensitive", "/API", "/api", false},
		{"root prefix covers all", "/anything/at/all", "/", true},
		{"root prefix covers root", "/", "/", true},
		{"empty prefix covers all", "/x", "", true},
		{"multi-segment prefix", "/admin/users/1", "/admin/users", true},
		{"multi-segment prefix sibling", "/admin/usersx", "/admin/users", false},
		{"public not publicity", "/publicity", "/public", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Under(tt.p, tt.prefix); got != tt.want {
				t.Fatalf("Under(%q, %q) = %v, want %v", tt.p, tt.prefix, got, tt.want)
			}
		})
	}
}

func TestTrim(t *testing.T) {
	tests := []struct {
		name      string
		p, prefix string
		rest      string
		ok        bool
	}{
		{"below", "/api/news/1", "/api", "news/1", true},
		{"prefix itself", "/api", "/api", "", true},
		{"prefix with slash", "/api/", "/api", "", true},
		{"prefix written with slash", "/api/news", "/api/", "news", true},
		{"trailing slash kept", "/api/news/", "/api", "news/", true},
		{"root prefix", "/a/b", "/", "a/b", true},
		{"not under", "/apiary/x", "/api", "", false},
		{"other tree", "/admin", "/api", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rest, ok := Trim(tt.p, tt.prefix)
			if rest != tt.rest || ok != tt.ok {
				t.Fatalf("Trim(%q, %q) = %q, %v; want %q, %v", tt.p, tt.prefix, rest, ok, tt.rest, tt.ok)
			}
		})
	}
}

func TestList(t *testing.T) {
	l := NewList([]string{"/dashboard", "/admin/", "/settings//profile", "/caf%c3%a9", "/über", ""})
	tests := []struct {
		name string
		p    string
		want bool
	}{
		{"exact", "/dashboard", true},
		{"below", "/dashboard/stats", true},
		{"trailing slash", "/dashboard/", true},
		{"entry with trailing slash", "/admin", true},
		{"entry with trailing slash below", "/admin/users", true},
		{"entry cleaned", "/settings/profile/edit", true},
		{"entry escape normalised", "/caf%C3%A9/menu", true},
		{"entry written decoded", "/%C3%BCber", true},
		{"sibling", "/dashboards", false},
		{"case sensitive", "/Dashboard", false},
		{"parent", "/settings", false},
		{"root", "/", false},
		{"empty entry dropped", "/other", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.Match(tt.p); got != tt.want {
				t.Fatalf("Match(%q) = %v, want %v (prefixes %q)", tt.p, got, tt.want, l.Prefixes())
			}
		})
	}
	if l.Len() != 5 {
		t.Errorf("Len() = %d, want 5", l.Len())
	}
}

func TestListZeroAndRoot(t *testing.T) {
	var zero List
	if zero.Match("/") || zero.Match("/x") {
		t.Error("zero List matched")
	}
	root := NewList([]string{"/"})
	if !root.Match("/") || !root.Match("/x/y") {
		t.Error(`List{"/"} must match every path`)
	}
}

func TestCleanedTrapsAgainstList(t *testing.T) {
	// Encoded and dot-segment paths (next-api-layer matched them undecoded,
	// so they could dodge its route lists): once cleaned, each path is
	// matched as the application will route it.
	protected := NewList([]string{"/admin", "/dashboard"})
	tests := []struct {
		name    string
		raw     string
		matched bool // protected after cleaning
		refused bool
	}{
		{"escaped letter", "/%61dmin", true, false},
		{"escaped letter below", "/%64ashboard/x", true, false},
		{"double slash", "//admin", true, false},
		{"dot segment", "/./admin", true, false},
		{"dotdot into admin", "/public/../admin", true, false},
		{"escaped slash dotdot", "/public%2f..%2fadmin", true, false},
		{"trailing slash", "/admin/", true, false},
		{"capitalised is another route", "/Admin", false, false},
		{"escaped dotdot above root", "/%2e%2e/admin", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := Clean(tt.raw)
			if ok == tt.refused {
				t.Fatalf("Clean(%q) ok = %v, want %v", tt.raw, ok, !tt.refused)
			}
			if !ok {
				return
			}
			if got := protected.Match(p); got != tt.matched {
				t.Fatalf("Match(Clean(%q) = %q) = %v, want %v", tt.raw, p, got, tt.matched)
			}
		})
	}
}
