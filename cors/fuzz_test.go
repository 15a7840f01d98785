package cors

import "testing"

// FuzzNormalize: any configured origin either is refused or normalizes to a
// fixed point that Allowed then matches.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"https://app.example.com", "HTTP://A:80", "*", "null", "https://[::1]:443", "https://a/b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		norm, err := normalize(origin)
		if err != nil {
			return
		}
		again, err := normalize(norm)
		if err != nil || again != norm {
			t.Fatalf("normalize(%q) = %q, but normalize(%q) = %q, %v", origin, norm, norm, again, err)
		}
		p, err := New(Options{AllowedOrigins: []string{origin}})
		if err != nil || !p.Allowed(norm) {
			t.Fatalf("New(%q) = %v; Allowed(%q) false", origin, err, norm)
		}
	})
}
