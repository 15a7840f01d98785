// Package access decides what happens to a request once its session is
// known: forward it, redirect it to the login or home page, or refuse it
// (docs/how-it-works.md#decisions). It holds the route lists of
// config.Access (protectedRoutes, authRoutes, publicRoutes, excludedPaths),
// the allowed token types and the login and home paths.
//
// Deciding is separated from responding: Policy.Decide returns a Decision
// and the gateway's pipeline writes the response, so the same table serves
// the binary, the net/http middleware and the tests.
package access
