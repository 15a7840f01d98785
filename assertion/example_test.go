package assertion_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/apilayer/apilayer/assertion"
)

// The gateway signs the identity of a forwarded request; the web app
// verifies it against the gateway's JWKS.
func ExampleSigner_Sign() {
	// Gateway side: identity.sign with a generated key (identity.keyFile
	// in production), audience = upstream.url.
	signer, err := assertion.NewSigner(assertion.SignerOptions{
		Algorithm: assertion.EdDSA,
		TTL:       time.Minute,
		Audience:  "https://app.example.com",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	gateway := httptest.NewServer(signer.JWKSHandler()) // mounted at assertion.JWKSPath
	defer gateway.Close()

	token, err := signer.Sign(assertion.Identity{
		User:   json.RawMessage(`{"id":42,"name":"Alice","roles":["admin"]}`),
		Type:   "user",
		Locale: "en",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	again, _ := signer.Sign(assertion.Identity{User: json.RawMessage(`{"id":42,"name":"Alice","roles":["admin"]}`), Type: "user", Locale: "en"})
	fmt.Println("reused:", again == token)

	// Web app side.
	v, err := assertion.NewVerifier(context.Background(), assertion.VerifierOptions{
		JWKSURL:  gateway.URL + assertion.JWKSPath,
		Audience: "https://app.example.com",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	claims, err := v.Verify(context.Background(), token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(claims.Subject, claims.Type, claims.Locale, claims.User["name"], claims.Authenticated())

	// A token signed by any other key is refused.
	other, _ := assertion.NewSigner(assertion.SignerOptions{Audience: "https://app.example.com"})
	forged, _ := other.Sign(assertion.Identity{User: json.RawMessage(`{"id":1}`), Type: "admin"})
	_, err = v.Verify(context.Background(), forged)
	fmt.Println(errors.Is(err, assertion.ErrInvalid))
	// Output:
	// reused: true
	// 42 user en Alice true
	// true
}

// A Go web app that believes only signed identities: a request that did
// not come through the gateway gets 401.
func ExampleMiddleware() {
	signer, _ := assertion.NewSigner(assertion.SignerOptions{})
	gateway := httptest.NewServer(signer.JWKSHandler())
	defer gateway.Close()

	v, err := assertion.NewVerifier(context.Background(), assertion.VerifierOptions{JWKSURL: gateway.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	mw := &assertion.Middleware{Verifier: v} // Optional: true would let anonymous visitors through
	app := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := assertion.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", claims.User["name"])
	}))

	token, _ := signer.Sign(assertion.Identity{User: json.RawMessage(`{"id":7,"name":"Bob"}`), Type: "user"})
	for _, h := range []string{token, ""} {
		r := httptest.NewRequest("GET", "/dashboard", nil)
		if h != "" {
			r.Header.Set(assertion.DefaultHeader, h)
		}
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 200 hello Bob
	// 401 Unauthorized.
}
