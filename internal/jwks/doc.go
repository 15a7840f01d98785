// Package jwks is the JSON Web Key Set cache that localjwt
// (validate.local.jwksURL) and the signed-identity Verifier of package
// assertion share: the last good key set of one URL, kept up to date
// without ever letting a token decide how often the URL is fetched.
//
//   - A token whose kid is not in the set triggers one refetch, and such
//     refetches happen at most once per Options.MinRefetch whatever the
//     number of tokens: random kids cannot make the verifier hammer the
//     key set's server. Concurrent callers share one fetch.
//   - A failed fetch, an oversized body, more than 100 keys, or a set
//     without a usable key keeps the last good set. The miss it answers
//     carries the fetch's error ([UnknownKeyError.FetchErr]), so that the
//     caller can tell "the server is down" (the token may be valid) from
//     "a fresh set lacks this key" (it is not).
//   - A set older than Options.MaxAge is refetched in the background when a
//     lookup notices it, so a key removed from the set stops verifying.
//     There is no ticker: fetch goroutines start on demand, belong to the
//     Cache, and are cancelled and awaited by [Cache.Close].
//
// What differs between the callers is a parameter: the algorithms they
// accept and which of them a key fits (Options.Algorithms and
// Options.Fits), and what a miss means for them (they read
// [UnknownKeyError]). A key that names its alg is used with that alg only;
// keys whose use is not "sig", and symmetric keys, are ignored.
//
// Logs name the URL without its password, never a key or a token.
package jwks
