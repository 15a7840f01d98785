package localjwt_test

import (
	"context"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/localjwt"
	"github.com/lestrrat-go/jwx/v3/jwa"
)

func TestVerifyValid(t *testing.T) {
	clock := testkit.NewClock(epoch)
	hsBackend := demo.NewBackend(demo.BackendOptions{Now: clock.Now})
	rsBackend := demo.NewBackend(demo.BackendOptions{Signing: demo.SigningRS256, Now: clock.Now})
	edKit := testkit.NewBackend(t, demo.BackendOptions{Signing: demo.SigningEdDSA, Now: clock.Now})
	es := newECDSA(t, elliptic.P256())
	es384 := newECDSA(t, elliptic.P384())
	ed := newEd25519(t)
	issue := func(b *demo.Backend) string {
		tok, err := b.Issue("admin", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	tests := []struct {
		name  string
		opts  localjwt.Options
		token string
		sub   string
	}{
		{"HS256 demo backend", localjwt.Options{Secret: hsBackend.Key(), Algorithms: []string{"HS256"}}, issue(hsBackend), "2"},
		{"HS512 among allowed", localjwt.Options{Secret: secret, Algorithms: []string{"HS256", "HS512"}},
			sign(t, jwa.HS512(), secret, claims(nil), nil), "42"},
		{"RS256 demo backend PEM", localjwt.Options{PublicKeyPEM: rsBackend.PublicKeyPEM(), Algorithms: []string{"RS256"}}, issue(rsBackend), "2"},
		{"ES256 test key", localjwt.Options{PublicKeyPEM: pemOf(t, &es.PublicKey), Algorithms: []string{"ES256"}},
			sign(t, jwa.ES256(), es, claims(nil), nil), "42"},
		{"ES384 test key", localjwt.Options{PublicKeyPEM: pemOf(t, &es384.PublicKey), Algorithms: []string{"ES384"}},
			sign(t, jwa.ES384(), es384, claims(nil), nil), "42"},
		{"EdDSA test key PEM", localjwt.Options{PublicKeyPEM: pemOf(t, ed.Public()), Algorithms: []string{"EdDSA"}},
			sign(t, jwa.EdDSA(), ed, claims(nil), nil), "42"},
		{"EdDSA demo backend JWKS", localjwt.Options{JWKSURL: edKit.URL() + ".well-known/jwks.json", Algorithms: []string{"EdDSA"}},
			issue(edKit.Demo()), "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Now = clock.Now
			tt.opts.RequireExp = true
			v := newVerifier(t, tt.opts)
			id, err := v.Verify(context.Background(), tt.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if id.Type != "user" || id.User["sub"] != tt.sub || id.Exp.Unix() != epoch.Add(time.Hour).Unix() {
				t.Errorf("identity = type %q sub %v exp %v", id.Type, id.User["sub"], id.Exp)
			}
			var u map[string]any
			if err := json.Unmarshal(id.UserJSON, &u); err != nil || u["sub"] != tt.sub {
				t.Errorf("UserJSON %s: %v", id.UserJSON, err)
			}
		})
	}
}

func TestVerifyInvalid(t *testing.T) {
	rsa := demo.NewBackend(demo.BackendOptions{Signing: demo.SigningRS256})
	rsaPEM := rsa.PublicKeyPEM()
	otherEd := newEd25519(t)
	ed := newEd25519(t)
	hsOpts := func(o localjwt.Options) localjwt.Options {
		o.Secret, o.Algorithms = secret, []string{"HS256"}
		return o
	}
	none := map[string]any{"alg": "none", "typ": "JWT"}

	tests := []struct {
		name  string
		opts  localjwt.Options
		token string
		valid bool // rows that check an edge is still accepted
	}{
		{name: "wrong key", opts: hsOpts(localjwt.Options{}),
			token: sign(t, jwa.HS256(), []byte("another secret, another secret!!"), claims(nil), nil)},
		{name: "alg none, empty signature", opts: hsOpts(localjwt.Options{}), token: forge(t, none, claims(nil), nil)},
		{name: "alg none listed by the token only, HMAC signature", opts: hsOpts(localjwt.Options{}),
			token: forge(t, none, claims(nil), hs256(secret))},
		{name: "alg not in the list", opts: hsOpts(localjwt.Options{}), token: sign(t, jwa.HS384(), secret, claims(nil), nil)},
		{name: "header alg differs from the signing alg", opts: localjwt.Options{Secret: secret, Algorithms: []string{"HS256", "HS512"}},
			token: forge(t, map[string]any{"alg": "HS512"}, claims(nil), hs256(secret))},
		{name: "RS/HS confusion: HS256 signed with the RSA public key PEM",
			opts:  localjwt.Options{PublicKeyPEM: rsaPEM, Algorithms: []string{"RS256"}},
			token: forge(t, map[string]any{"alg": "HS256", "typ": "JWT"}, claims(nil), hs256(rsaPEM))},
		{name: "RS/HS confusion with the key's alg name in the header",
			opts:  localjwt.Options{PublicKeyPEM: rsaPEM, Algorithms: []string{"RS256"}},
			token: forge(t, map[string]any{"alg": "RS256", "typ": "JWT"}, claims(nil), hs256(rsaPEM))},
		{name: "EdDSA wrong key", opts: localjwt.Options{PublicKeyPEM: pemOf(t, ed.Public()), Algorithms: []string{"EdDSA"}},
			token: sign(t, jwa.EdDSA(), otherEd, claims(nil), nil)},
		{name: "expired", opts: hsOpts(localjwt.Options{}),
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"exp": epoch.Add(-time.Minute).Unix()}), nil)},
		{name: "expired exactly now", opts: hsOpts(localjwt.Options{}),
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"exp": epoch.Unix()}), nil)},
		{name: "expired beyond leeway", opts: hsOpts(localjwt.Options{Leeway: 30 * time.Second}),
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"exp": epoch.Add(-31 * time.Second).Unix()}), nil)},
		{name: "expired within leeway", opts: hsOpts(localjwt.Options{Leeway: 30 * time.Second}), valid: true,
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"exp": epoch.Add(-29 * time.Second).Unix()}), nil)},
		{name: "not yet valid", opts: hsOpts(localjwt.Options{Leeway: 30 * time.Second}),
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"nbf": epoch.Add(time.Minute).Unix()}), nil)},
		{name: "nbf within leeway", opts: hsOpts(localjwt.Options{Leeway: 30 * time.Second}), valid: true,
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"nbf": epoch.Add(20 * time.Second).Unix()}), nil)},
		{name: "issued in the future", opts: hsOpts(localjwt.Options{Leeway: 30 * time.Second}),
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"iat": epoch.Add(time.Minute).Unix()}), nil)},
		{name: "wrong issuer", opts: hsOpts(localjwt.Options{Issuer: "https://idp.example"}),
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"iss": "https://evil.example"}), nil)},
		{name: "missing issuer", opts: hsOpts(localjwt.Options{Issuer: "https://idp.example"}),
			token: sign(t, jwa.HS256(), secret, claims(nil), nil)},
		{name: "right issuer", opts: hsOpts(localjwt.Options{Issuer: "https://idp.example"}), valid: true,
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"iss": "https://idp.example"}), nil)},
		{name: "wrong audience", opts: hsOpts(localjwt.Options{Audience: "apilayer"}),
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"aud": []string{"other", "another"}}), nil)},
		{name: "missing audience", opts: hsOpts(localjwt.Options{Audience: "apilayer"}),
			token: sign(t, jwa.HS256(), secret, claims(nil), nil)},
		{name: "audience in an array", opts: hsOpts(localjwt.Options{Audience: "apilayer"}), valid: true,
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"aud": []string{"other", "apilayer"}}), nil)},
		{name: "audience string", opts: hsOpts(localjwt.Options{Audience: "apilayer"}), valid: true,
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"aud": "apilayer"}), nil)},
		{name: "missing exp, RequireExp true", opts: hsOpts(localjwt.Options{RequireExp: true}),
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"exp": nil}), nil)},
		{name: "missing exp, RequireExp false", opts: hsOpts(localjwt.Options{}), valid: true,
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"exp": nil}), nil)},
		{name: "exp not a number", opts: hsOpts(localjwt.Options{}),
			token: sign(t, jwa.HS256(), secret, claims(map[string]any{"exp": "2099-01-01"}), nil)},
		{name: "payload not an object", opts: hsOpts(localjwt.Options{}),
			token: forge(t, map[string]any{"alg": "HS256"}, nil, hs256(secret))},
		{name: "crit header", opts: hsOpts(localjwt.Options{}),
			token: forge(t, map[string]any{"alg": "HS256", "crit": []string{"exp"}, "exp": 1}, claims(nil), hs256(secret))},
		{name: "alg not a string", opts: hsOpts(localjwt.Options{}),
			token: forge(t, map[string]any{"alg": 256}, claims(nil), hs256(secret))},
		{name: "two parts", opts: hsOpts(localjwt.Options{}), token: "eyJhbGciOiJIUzI1NiJ9.e30"},
		{name: "empty", opts: hsOpts(localjwt.Options{})},
		{name: "header not base64", opts: hsOpts(localjwt.Options{}), token: "%%%.e30.AAAA"},
		{name: "huge token", opts: hsOpts(localjwt.Options{}), token: "eyJhbGciOiJIUzI1NiJ9." + strings.Repeat("A", 70000) + ".AAAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Now = fixed(epoch)
			v := newVerifier(t, tt.opts)
			id, err := v.Verify(context.Background(), tt.token)
			if tt.valid {
				if err != nil || id.User["sub"] != "42" {
					t.Errorf("Verify = %v, %v; want valid", id.User, err)
				}
				return
			}
			wantInvalid(t, err)
			if id.User != nil || id.Type != "" {
				t.Errorf("invalid token returned identity %+v", id)
			}
		})
	}
}

