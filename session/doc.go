// Package session is apilayer's token lifecycle: the token cascade, cached
// and de-duplicated validation (against the backend or local), transparent
// and proactive refresh, dual-token mode, successor records, guest tokens
// and the failure rules of docs/token-management.md.
//
// A Manager turns the auth cookies of one request (Input) into an Outcome:
// who the visitor is (State, Identity), which token to forward, and which
// cookies to set or delete. It never writes HTTP responses; the pipeline
// does, from the Outcome. "Not authenticated" is a State, never an error.
//
// The cascade is: the user cookie; else, in dual-token mode
// (Options.DualToken), the refresh cookie, refreshed at once; else the
// guest cookie; else a guest is minted. In dual-token mode every refresh
// is authenticated with the refresh cookie, a rotated refresh token is
// returned in Outcome.Set.Refresh, and a refresh failing as expired or
// revoked deletes the refresh cookie too.
//
// In local mode (Options.Local) tokens are verified without a backend
// call. With Options.RevalidateInterval a token's first request in the
// process is confirmed with the backend, then at most once per interval,
// tracked server-side (Revalidations), so a revoked token stops working
// within one interval.
//
// After a refresh the old credential's successor is recorded for
// Options.SuccessorTTL (Successors): a request still carrying the old
// credential from the same client (Input.ClientID) gets the new tokens
// without a second backend refresh, so racing tabs never meet the
// backend's reuse detection, while a stolen old token used elsewhere does.
// A record is AES-GCM sealed under a key derived (HKDF-SHA256) from the old
// credential and bound to a SHA-256 of the client, so the store never
// holds a readable token or the client's identity.
//
// With Options.RefreshLock (distributed mode, *redisstore.Locks) the
// refresh of one credential is one backend call across every instance
// sharing the lock and the stores: the instance that takes the lock
// refreshes, records the successor and a flight record (the result, sealed
// under a key derived from the old credential and the lock's fencing
// token, for RefreshLockTTL), then unlocks; an instance that found the lock
// held waits for the release and reads that flight record, whichever
// client its requests come from, since they joined a refresh in flight. A
// request arriving after the refresh finished finds the lock free and gets
// only the successor record, for the same client. A lock that cannot be
// used (Redis down) means refreshing in this instance alone.
//
// Everything the Manager remembers (validation results, failed refreshes,
// revalidations, successor records, the guest-mint cap) lives behind small
// interfaces (Cache, Failures, Revalidations, Successors, Limiter) keyed by
// the lowercase hex SHA-256 of a token (Key), never by the token itself, so
// a shared store such as Redis can replace the in-memory ones without
// touching the Manager.
//
// A backend outage is never taken for an invalid token: no refresh, no
// guest minting and no cookie change happen while the backend cannot
// answer, and the last good result of a token is served for StaleIfError.
// A refresh that failed because the backend was unavailable is tried again
// for that credential only after a backoff (1s, doubling up to 30s, shared
// through Failures), until the backend answers a refresh of it.
package session
