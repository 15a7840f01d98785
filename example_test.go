package apilayer_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
)

// A demo JWT backend stands in for yours in these examples.
func exampleBackend() (url string, closeFn func()) {
	srv := httptest.NewServer(demo.NewBackend(demo.BackendOptions{}))
	return srv.URL + "/api/", srv.Close
}

// New builds a Gateway from a Config written in code. The same Config can
// come from YAML with config.Load.
func ExampleNew() {
	backendURL, stop := exampleBackend()
	defer stop()

	gw, err := apilayer.New(config.Config{
		Backend:  config.Backend{URL: backendURL},
		Upstream: config.Upstream{URL: "http://127.0.0.1:3000"},
		Access: config.Access{
			ProtectedRoutes: []string{"/dashboard"},
			AuthRoutes:      []string{"/login"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close()
	fmt.Println("gateway ready")
	// Output: gateway ready
}

// An invalid Config reports every problem at once, by YAML path.
func ExampleNew_invalid() {
	_, err := apilayer.New(config.Config{
		Cookies: config.Cookies{SameSite: "loose"},
	})
	fmt.Println(err)
	// Output:
	// backend.url: required
	// cookies.sameSite: must be lax, strict or none (got "loose")
}

// Middleware puts the auth pipeline in front of a Go web app. Handlers read
// the verified identity with AuthFrom.
func ExampleGateway_Middleware() {
	backendURL, stop := exampleBackend()
	defer stop()
	gw, err := apilayer.New(config.Config{
		Backend: config.Backend{URL: backendURL},
		Guest:   config.Guest{Enabled: true, Credentials: demo.GuestCredentials()},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close()

	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := apilayer.AuthFrom(r.Context())
		fmt.Fprintf(w, "authenticated=%v guest=%v type=%s", a.Authenticated, a.Guest, a.TokenType)
	})
	srv := httptest.NewServer(gw.Middleware(app))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(string(body))
	fmt.Println("guest cookie set:", strings.Contains(res.Header.Get("Set-Cookie"), "guestAuthToken="))
	// Output:
	// authenticated=false guest=true type=guest
	// guest cookie set: true
}

// AuthFrom reads the identity in a handler behind Middleware. Outside the
// gateway it is the zero Auth.
func ExampleAuthFrom() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := apilayer.AuthFrom(r.Context())
		if !a.Authenticated {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "hello %v", a.User["name"])
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(rec.Code)
	// Output: 401
}

// Hooks take part in the pipeline without weakening it: BeforeAuth can
// answer a request itself; AfterAuth can refuse a request the pipeline
// would forward, never the other way round.
func ExampleWithHooks() {
	backendURL, stop := exampleBackend()
	defer stop()
	gw, err := apilayer.New(config.Config{Backend: config.Backend{URL: backendURL}},
		apilayer.WithHooks(apilayer.Hooks{
			BeforeAuth: func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path == "/maintenance" {
					http.Error(w, "back soon", http.StatusServiceUnavailable)
					return true
				}
				return false
			},
		}))
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close()
	rec := httptest.NewRecorder()
	gw.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/maintenance", nil))
	fmt.Println(rec.Code)
	// Output: 503
}

// Handler is the whole gateway, as `apilayer serve` runs it; the health
// endpoint answers without authentication.
func ExampleGateway_Handler() {
	backendURL, stop := exampleBackend()
	defer stop()
	gw, err := apilayer.New(config.Config{Backend: config.Backend{URL: backendURL}})
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close()
	rec := httptest.NewRecorder()
	gw.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_apilayer/health", nil))
	fmt.Print(rec.Body.String())
	// Output: {"status":"ok","backend":"ok","store":"memory","backendEndpoints":{"guest":"closed","login":"closed","logout":"closed","refresh":"closed","register":"closed","validate":"closed"}}
}

// APIProxy is the API proxy alone: the request must carry the
// Authorization header to send.
func ExampleGateway_APIProxy() {
	backendURL, stop := exampleBackend()
	defer stop()
	gw, err := apilayer.New(config.Config{Backend: config.Backend{URL: backendURL}})
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close()
	rec := httptest.NewRecorder()
	gw.APIProxy().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/public/info", nil))
	fmt.Println(rec.Code)
	// Output: 200
}

// A Server runs a Gateway and swaps in a new configuration without failing
// a request: what "apilayer serve" does on SIGHUP, with config.Resolve of
// its file as load.
func ExampleServer_Reload() {
	backendURL, stop := exampleBackend()
	defer stop()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer app.Close()
	cfg := config.Config{
		Backend:  config.Backend{URL: backendURL},
		Upstream: config.Upstream{URL: app.URL},
		Access:   config.Access{ProtectedRoutes: []string{"/dashboard"}},
	}
	gw, err := apilayer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	srv := apilayer.NewServer(gw) // srv.ListenAndServe(ctx) serves it
	defer srv.Close()
	front := httptest.NewServer(srv.Handler())
	defer front.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status := func() int {
		res, err := client.Get(front.URL + "/admin")
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	fmt.Println("before:", status())

	cfg.Access.ProtectedRoutes = append(cfg.Access.ProtectedRoutes, "/admin")
	if err := srv.Reload(func() (*config.Config, error) { return &cfg, nil }); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after:", status())
	// Output:
	// before: 200
	// after: 307
}

// WithTracerProvider sends the gateway's spans to a provider of your own
// OpenTelemetry setup (here one that records them in memory).
func ExampleWithTracerProvider() {
	backendURL, stop := exampleBackend()
	defer stop()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())

	gw, err := apilayer.New(config.Config{Backend: config.Backend{URL: backendURL}},
		apilayer.WithTracerProvider(tp))
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close()
	gw.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	for _, s := range rec.Ended() {
		fmt.Println(s.Name(), s.SpanKind())
	}
	// Output: GET page server
}
