// Package audit records security events (audit.*, docs/security.md#audit):
// logins, failed validations, refreshes, token reuse, access denials, CSRF
// failures and rate-limit refusals.
//
// An [Event] is a typed struct, not a log line. [Logger.Emit] hands it to a
// bounded queue and returns at once: it never blocks, never fails and never
// slows the request that emits it (next-api-layer awaited its audit logger
// on the request path). When the queue is full
// the event is dropped and counted ([Logger.Dropped]).
//
// One goroutine per Logger, owned by it and stopped by [Logger.Close],
// drains the queue into the output:
//
//   - "stdout", "stderr" or "file:<path>": one JSON event per line (the
//     file is opened for appending, created with mode 0600);
//   - an http(s) URL: a webhook that receives POSTed JSON arrays of events
//     (batches), retried with backoff on network errors, 5xx and 429, and
//     signed with X-Apilayer-Signature: sha256=<hex HMAC-SHA256 of the body>
//     when a secret is set.
//
// Events that cannot be delivered are dropped, counted and reported in the
// log at most once every ten seconds. Nothing secret is logged: not the
// webhook secret, nor the webhook URL's query or credentials.
package audit
