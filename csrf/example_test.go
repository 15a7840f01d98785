package csrf_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/apilayer/apilayer/csrf"
)

func ExampleProtection() {
	p, err := csrf.New(csrf.Options{
		Secret:         []byte("a stable secret from the environment"),
		TrustedOrigins: []string{"https://admin.example.com"},
	})
	if err != nil {
		panic(err)
	}

	// Early in the pipeline: the origin check needs no session.
	post := httptest.NewRequest("POST", "https://shop.example.com/api/cart", nil)
	post.Header.Set("Sec-Fetch-Site", "cross-site")
	post.Header.Set("Origin", "https://evil.example")
	v := p.CheckOrigin(post)
	fmt.Println(v.Outcome, string(v.Reason))

	// A page view issues the token, bound to the session (here user 42).
	page := httptest.NewRequest("GET", "https://shop.example.com/", nil)
	w := httptest.NewRecorder()
	token := p.Ensure(w, page, "42", true, "")
	fmt.Println(len(w.Result().Cookies()), "cookie issued")

	// The page's script repeats the cookie in the header. Without
	// Sec-Fetch-Site the origin check defers to the token.
	post = httptest.NewRequest("POST", "https://shop.example.com/api/cart", nil)
	post.AddCookie(&http.Cookie{Name: "__csrf", Value: token})
	post.Header.Set("X-CSRF-Token", token)
	v = p.CheckOrigin(post)
	fmt.Println(v.Outcome)

	// After validation, with the session's binding.
	fmt.Println(p.CheckToken(post, "42"))
	fmt.Println(p.CheckToken(post, "43"))
	// Output:
	// fail cross-site-request
	// 1 cookie issued
	// need-token
	// <nil>
	// csrf: bad-signature
}

func ExampleProtection_Handler() {
	p, err := csrf.New(csrf.Options{Secret: []byte("secret")})
	if err != nil {
		panic(err)
	}
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "changed")
	}))

	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// 403 {"success":false,"message":"CSRF validation failed.","code":"csrf"}
}
