// Package backend is apilayer's HTTP client for the external JWT backend
// contract of backend.endpoints: validate, refresh, guest, login, register
// and logout calls, with the response mapping given by JSON Pointers
// (RFC 6901).
//
// The client separates three outcomes that auth proxies often confuse:
//
//   - the backend answered "no" (ErrInvalid, a *RefreshError with a reason),
//   - the backend could not be asked (ErrUnavailable: timeout, connection
//     error, 5xx, 429), which must never log anybody out,
//   - the caller gave up (its own context was cancelled).
//
// Each endpoint has a circuit breaker (BreakerOptions, backend.breaker):
// after consecutive unavailable outcomes its calls fail at once as
// unavailable, without waiting for the backend's timeout, until a probe
// gets an answer again. Breakers reports the state of each.
//
// Identities returned by the client never contain tokens: the values at the
// mapping's accessToken and refreshToken pointers and the fields named
// token, accessToken, refreshToken, access_token and refresh_token are
// removed before anything leaves this package. Tokens are never logged.
package backend
