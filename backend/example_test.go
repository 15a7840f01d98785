package backend_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/apilayer/apilayer/backend"
)

func ExampleNew() {
	// A JWT backend that knows one token.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"success":true,"data":{"id":1,"name":"Ada","type":"user","accessToken":"never-shown"}}`)
	}))
	defer srv.Close()

	c, err := backend.New(backend.Options{URL: srv.URL + "/api/", Timeout: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	defer c.CloseIdleConnections()

	id, err := c.Validate(context.Background(), "good")
	fmt.Println(id.Type, string(id.UserJSON), err)

	_, err = c.Validate(context.Background(), "bad")
	fmt.Println(err == backend.ErrInvalid)
	// Output:
	// user {"id":1,"name":"Ada","type":"user"} <nil>
	// true
}
