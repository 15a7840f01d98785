package session_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/session"
)

// Dual-token mode with successor records: the access cookie has expired in
// the browser, so the refresh cookie is refreshed at once; a second tab
// still carrying the old refresh cookie gets the same new tokens without a
// second backend refresh (which this backend would answer as reuse).
func ExampleNew_dualToken() {
	var refreshes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path + " " + r.Header.Get("Authorization") {
		case "/api/auth/me Bearer access-2":
			io.WriteString(w, `{"success":true,"data":{"id":1,"type":"user"}}`)
		case "/api/auth/refresh Bearer refresh-1":
			if refreshes.Add(1) > 1 {
				w.WriteHeader(http.StatusConflict) // reuse detected
				return
			}
			io.WriteString(w, `{"success":true,"data":{"accessToken":"access-2","refreshToken":"refresh-2"}}`)
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
		Backend:      bc,
		CacheTTL:     2 * time.Second,
		SingleFlight: true,
		DualToken:    true,
		SuccessorTTL: 30 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	in := session.Input{Refresh: "refresh-1", ClientID: "Mozilla/5.0|192.0.2.1"}
	for tab := 1; tab <= 2; tab++ {
		o := m.Authenticate(context.Background(), in)
		fmt.Println(tab, o.State, o.Set.User, o.Set.Refresh)
	}
	fmt.Println("backend refreshes:", refreshes.Load())
	// Output:
	// 1 user access-2 refresh-2
	// 2 user access-2 refresh-2
	// backend refreshes: 1
}
