// Package storetest is the conformance suite of the session package's
// pluggable stores (session.Cache, session.Failures, session.Limiter,
// session.Successors, session.Revalidations). Each exported function runs
// the suite of one interface against the stores its constructor returns;
// the memory stores and the Redis stores of package redisstore run the
// same suite, so they are interchangeable. (The rate-limit store has its
// own suite, ratelimit/storetest.)
//
// Keys are session.Key of made-up tokens, as the session passes them.
// Every constructor receives the suite's manual clock: a store must keep
// an entry while now is before its expiry and drop it from then on.
package storetest
