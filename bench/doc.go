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
//	RESULT cached_vs_bare=<x> local_vs_bare=<x> miss_vs_bare=<x> full_vs_cached=<x> validate_calls_per_token=<n> p99_added_ms=<x> bytes_per_session=<n> redis_vs_bare=<x> cpu_cached_vs_bare=<x> cpu_local_vs_bare=<x> cpu_redis_vs_bare=<x> cpu_traced_vs_cached=<x> cpu_signed_vs_cached=<x>
//
// cpu_*_vs_bare is the setup's process CPU per request over the bare
// proxy's (the steadier figure on a shared machine); the redis figures are
// "na" when redis-server is missing.
//
// Absolute numbers on a shared machine are noise: only the ratios measured
// in one run are meant to be compared. See docs/benchmarks.md.
//
// # Chaos suite
//
//	go run ./bench -chaos              # full run, about 6 minutes (make chaos)
//	go run ./bench -chaos -quick       # smoke run, under 2 minutes (make test)
//	go run ./bench -chaos -apilayer ./apilayer   # another build of the binary
//
// The chaos suite puts faults under load and checks the answers against
// the contract (docs/how-it-works.md, docs/distributed.md). On loopback, it
// builds ./cmd/apilayer and runs three instances of `apilayer serve` (so
// SIGTERM and SIGHUP meet the binary's own handling) sharing one
// redis-server, in front of its own JWT backend (role chaos-backend: opaque
// tokens it keeps, with rotation and reuse detection that revokes the
// family, faults switched at run time, every call recorded by instance)
// and web app (role chaos-upstream: it says whose identity it received).
// The gateways use the defaults except shorter timeouts (backend.timeout
// 2s, api.timeout 5s, server.bodyIdleTimeout 1s, shutdownTimeout 10s),
// guests on, /account protected, metrics on and the load trusted as the
// proxy that sets X-Forwarded-For.
//
// The load is thousands of users, each with its own client IP (in
// X-Forwarded-For), User-Agent and cookie jar, one in three with two or
// three tabs sharing the jar, and visitors without an account (guests, some
// leaving and new ones arriving). Requests are 40% public pages, 20% a
// protected page and 40% API calls through the API proxy, each to a random
// instance, as a load balancer without affinity sends them. The users'
// tokens expire spread over the soak. In order, under that load:
//
//   - soak, with some sessions ended at the backend (their cookie deletion
//     is due), slow-body clients (headers and a few chunks, then a stall:
//     each must be ended by server.bodyIdleTimeout, with 408 or by the
//     connection closing, between half of it and 5 s past it after its last
//     byte) and, when the binary reloads on SIGHUP, a reload of one
//     instance mid-load (a valid change, then a broken file that must be
//     refused);
//   - the backend answering 503, hanging, resetting connections, each with
//     a cohort of users whose tokens expire inside the outage, and each
//     followed by a recovery that lasts until every instance's breakers
//     have closed; then a slow backend;
//   - a refresh storm: users with three tabs each, every token expiring in
//     the same second: each user must be refreshed exactly once;
//   - Redis stalling (stopped for 300 ms every 700 ms: each stall outlasts
//     store.redis.timeout), then paused (SIGSTOP, then SIGCONT), then
//     killed and started again empty on the same port, each with a cohort
//     of users with three tabs whose tokens expire meanwhile. Without
//     store.peers in the binary the load then sends each user to one
//     instance (said in the report): instances cannot share a refresh
//     without Redis or peers;
//   - SIGTERM of one instance with slow requests in flight on it, after
//     the load balancer took it out of rotation: they must finish, the
//     process must exit 0, the other instances keep serving.
//
// The last line is machine-readable:
//
//	CHAOS requests=<n> failed=<n> logouts=<n> duplicate_refreshes=<n> backend_calls_during_outage=<n> fd_end_vs_start=<x> goroutines_end_vs_start=<x> rss_growth_mb=<x>
//
// requests are all the requests the load sent and got an answer or an
// error for (the harness's own health, metrics and control calls aside).
//
// failed counts answers other than what the contract promises. While the
// backend is down (from the fault until every breaker has closed again),
// the contract's answers are not failures: 503 "Authentication service
// unavailable." (API) or the 503 page (protected page), a page forwarded
// without identity, and, while the backend itself fails, the API proxy's
// 502 and 504 and the backend's own 503; for a user whose expired token
// could not be refreshed during the outage, the 503s until the gateway's
// failed-refresh memory lets it try again (at most 30 s after). Everything
// else is a failure: a transport error, a 5xx outside those cases, a 429,
// a 401 or a redirect to the login page for a valid session, a user's page
// without their identity or with anyone else's, a visitor's page without
// its guest identity, a request in flight at SIGTERM not answered 200, a
// slow-body client not ended as above, and every logout.
//
// logouts counts user cookies deleted while the user's session was valid
// at the backend (the test had not ended it). A logged-out user logs in
// again, so each logout counts once.
//
// duplicate_refreshes counts the refresh calls that reached the backend's
// rotation logic beyond one per token rotation: reuse of a rotated token,
// and refreshes of a family revoked by reuse (sessions the test ended are
// left out; their dead token may be tried again by design).
//
// backend_calls_during_outage counts the gateway's own calls (validate,
// refresh, guest, login, register, logout) the backend received while it
// was failing (503, hang, reset), over all instances; the API requests the
// gateway proxies are the application's traffic and are reported apart.
// The goal is the breakers' bound: per instance and endpoint, once the
// call that opened the breaker ended (the backend.breaker.failures-th
// unavailable answer), at most one probe per open interval (1 s doubling
// to 30 s) over the rest of the outage, plus one. The calls before that
// (the first failures, those already in flight, and with a hanging backend
// all those of the first backend.timeout) are reported as "before the
// breakers opened".
//
// fd_end_vs_start and goroutines_end_vs_start compare, summed over the
// instances that ran from start to end, the open fds (/proc/<pid>/fd) and
// go_goroutines (/metrics) after the warm-up with those at the end, each
// measured once the load stopped and closed its connections and the counts
// held still for 1.5 s (at most 20 s). The gateway's pooled connections to
// the backend, the web app and Redis (and their two goroutines per HTTP
// connection) are left out: the pools keep them for 90 s or longer whatever
// the load did. Back to baseline means at most 10% + 5 per instance above
// the start. rss_growth_mb is the growth of the same instances' VmRSS in
// MiB, reported, not judged.
//
// Every run asserts the goals: failed 0, logouts 0, duplicate_refreshes 0,
// calls within the breakers' bound, fds and goroutines back to baseline;
// and that it exercised what it claims (the gateways reported each outage
// in their health, most users of the storm and of the cohorts of the
// Redis and reload steps were refreshed, the ended sessions were deleted,
// the reload was applied and the broken file refused). It
// never judges a speed. It exits 1 when one is missed, keeping the
// gateways' configurations and logs for a look.
package main
