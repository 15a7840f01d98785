package localjwt_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/localjwt"
	"github.com/lestrrat-go/jwx/v3/jwa"
)

// FuzzVerify checks that arbitrary strings never panic and never verify:
// the only tokens that may verify carry the claims of the signed seed.
func FuzzVerify(f *testing.F) {
	good := sign(f, jwa.HS256(), secret, claims(map[string]any{"sub": "fuzz-seed"}), nil)
	f.Add(good)
	f.Add(forge(f, map[string]any{"alg": "none"}, claims(nil), nil))
	f.Add(forge(f, map[string]any{"alg": "HS256", "crit": []string{"b64"}, "b64": false}, claims(nil), hs256(secret)))
	f.Add(forge(f, map[string]any{"alg": "HS256"}, map[string]any{"exp": "1e999", "nbf": []any{1}}, hs256([]byte("x"))))
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("")
	f.Add("..")
	f.Add("e30.e30.")

	v, err := localjwt.New(context.Background(), localjwt.Options{
		Secret: secret, Algorithms: []string{"HS256", "HS384"}, RequireExp: true, Now: fixed(epoch),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		id, err := v.Verify(context.Background(), token)
		if err != nil {
			wantInvalid(t, err)
			return
		}
		if id.User["sub"] != "fuzz-seed" {
			t.Fatalf("a token not signed by the test verified: %q => %v", token, id.User)
		}
	})
}
