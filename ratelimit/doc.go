// Package ratelimit limits how many requests a client may make
// (rateLimit.*, docs/security.md).
//
// Every limit follows GCRA (the generic cell rate algorithm): a limit of
// Burst requests per Period lets a client make Burst requests at once and
// then refills its allowance evenly, one request every Period/Burst. This
// replaces the fixed-window counter of next-api-layer, whose counter kept
// growing while blocked and whose window edges allowed twice the limit in a
// short time.
//
// The state lives in a [Store]. [MemoryStore] keeps it in process, bounded
// in size; a Redis store plugs in through the same one-method interface and
// proves itself with the conformance suite of package
// [github.com/apilayer/apilayer/ratelimit/storetest].
//
// A [Limiter] applies the configuration to a request: skip globs, prefetch
// detection, the global limit and the stricter per-path rules. It separates
// deciding from responding: [Limiter.Check] counts the request once and
// returns a [Decision]; [Decision.SetHeaders] writes the X-RateLimit-*
// headers on any response and [Decision.Deny] writes the 429 answer.
//
// Requests are counted under a key the caller chooses: a user id, or the
// client's address as [ClientKey] gives it, which counts an IPv6 client by
// its prefix (rateLimit.ipv6PrefixLength), since one subscriber usually
// holds a whole /64.
//
// A store that fails (Redis down) never fails a request: the Limiter falls
// back to an in-process memory store for that call and reports the failure
// in [Decision.Err] (and, at most once a minute, in its log).
package ratelimit
