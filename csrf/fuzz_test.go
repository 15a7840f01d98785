package csrf

import (
	"net/http/httptest"
	"testing"
)

func FuzzTokenParse(f *testing.F) {
	p := mustNew(f, Options{Secret: []byte("fuzz-secret")})
	f.Add(p.Mint("u1"), "u1", "u2")
	f.Add(p.Mint(""), "", "x")
	f.Add("ab.cd.ef", "u1", "")
	f.Add(".", "", "a")
	f.Add("", "\x00", "\x00\x00")
	f.Add(p.Mint("a")[:64]+"."+p.Mint("b")[65:], "a", "b")
	f.Fuzz(func(t *testing.T, token, binding, other string) {
		// Arbitrary input never panics, in Valid or in CheckToken.
		valid := p.Valid(token, binding)
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Cookie", "__csrf="+token)
		r.Header.Set("X-Csrf-Token", token)
		err := p.CheckToken(r, binding)
		if err == nil && !valid {
			t.Fatalf("CheckToken passed a token Valid rejects: %q", token)
		}

		// A minted token verifies for its binding and for no other.
		minted := p.Mint(binding)
		if !p.Valid(minted, binding) {
			t.Fatalf("minted token %q invalid for its binding %q", minted, binding)
		}
		if other != binding && p.Valid(minted, other) {
			t.Fatalf("token minted for %q valid for %q", binding, other)
		}
	})
}
