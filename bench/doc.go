// Command bench is apilayer's load harness: it measures the gateway side by
// side with a bare httputil.ReverseProxy in front of the same upstream, on
// loopback, on the same machine, in one run.
//
// Usage:
//
//	go run ./bench                       # full run (about 13 minutes)
//	go run ./bench -quick                # smoke run (about a minute, no caddy)
//	go run ./bench -out bench/results/2026-01-02.md
//	go run ./bench -quick -profile /tmp/prof   # CPU and heap profiles of each gateway
//
// It starts every server in its own process (it re-executes itself with a
// hidden role argument), so that the peak RSS of each one (VmHWM in
// /proc/<pid>/status) is its own: the demo JWT backend (EdDSA tokens, JWKS),
// an upstream serving a 2 KB page, a bare reverse proxy to that upstream, a
// bare reverse proxy to the backend (for the API scenario), one apilayer
// gateway per scenario, a redis-server with one gateway (redis) and three
// more sharing it (redis3, loaded round robin) for distributed mode, and in
// a full run Caddy with forward_auth (the anchor users would pick
// instead). A missing redis-server or caddy skips its setups with a
// printed reason. It then drives keep-alive load at a fixed
// concurrency with a closed-loop load generator, alternating the setups in
// each round (forward, then reverse order in the next round), and reports
// medians of per-round figures, the backend calls per request, and the
// peak RSS of each process.
//
// The last line of the output is machine-readable:
//
//	RESULT cached_vs_bare=<x> local_vs_bare=<x> miss_vs_bare=<x> full_vs_cached=<x> validate_calls_per_token=<n> p99_added_ms=<x> bytes_per_session=<n> redis_vs_bare=<x> cpu_cached_vs_bare=<x> cpu_local_vs_bare=<x> cpu_redis_vs_bare=<x> cpu_traced_vs_cached=<x>
//
// cpu_*_vs_bare is the setup's process CPU per request over the bare
// proxy's (the steadier figure on a shared machine); the redis figures are
// "na" when redis-server is missing.
//
// Absolute numbers on a shared machine are noise: only the ratios measured
// in one run are meant to be compared. See docs/benchmarks.md.
package main
