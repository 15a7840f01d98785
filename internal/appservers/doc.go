// Package appservers holds the end-to-end tests that put the gateway in
// front of real app servers and check what each one believes about the
// request: Django under gunicorn (WSGI), uvicorn (ASGI) and the standard
// library's wsgiref, an Express app, and a Rack app under Puma.
//
// The web apps are under testdata/. Each answers every request with JSON
// describing the identity it received (X-Auth-User and its decoded user,
// X-Auth-Token-Type, X-Locale, X-Request-ID, X-Forwarded-For, the Cookie and
// Authorization headers, every X-Middleware-* header), read the way that
// framework's users read it. The tests send every forgery of an identity
// header a client can try (other spellings, underscores, repeated lines, a
// Connection header naming the gateway's headers) and require the app to
// believe exactly the gateway's verified identity (docs/app-servers.md).
//
// The app servers are Debian packages and an npm folder; a missing one
// fails the tests with the command that installs it (`make deps` and
// `make test` install them).
package appservers
