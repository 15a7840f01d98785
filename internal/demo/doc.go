// Package demo is the demo JWT backend and the demo web app behind
// `apilayer demo` (docs/cli.md).
//
// Backend is a complete, in-memory JWT backend that follows the backend
// contract of docs/quick-start.md#what-your-backend-must-answer (the
// default backend.endpoints and backend.mapping): HS256 access tokens (or
// EdDSA or RS256 ones, their public keys at .well-known/jwks.json, with key
// rotation by RotateKey), guest tokens, rotating refresh tokens with reuse
// detection, logout revocation, Laravel-style validation errors and a few
// demo API routes. It is also the
// realistic backend that the gateway's tests and benchmarks run against, so
// its answers are part of the test contract.
//
// NewApp is a small web app that sits behind the gateway and shows the
// identity the gateway hands it in the X-Auth-User and X-Auth-Token-Type
// request headers. Its pages are a React app built with @apilayer/react
// (clients/react/demo), bundled into web/dist and embedded: the server
// renders each page's shell with that identity as the app's initial user.
//
// The web app trusts those headers blindly: it must only ever be reachable
// through the gateway, which strips any client-sent copy of them
// (docs/security.md#what-is-stripped). Never expose it on its own listener
// to the network.
package demo
