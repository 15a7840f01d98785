package route

import "testing"

func BenchmarkClean(b *testing.B) {
	for _, bb := range []struct{ name, p string }{
		{"clean", "/api/v1/news/123/comments"},
		{"dirty", "//api/./v1/%6eews/../news/123/%2e%2e/123/"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Clean(bb.p)
			}
		})
	}
}

func BenchmarkListMatch(b *testing.B) {
	for _, o := range []Options{{}, {CaseInsensitive: true}} {
		b.Run(caseName(o), func(b *testing.B) {
			l := o.NewList([]string{"/dashboard", "/settings", "/admin", "/account/billing", "/reports"})
			b.ReportAllocs()
			for b.Loop() {
				l.Match("/account/billing/invoices/42")
				l.Match("/public/page")
			}
		})
	}
}

func BenchmarkGlobsMatch(b *testing.B) {
	for _, o := range []Options{{}, {CaseInsensitive: true}} {
		b.Run(caseName(o), func(b *testing.B) {
			gs, err := o.CompileGlobs([]string{"/admin/**", "/api/auth/login", "/**/edit", "/static/*.js", "/users/*/posts"})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				gs.Match("/users/42/posts")
				gs.Match("/a/b/c/d/e/f/g")
			}
		})
	}
}

func caseName(o Options) string {
	if o.CaseInsensitive {
		return "case-insensitive"
	}
	return "case-sensitive"
}