func TestMissingExpHasZeroExp(t *testing.T) {
	v := newVerifier(t, localjwt.Options{Secret: secret, Algorithms: []string{"HS256"}, Now: fixed(epoch)})
	id, err := v.Verify(context.Background(), sign(t, jwa.HS256(), secret, claims(map[string]any{"exp": nil}), nil))
	if err != nil || !id.Exp.IsZero() {
		t.Errorf("Verify = exp %v, %v; want a zero Exp", id.Exp, err)
	}
}

func TestTokenType(t *testing.T) {
	tests := []struct {
		name  string
		claim string // Options.TokenTypeClaim
		extra map[string]any
		want  string
	}{
		{"type claim", "", map[string]any{"type": "guest", "token_type": "service"}, "guest"},
		{"token_type when type is missing", "", map[string]any{"token_type": "service"}, "service"},
		{"token_type when type is not a string", "", map[string]any{"type": 7, "token_type": "service"}, "service"},
		{"default", "", nil, "user"},
		{"empty type", "", map[string]any{"type": ""}, "user"},
		{"custom claim", "kind", map[string]any{"kind": "admin", "type": "guest"}, "admin"},
		{"custom claim missing: token_type", "kind", map[string]any{"type": "guest", "token_type": "service"}, "service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, localjwt.Options{Secret: secret, Algorithms: []string{"HS256"}, TokenTypeClaim: tt.claim, Now: fixed(epoch)})
			id, err := v.Verify(context.Background(), sign(t, jwa.HS256(), secret, claims(tt.extra), nil))
			if err != nil || id.Type != tt.want {
				t.Errorf("Verify = type %q, %v; want %q", id.Type, err, tt.want)
			}
		})
	}
}

