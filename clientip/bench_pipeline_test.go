package clientip_test

import (
	"net/http/httptest"
	"testing"

	"github.com/apilayer/apilayer/clientip"
)

// BenchmarkResolve is the client IP resolution every request starts with.
func BenchmarkResolve(b *testing.B) {
	for _, bc := range []struct {
		name    string
		trusted []string
		peer    string
		xff     string
		want    string
	}{
		{"direct, nobody trusted", nil, "203.0.113.7:51000", "198.51.100.1", "203.0.113.7"},
		{"behind a trusted proxy", []string{"10.0.0.0/8"}, "10.0.0.2:51000", "198.51.100.1, 10.0.0.3", "198.51.100.1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			res, err := clientip.New(bc.trusted, nil)
			if err != nil {
				b.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/dashboard", nil)
			r.RemoteAddr = bc.peer
			r.Header.Set("X-Forwarded-For", bc.xff)
			b.ReportAllocs()
			for b.Loop() {
				if got := res.Resolve(r).IP.String(); got != bc.want {
					b.Fatalf("IP %s, want %s", got, bc.want)
				}
			}
		})
	}
}
