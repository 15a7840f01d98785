package peer

import "testing"

// Reserved runs on every request the gateway receives.
func BenchmarkReserved(b *testing.B) {
	for _, bb := range []struct{ name, p string }{
		{"no underscore", "/api/v1/news/123/comments"},
		{"next asset", "/_next/static/chunks/main-1a2b3c.js"},
		{"peer path", "/_apilayer/peer/refresh"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Reserved(bb.p)
			}
		})
	}
}