func TestUserWithoutTokens(t *testing.T) {
	v := newVerifier(t, localjwt.Options{Secret: secret, Algorithms: []string{"HS256"}, Now: fixed(epoch)})
	tok := sign(t, jwa.HS256(), secret, claims(map[string]any{
		"token": "t1", "accessToken": "t2", "refreshToken": "t3", "access_token": "t4", "refresh_token": "t5",
		"profile": map[string]any{"token": "t6", "nick": "ali"},
		"links":   []any{map[string]any{"refreshToken": "t7", "rel": "self"}},
	}), nil)
	id, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"t1", "t2", "t3", "t4", "t5", "t6", "t7", "oken"} {
		if strings.Contains(string(id.UserJSON), s) {
			t.Errorf("UserJSON %s contains %q", id.UserJSON, s)
		}
	}
	var u map[string]any
	if err := json.Unmarshal(id.UserJSON, &u); err != nil {
		t.Fatal(err)
	}
	if u["email"] != "alice@example.com" || u["profile"].(map[string]any)["nick"] != "ali" || u["links"] == nil {
		t.Errorf("UserJSON lost claims: %s", id.UserJSON)
	}
	if _, ok := id.User["token"]; ok {
		t.Errorf("User kept token: %v", id.User)
	}
	if n, ok := id.User["exp"].(json.Number); !ok || n.String() != "1767326645" {
		t.Errorf("User exp = %#v, want json.Number 1767326645", id.User["exp"])
	}
}

func TestLargeUserReduced(t *testing.T) {
	v := newVerifier(t, localjwt.Options{Secret: secret, Algorithms: []string{"HS256"}, Now: fixed(epoch)})
	tok := sign(t, jwa.HS256(), secret, claims(map[string]any{"bio": strings.Repeat("x", 9000), "notes": strings.Repeat("y", 9000)}), nil)
	id, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(id.UserJSON) > authn.MaxUserJSON || !id.Truncated {
		t.Fatalf("UserJSON is %d bytes, Truncated = %v", len(id.UserJSON), id.Truncated)
	}
	var u map[string]any
	if err := json.Unmarshal(id.UserJSON, &u); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(u))
	for k := range u {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// notes (9,010 bytes with its key) is left out, bio (9,008) fits.
	if strings.Join(keys, ",") != "bio,email,exp,iat,name,roles,sub" {
		t.Errorf("reduced UserJSON keys = %v", keys)
	}
	if id.User["bio"] == nil {
		t.Error("User itself must keep every claim")
	}
}

