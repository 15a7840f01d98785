// Package session is apilayer's token lifecycle: the token cascade, cached
// and de-duplicated validation, transparent refresh, guest tokens and the
// failure rules of SPEC.md sections 4.1 to 4.3.
//
// A Manager turns the auth cookies of one request (Input) into an Outcome:
// who the visitor is (State, Identity), which token to forward, and which
// cookies to set or delete. It never writes HTTP responses; the pipeline
// does, from the Outcome. "Not authenticated" is a State, never an error.
//
// Everything the Manager remembers (validation results, failed refreshes,
// the guest-mint cap) lives behind small interfaces (Cache, Failures,
// Limiter) keyed by the lowercase hex SHA-256 of a token (Key), never by
// the token itself, so a shared store such as Redis can replace the
// in-memory ones without touching the Manager.
//
// A backend outage is never taken for an invalid token: no refresh, no
// guest minting and no cookie change happen while the backend cannot
// answer, and the last good result of a token is served for StaleIfError.
package session
