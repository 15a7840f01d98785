package localjwt_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apilayer/apilayer/authn"
	"github.com/apilayer/apilayer/localjwt"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

func ExampleNew() {
	key := []byte("an HMAC secret of 32 bytes or more")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	v, err := localjwt.New(context.Background(), localjwt.Options{
		Secret:     key,
		Algorithms: []string{"HS256"}, // pinned: the token's header cannot choose
		Issuer:     "https://idp.example",
		Leeway:     30 * time.Second,
		RequireExp: true,
		Now:        func() time.Time { return now },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()

	tok, _ := jwt.NewBuilder().Subject("42").Issuer("https://idp.example").
		Expiration(now.Add(time.Hour)).Claim("type", "user").Claim("accessToken", "never shown").Build()
	signed, _ := jwt.Sign(tok, jwt.WithKey(jwa.HS256(), key))

	id, err := v.Verify(context.Background(), string(signed))
	fmt.Println(id.Type, string(id.UserJSON), err)

	_, err = v.Verify(context.Background(), "not.a.token")
	fmt.Println(errors.Is(err, authn.ErrInvalid))
	// Output:
	// user {"exp":1767326645,"iss":"https://idp.example","sub":"42","type":"user"} <nil>
	// true
}
