// Command gotemplate is a small Go web app (html/template) behind the
// apilayer gateway used as net/http middleware: the gateway keeps the tokens
// in httpOnly cookies, validates and refreshes them, mints guest tokens and
// protects routes; the app reads the identity with apilayer.AuthFrom and
// calls the backend's API with the visitor's token through package
// apiclient.
//
// Run it from the repository root:
//
//	go run ./examples/gotemplate
//
// Without -backend it starts the in-memory demo JWT backend on a loopback
// port by itself (users alice / alice-password and admin / admin-password).
// See README.md in this folder.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/apilayer/apilayer/internal/demo"
)

// options are the command-line flags.
type options struct {
	listen        string // the app's address
	backend       string // the JWT backend's base URL; "" starts the demo backend
	guests        bool   // mint guest tokens for anonymous visitors
	guestUsername string
	guestPassword string
	// ready, if set, is told the app's URL once it is serving (tests).
	ready func(url string)
}

func main() {
	o := options{}
	flag.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve the app on")
	flag.StringVar(&o.backend, "backend", "", "base URL of your JWT backend, e.g. http://127.0.0.1:8000/api/ (empty: start the demo backend on loopback)")
	flag.BoolVar(&o.guests, "guests", true, "mint a guest token for anonymous visitors")
	flag.StringVar(&o.guestUsername, "guest-username", demo.GuestUsername, "guest credentials sent to the backend's auth/guest")
	flag.StringVar(&o.guestPassword, "guest-password", demo.GuestPassword, "guest credentials sent to the backend's auth/guest")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run starts the demo backend when no backend URL is given, then serves the
// app (behind the gateway) on o.listen until ctx is done.
func run(ctx context.Context, o options, out io.Writer) error {
	backendURL := o.backend
	if backendURL == "" {
		stopBackend, u, err := startDemoBackend()
		if err != nil {
			return err
		}
		defer stopBackend()
		backendURL = u
		fmt.Fprintf(out, "demo backend on %s (users: alice / %s, admin / %s)\n", u, demo.AlicePassword, demo.AdminPassword)
	}

	s, err := newSite(siteConfig{
		BackendURL: backendURL,
		Guests:     o.guests,
		GuestLogin: map[string]any{"username": o.guestUsername, "password": o.guestPassword},
	})
	if err != nil {
		return err
	}
	defer s.Close()

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("gotemplate: listen: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "open %s\n", url)
	if o.ready != nil {
		o.ready(url)
	}

	select {
	case err := <-served:
		return fmt.Errorf("gotemplate: serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("gotemplate: shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("gotemplate: serve: %w", err)
	}
	return nil
}

// startDemoBackend serves the demo JWT backend on a loopback port and
// returns a function that stops it and the backend's base URL.
func startDemoBackend() (stop func(), baseURL string, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("gotemplate: demo backend: %w", err)
	}
	srv := &http.Server{Handler: demo.NewBackend(demo.BackendOptions{}), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln) // returns http.ErrServerClosed at Close
	}()
	stop = func() {
		srv.Close()
		<-done
	}
	return stop, "http://" + ln.Addr().String() + "/api/", nil
}
