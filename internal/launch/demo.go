package launch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
)

// DemoOptions configures Demo.
type DemoOptions struct {
	Listen string    // the gateway's address, e.g. 127.0.0.1:8080
	Out    io.Writer // where the URL and the demo credentials are printed
	Log    io.Writer // where the gateway logs (nil: discarded)
	// Ready, if set, receives the gateway's URL once it is serving.
	Ready func(url string)
	// Validate is the gateway's validate.mode: "backend" (the default) or
	// "local", where the demo backend signs EdDSA tokens and the gateway
	// verifies them with the backend's JWKS, without a backend call.
	Validate string
}

// DemoConfig returns the gateway configuration the demo runs with, for a demo
// backend at backendURL (ending in /api/) and the demo web app at appURL.
//
// CSRF protection is on, with a secret made at random on each call (the demo
// keeps no state across restarts). Validation results are not cached
// (cacheTTL 0), so the demo's "expire my access token" button takes effect on the very next
// request and shows a transparent refresh; a real deployment keeps the 2s
// default. The React bundle under /assets is served without authentication.
func DemoConfig(backendURL, appURL string) config.Config {
	noCache := time.Duration(0)
	return config.Config{
		Backend:  config.Backend{URL: backendURL},
		Upstream: config.Upstream{URL: appURL},
		Guest: config.Guest{
			Enabled:     true,
			Credentials: map[string]any{"username": demo.GuestUsername, "password": demo.GuestPassword},
		},
		Access: config.Access{
			ProtectedRoutes: []string{"/dashboard", "/admin"},
			AuthRoutes:      []string{"/login"},
			ReturnParam:     "next",
			ExcludedPaths:   []string{"/assets"},
		},
		Validation: config.Validate{CacheTTL: &noCache},
		CSRF:       config.CSRF{Enabled: true, Secret: rand.Text()},
		Log:        config.Log{Level: "info", Format: "text"},
	}
}

// Demo starts the demo backend and the demo web app on loopback ports, puts
// the gateway in front of them on opts.Listen, prints the URL and the demo
// credentials, and serves until ctx is done.
func Demo(ctx context.Context, opts DemoOptions) error {
	backendLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("launch: backend listener: %w", err)
	}
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		backendLn.Close()
		return fmt.Errorf("launch: app listener: %w", err)
	}
	gwLn, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		backendLn.Close()
		appLn.Close()
		return fmt.Errorf("launch: gateway listener: %w", err)
	}

	signing := "HS256"
	switch opts.Validate {
	case "", "backend":
	case "local":
		signing = "EdDSA"
	default:
		backendLn.Close()
		appLn.Close()
		gwLn.Close()
		return fmt.Errorf("launch: --validate must be backend or local (got %q)", opts.Validate)
	}
	backend := &http.Server{Handler: demo.NewBackend(demo.BackendOptions{Signing: signing}).WithExpireSession(), ReadHeaderTimeout: 10 * time.Second}
	app := &http.Server{Handler: demo.NewApp(), ReadHeaderTimeout: 10 * time.Second}
	go backend.Serve(backendLn)
	go app.Serve(appLn)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		backend.Shutdown(sctx)
		app.Shutdown(sctx)
	}()

	logOut := opts.Log
	if logOut == nil {
		logOut = io.Discard
	}
	cfg := DemoConfig("http://"+backendLn.Addr().String()+"/api/", "http://"+appLn.Addr().String())
	cfg.Listen = gwLn.Addr().String()
	if signing == "EdDSA" {
		cfg.Validation.Mode = "local"
		cfg.Validation.Local = config.Local{JWKSURL: cfg.Backend.URL + ".well-known/jwks.json", Algorithms: []string{"EdDSA"}}
	}
	gw, err := apilayer.New(cfg, apilayer.WithLogger(apilayer.NewLogger(cfg.Log, logOut)))
	if err != nil {
		gwLn.Close()
		return fmt.Errorf("launch: %w", err)
	}
	defer gw.Close()

	url := "http://" + displayAddr(gwLn.Addr())
	if opts.Out != nil {
		fmt.Fprintf(opts.Out, "apilayer demo is running at %s\n\n", url)
		fmt.Fprintf(opts.Out, "  sign in as   alice / %s   (role: user)\n", demo.AlicePassword)
		fmt.Fprintf(opts.Out, "          or   admin / %s   (roles: admin, user)\n\n", demo.AdminPassword)
		mode := "validated by the backend on every request"
		if signing == "EdDSA" {
			mode = "verified locally against the backend's JWKS"
		}
		fmt.Fprintf(opts.Out, "  demo backend %s (JWT %s, rotating refresh tokens; tokens %s)\n", cfg.Backend.URL, signing, mode)
		fmt.Fprintf(opts.Out, "  demo web app %s (reached only through the gateway)\n\n", cfg.Upstream.URL)
		fmt.Fprintln(opts.Out, "Press Ctrl-C to stop.")
	}
	if opts.Ready != nil {
		opts.Ready(url)
	}
	err = gw.Serve(ctx, gwLn)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// displayAddr makes a wildcard listen address clickable.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return fmt.Sprintf("localhost:%d", tcp.Port)
}