func TestNewErrors(t *testing.T) {
	rsaKey := demo.NewBackend(demo.BackendOptions{Signing: demo.SigningRS256}).PublicKeyPEM()
	edPEM := pemOf(t, newEd25519(t).Public())
	p256 := pemOf(t, &newECDSA(t, elliptic.P256()).PublicKey)
	block, _ := pem.Decode(rsaKey)
	pub, _ := x509.ParsePKIXPublicKey(block.Bytes)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub.(*rsa.PublicKey))})
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})

	tests := []struct {
		name string
		opts localjwt.Options
		want string // substring of the error; "" = no error
	}{
		{"no key source", localjwt.Options{Algorithms: []string{"HS256"}}, "exactly one"},
		{"two key sources", localjwt.Options{Secret: secret, PublicKeyPEM: edPEM, Algorithms: []string{"HS256"}}, "exactly one"},
		{"secret and JWKS", localjwt.Options{Secret: secret, JWKSURL: "http://127.0.0.1:1/jwks", Algorithms: []string{"HS256"}}, "exactly one"},
		{"no algorithms", localjwt.Options{Secret: secret}, "at least one"},
		{"unknown algorithm", localjwt.Options{Secret: secret, Algorithms: []string{"none"}}, `unknown algorithm "none"`},
		{"RS256 with a secret", localjwt.Options{Secret: secret, Algorithms: []string{"HS256", "RS256"}}, "RS256 does not fit an HMAC secret"},
		{"HS256 with an RSA key", localjwt.Options{PublicKeyPEM: rsaKey, Algorithms: []string{"RS256", "HS256"}}, "HS256 does not fit an RSA public key"},
		{"ES256 with an RSA key", localjwt.Options{PublicKeyPEM: rsaKey, Algorithms: []string{"ES256"}}, "ES256 does not fit"},
		{"ES384 with a P-256 key", localjwt.Options{PublicKeyPEM: p256, Algorithms: []string{"ES384"}}, "ES384 does not fit an ECDSA P-256"},
		{"EdDSA with an RSA key", localjwt.Options{PublicKeyPEM: rsaKey, Algorithms: []string{"EdDSA"}}, "EdDSA does not fit"},
		{"RS256 with an Ed25519 key", localjwt.Options{PublicKeyPEM: edPEM, Algorithms: []string{"RS256"}}, "RS256 does not fit an Ed25519"},
		{"HS256 with a JWKS", localjwt.Options{JWKSURL: "http://127.0.0.1:1/jwks", Algorithms: []string{"HS256"}}, "HS256 does not fit a JWKS"},
		{"relative JWKS URL", localjwt.Options{JWKSURL: "/jwks", Algorithms: []string{"EdDSA"}}, "absolute http(s) URL"},
		{"not PEM", localjwt.Options{PublicKeyPEM: []byte("hello"), Algorithms: []string{"RS256"}}, "no PEM block"},
		{"private key PEM", localjwt.Options{PublicKeyPEM: privPEM, Algorithms: []string{"RS256"}}, "public key only"},
		{"negative leeway", localjwt.Options{Secret: secret, Algorithms: []string{"HS256"}, Leeway: -time.Second}, "leeway"},
		{"PKCS1 RSA key", localjwt.Options{PublicKeyPEM: pkcs1, Algorithms: []string{"RS256", "PS256"}}, ""},
		{"PS512 with RSA", localjwt.Options{PublicKeyPEM: rsaKey, Algorithms: []string{"PS512"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := localjwt.New(context.Background(), tt.opts)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				v.Close()
				return
			}
			if err == nil {
				v.Close()
				t.Fatalf("New succeeded, want an error with %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "localjwt: ") {
				t.Errorf("New error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestErrorsNeverHoldTheToken checks that a rejected token does not leak
// into the error text that the gateway logs.
func TestErrorsNeverHoldTheToken(t *testing.T) {
	v := newVerifier(t, localjwt.Options{Secret: secret, Algorithms: []string{"HS256"}, Now: fixed(epoch)})
	for _, tok := range []string{
		sign(t, jwa.HS256(), []byte("wrong wrong wrong wrong wrong!!!"), claims(nil), nil),
		sign(t, jwa.HS256(), secret, claims(map[string]any{"exp": 1}), nil),
	} {
		_, err := v.Verify(context.Background(), tok)
		if err == nil {
			t.Fatal("Verify succeeded")
		}
		for _, part := range strings.Split(tok, ".") {
			if strings.Contains(err.Error(), part) {
				t.Errorf("error %q contains a token part", err)
			}
		}
	}
}
