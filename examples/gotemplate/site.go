package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/apiclient"
	"github.com/apilayer/apilayer/config"
)

// siteConfig says how newSite builds the app and its gateway.
type siteConfig struct {
	// BackendURL is the JWT backend's base URL, ending in /api/ for the
	// demo backend.
	BackendURL string
	// Guests mints a guest token for anonymous visitors.
	Guests bool
	// GuestLogin is the JSON body of the backend's auth/guest call.
	GuestLogin map[string]any
}

// site is the app with the gateway in front of it.
type site struct {
	gw      *apilayer.Gateway
	api     *apiclient.Client
	handler http.Handler
}

// gatewayConfig is the gateway configuration of the app, written in Go
// (config.Load reads the same from YAML):
//   - /dashboard needs a signed-in user (guests and anonymous visitors are
//     sent to /login?next=/dashboard), /login is an auth route (a signed-in
//     user is sent home), /static is served without authentication;
//   - /admin/** needs the admin role (access.rules);
//   - CSRF protection (double-submit token in the __csrf cookie);
//   - the locale (en or tr) from the NEXT_LOCALE cookie or
//     Accept-Language, handed to the app and sent to the backend as lang.
func gatewayConfig(c siteConfig) config.Config {
	return config.Config{
		Backend: config.Backend{URL: c.BackendURL, Timeout: 10 * time.Second},
		Guest:   config.Guest{Enabled: c.Guests, Credentials: c.GuestLogin},
		Access: config.Access{
			ProtectedRoutes: []string{"/dashboard"},
			AuthRoutes:      []string{"/login"},
			ExcludedPaths:   []string{"/static"},
			ReturnParam:     "next",
			Rules:           []config.Rule{{Path: "/admin/**", Roles: []string{"admin"}}},
		},
		// A random secret per process: fine for one instance; set a fixed
		// one (from the environment) when you run several.
		CSRF: config.CSRF{Enabled: true, Secret: rand.Text()},
		I18n: config.I18n{Enabled: true, Locales: []string{"en", "tr"}, DefaultLocale: "en"},
	}
}

// newSite builds the gateway, the API client and the app's handler.
func newSite(c siteConfig) (*site, error) {
	gw, err := apilayer.New(gatewayConfig(c))
	if err != nil {
		return nil, fmt.Errorf("gotemplate: gateway: %w", err)
	}
	// The client reads the token and the locale of each call from
	// apilayer.AuthFrom(ctx): pass it the handler's r.Context().
	api, err := apiclient.New(apiclient.Config{BaseURL: c.BackendURL, Timeout: 10 * time.Second})
	if err != nil {
		gw.Close()
		return nil, fmt.Errorf("gotemplate: api client: %w", err)
	}
	a, err := newApp(api)
	if err != nil {
		api.Close()
		gw.Close()
		return nil, err
	}
	// Middleware serves the built-in auth API (/api/auth/login, logout,
	// me, ...) and the API proxy (/api/...) itself, and hands every other
	// request, once authenticated, to the app.
	return &site{gw: gw, api: api, handler: gw.Middleware(a)}, nil
}

// Handler returns the app behind the gateway.
func (s *site) Handler() http.Handler { return s.handler }

// Close releases the gateway and the API client.
func (s *site) Close() error {
	return errors.Join(s.api.Close(), s.gw.Close())
}
