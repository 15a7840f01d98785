// Package forwardauth holds the end-to-end tests of forward-auth mode
// (authz, docs/forward-auth.md): apilayer as the authorizer of a proxy
// that stays in front of the web app.
//
// nginx (auth_request) and Caddy (reverse_proxy with handle_response, the
// written-out form of forward_auth) are the real Debian binaries, started
// by the tests on loopback with the configurations in testdata/, in front
// of a recording web app, with a gateway and the demo backend behind them.
// Traefik (forwardAuth) and Envoy (ext_authz, HTTP service) have no Debian
// package: the tests speak their conventions in Go, as their sources
// implement them, configured by the files in testdata/ (the same
// documents docs/forward-auth.md shows). One list of scenarios runs
// against all four.
//
// A missing nginx or caddy fails the tests with the command that installs
// it (`make deps` and `make test` install them).
package forwardauth
