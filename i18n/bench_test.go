package i18n

import (
	"net/http"
	"testing"
)

func BenchmarkResolve(b *testing.B) {
	r := mustNew(b, opts("as-needed"))
	for _, bb := range []struct{ name, path, acceptLanguage string }{
		{"unprefixed with Accept-Language", "/news/42", "fr-CA,fr;q=0.9,tr;q=0.8,en;q=0.5"},
		{"unprefixed with bad Accept-Language entry", "/news/42", "xx, tr;q=0.8"},
		{"prefixed", "/tr/news/42", "fr-CA,fr;q=0.9,tr;q=0.8,en;q=0.5"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			req := request(bb.path, "", bb.acceptLanguage)
			req.Method = http.MethodGet
			b.ReportAllocs()
			for b.Loop() {
				r.Resolve(req, bb.path, false)
			}
		})
	}
}
