// Package authn is the identity vocabulary the gateway's packages share,
// small enough for any program to import: who a request is (Auth, read
// with FromContext), what the backend or a local JWT check said about a
// token (Identity, ErrInvalid, ErrUnavailable), why a refresh failed
// (Reason), and the states of a session (State).
//
// A Go handler behind the gateway (apilayer.Gateway.Middleware) reads the
// request's identity with FromContext; package apiclient uses it to call
// the backend as the user, without linking the gateway itself.
package authn
