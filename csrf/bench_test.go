package csrf

import "testing"

func BenchmarkCheckOrigin(b *testing.B) {
	p := mustNew(b, Options{Secret: []byte("s"), TrustedOrigins: []string{trusted}})
	for _, bc := range []struct{ name, site, origin string }{
		{"same-origin", "same-origin", ""},
		{"cross-site", "cross-site", "https://evil.example"},
		{"trusted", "cross-site", trusted},
		{"no-metadata", "", ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := newRequest("POST", bc.site, bc.origin)
			for b.Loop() {
				p.CheckOrigin(r)
			}
		})
	}
}

func BenchmarkValid(b *testing.B) {
	for _, bc := range []struct {
		name     string
		previous int
	}{{"one-secret", 0}, {"three-secrets", 2}} {
		b.Run(bc.name, func(b *testing.B) {
			o := Options{Secret: []byte("s")}
			for range bc.previous {
				o.PreviousSecrets = append(o.PreviousSecrets, []byte("old"))
			}
			p := mustNew(b, o)
			tok := p.Mint("user-1")
			for b.Loop() {
				if !p.Valid(tok, "user-1") {
					b.Fatal("invalid")
				}
			}
		})
	}
}
