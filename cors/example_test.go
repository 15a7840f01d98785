package cors_test

import (
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/apilayer/apilayer/cors"
)

func ExamplePolicy_Apply() {
	p, err := cors.New(cors.Options{
		AllowedOrigins: []string{"https://app.example.com"},
		MaxAge:         10 * time.Minute,
	})
	if err != nil {
		panic(err)
	}

	// The browser's preflight is answered here; the caller stops.
	r := httptest.NewRequest("OPTIONS", "https://gw.example.com/api/cart", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "POST")
	w := httptest.NewRecorder()
	handled := p.Apply(w, r)
	fmt.Println(handled, w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Max-Age"))

	// The real request: headers set, the pipeline goes on (and may refuse).
	r = httptest.NewRequest("POST", "https://gw.example.com/api/cart", nil)
	r.Header.Set("Origin", "https://app.example.com")
	w = httptest.NewRecorder()
	handled = p.Apply(w, r)
	fmt.Println(handled, w.Header().Get("Access-Control-Allow-Credentials"), w.Header().Get("Vary"))

	// Another origin gets no CORS header: the browser hides the response.
	r.Header.Set("Origin", "https://evil.example")
	w = httptest.NewRecorder()
	p.Apply(w, r)
	fmt.Printf("%q\n", w.Header().Get("Access-Control-Allow-Origin"))
	// Output:
	// true 204 https://app.example.com 600
	// false true Origin
	// ""
}
