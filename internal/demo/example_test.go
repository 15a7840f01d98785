package demo_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/apilayer/apilayer/internal/demo"
)

func ExampleNewBackend() {
	backend := httptest.NewServer(demo.NewBackend(demo.BackendOptions{}))
	defer backend.Close()

	res, err := http.Post(backend.URL+"/api/auth/login", "application/json",
		strings.NewReader(`{"username":"alice","password":"alice-password"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))
	// Output: 200 application/json
}

func ExampleNewApp() {
	app := demo.NewApp() // reachable only through the gateway, which sets these headers
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Auth-User", base64.StdEncoding.EncodeToString([]byte(`{"id":1,"name":"Alice"}`)))
	req.Header.Set("X-Auth-Token-Type", "user")
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), "Signed in as Alice"), strings.Contains(rec.Body.String(), "/assets/app.js"))
	// Output: 200 true true
}
