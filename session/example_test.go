package session_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/session"
)

func ExampleNew() {
	// A JWT backend: "expired" must be refreshed, guests are minted.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path + " " + r.Header.Get("Authorization") {
		case "/api/auth/me Bearer fresh":
			io.WriteString(w, `{"success":true,"data":{"id":1,"type":"user"}}`)
		case "/api/auth/refresh Bearer expired":
			io.WriteString(w, `{"success":true,"data":{"accessToken":"fresh"}}`)
		case "/api/auth/guest ":
			io.WriteString(w, `{"success":true,"data":{"accessToken":"guest-1"}}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()

	bc, err := backend.New(backend.Options{URL: srv.URL + "/api/", Timeout: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	defer bc.CloseIdleConnections()
	m, err := session.New(session.Options{
		Backend:       bc,
		CacheTTL:      2 * time.Second,
		StaleIfError:  30 * time.Second,
		SingleFlight:  true,
		GuestFallback: true,
		GuestEnabled:  true,
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	ctx := context.Background()
	o := m.Authenticate(ctx, session.Input{User: "expired", Guest: "old-guest"})
	fmt.Println(o.State, o.Refreshed, o.Set.User, o.Delete.Guest)

	o = m.Authenticate(ctx, session.Input{Client: "192.0.2.1"})
	fmt.Println(o.State, o.Minted, o.Set.Guest)
	// Output:
	// user true fresh true
	// guest true guest-1
}
