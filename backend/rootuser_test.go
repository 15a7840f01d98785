package backend_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/config"
)

// A backend that answers a bare user object (Laravel's auth()->user(),
// Django REST's /me) is mapped with the URI fragment pointer "#".
func TestMappingTheWholeAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":5,"name":"Taylor","role":"admin","exp":4102444800,"token":"leak"}`))
	}))
	defer srv.Close()
	c, err := backend.New(backend.Options{
		URL:       srv.URL + "/",
		Timeout:   2 * time.Second,
		Endpoints: config.Endpoints{Validate: "user"},
		Mapping:   config.Mapping{User: "#", TokenType: "#/type", ExpiresAt: "#/exp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Validate(context.Background(), "good")
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if id.User["name"] != "Taylor" || id.Type != "user" || id.Exp.Unix() != 4102444800 {
		t.Fatalf("identity = %+v, want Taylor, type user, exp 4102444800", id)
	}
	if _, leaked := id.User["token"]; leaked {
		t.Fatal("a token field survived in the user object")
	}
	if _, err := c.Validate(context.Background(), "bad"); err == nil {
		t.Fatal("a 401 validated")
	}
}
