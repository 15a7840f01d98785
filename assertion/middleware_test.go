package assertion_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/internal/testkit"
)

func TestMiddleware(t *testing.T) {
	clock := testkit.NewClock(epoch)
	s := newSigner(t, assertion.EdDSA, 0, clock)
	good := mustSign(t, s)
	other := mustSign(t, newSigner(t, assertion.EdDSA, 1, clock))
	pemV := pemVerifier(t, clock, publicPEM(t, key(assertion.EdDSA, 0)))
	down := newJWKSServer(t, nil)
	down.serve(nil, http.StatusBadGateway)
	downV := jwksVerifier(t, down.URL, clock, nil)

	// The app echoes who it thinks the visitor is.
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := assertion.FromContext(r.Context()); ok {
			fmt.Fprintf(w, "user %s %s", c.Subject, c.Type)
			return
		}
		io.WriteString(w, "anonymous")
	})

	for _, tc := range []struct {
		name       string
		m          assertion.Middleware
		header     []string // values of X-Auth-Assertion
		wantStatus int
		wantBody   string
	}{
		{"valid", assertion.Middleware{Verifier: pemV}, []string{good}, 200, "user 42 user"},
		{"missing", assertion.Middleware{Verifier: pemV}, nil, 401, "Unauthorized.\n"},
		{"empty", assertion.Middleware{Verifier: pemV}, []string{""}, 401, "Unauthorized.\n"},
		{"another key", assertion.Middleware{Verifier: pemV}, []string{other}, 401, "Unauthorized.\n"},
		{"two assertions", assertion.Middleware{Verifier: pemV}, []string{good, good}, 401, "Unauthorized.\n"},
		{"optional, valid", assertion.Middleware{Verifier: pemV, Optional: true}, []string{good}, 200, "user 42 user"},
		{"optional, missing", assertion.Middleware{Verifier: pemV, Optional: true}, nil, 200, "anonymous"},
		{"optional, invalid", assertion.Middleware{Verifier: pemV, Optional: true}, []string{other}, 200, "anonymous"},
		{"key set unavailable", assertion.Middleware{Verifier: downV}, []string{good}, 503, "Identity cannot be verified right now.\n"},
		{"optional, key set unavailable", assertion.Middleware{Verifier: downV, Optional: true}, []string{good}, 503, "Identity cannot be verified right now.\n"},
		{"another header ignores X-Auth-Assertion", assertion.Middleware{Verifier: pemV, Header: "X-Identity"}, []string{good}, 401, "Unauthorized.\n"},
		{"own error handler", assertion.Middleware{Verifier: pemV, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, fmt.Sprintf("missing %v", errors.Is(err, assertion.ErrMissing)), http.StatusTeapot)
		}}, nil, http.StatusTeapot, "missing true\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for _, h := range tc.header {
				r.Header.Add("X-Auth-Assertion", h)
			}
			w := httptest.NewRecorder()
			tc.m.Handler(app).ServeHTTP(w, r)
			if w.Code != tc.wantStatus || w.Body.String() != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body.String(), tc.wantStatus, tc.wantBody)
			}
		})
	}

	t.Run("custom header", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Identity", good)
		w := httptest.NewRecorder()
		(&assertion.Middleware{Verifier: pemV, Header: "X-Identity"}).Handler(app).ServeHTTP(w, r)
		if w.Code != 200 || w.Body.String() != "user 42 user" {
			t.Errorf("got %d %q", w.Code, w.Body.String())
		}
	})
}

func TestFromContext(t *testing.T) {
	if c, ok := assertion.FromContext(context.Background()); ok || c != nil {
		t.Errorf("empty context: %v, %v", c, ok)
	}
	if _, ok := assertion.FromContext(assertion.NewContext(context.Background(), nil)); ok {
		t.Error("nil claims reported as present")
	}
	want := &assertion.Claims{Subject: "1", Type: "user"}
	if c, ok := assertion.FromContext(assertion.NewContext(context.Background(), want)); !ok || c != want {
		t.Errorf("got %v, %v", c, ok)
	}
}
