package docgen

// notes describe the keys whose field in config/config.go has no comment.
// TestEveryKeyDocumented fails when a key has neither, or a note names a
// key that does not exist.
var notes = map[string]string{
	"listen": "The gateway's address, host:port (`:8080` listens on every interface).",

	"access.blockBrowserApiAccess": "Redirect to `homePath` a browser navigation (Accept prefers HTML, not fetch/XHR) to an API path. A convenience, not a security control.",

	"rateLimit.rules[].path":        "Glob on the cleaned path (`/api/auth/login`).",
	"rateLimit.rules[].maxRequests": "The burst this rule allows per `window`.",
	"rateLimit.rules[].window":      "Default: `rateLimit.window`.",

	"tls.certFile": "PEM certificate file; with keyFile, the gateway listens with HTTPS.",
	"tls.keyFile":  "PEM private key file of certFile.",

	"upstream.url": "The web app's base URL (Next.js, SvelteKit, Rails views...). Forwarded page requests carry the verified identity in `X-Auth-User`.",

	"guest.enabled": "Mint a guest token (backend `endpoints.guest`) for visitors without a token; it is stored in the `cookies.guest` cookie.",

	"validate.local.issuer":   "Required `iss` claim when set.",
	"validate.local.audience": "Required `aud` claim when set.",

	"access.protectedRoutes":    "Pages that need a signed-in (non-guest) user; others are redirected to `loginPath` (fetch/XHR requests get 401 JSON). A route covers the paths below it.",
	"access.authRoutes":         "Pages for signed-out visitors (login, register): a signed-in user is redirected to `homePath`.",
	"access.publicRoutes":       "Pages that stay public when `protectedByDefault` is true.",
	"access.protectedByDefault": "Every page is protected except `publicRoutes`, `authRoutes`, `loginPath` and `homePath`.",
	"access.allowedTokenTypes":  "When not empty, a non-guest token whose type is not listed is refused (cookies deleted; 403 JSON for API requests, login redirect for pages).",

	"api.skipAuthByDefault": "Forward every API request without `Authorization`, as if every endpoint were in `publicEndpoints` (the backend stays the authority).",

	"api.methodSpoofing.enabled": "Send PUT, PATCH and DELETE to the backend as POST with the real method in `fieldName` (strategy body) or in `X-HTTP-Method-Override` (strategy header), for Laravel and Rails.",

	"api.sanitize.enabled":       "Sanitize the string values of JSON request bodies (bluemonday) before they reach the backend.",
	"api.sanitize.allowedTags":   "Tags kept by mode allowList (attributes such as on*, style and javascript: URLs are removed).",
	"api.sanitize.skipFields":    "Fields left alone, by whole path segments: `content` matches `post.content`, not `maincontent`.",
	"api.sanitize.skipEndpoints": "API endpoints (globs relative to `api.prefix`) whose bodies are not sanitized.",

	"csrf.enabled":         "Check state-changing requests (methods not in `ignoreMethods`) with Fetch Metadata and/or a double-submit token; failures get 403 JSON.",
	"csrf.secret":          "HMAC key of the double-submit tokens. Unset: random per process (tokens fail across restarts and instances; a warning is logged). Required with `store.driver: redis`.",
	"csrf.previousSecrets": "Old secrets still accepted when verifying tokens, for secret rotation.",
	"csrf.trustSameSite":   "Accept `Sec-Fetch-Site: same-site` requests (sibling subdomains).",
	"csrf.trustedOrigins":  "Origins whose cross-origin requests pass the Fetch Metadata check (`cors.allowedOrigins` count too).",

	"rateLimit.enabled":    "Limit requests per client (GCRA: a burst of `maxRequests`, refilled evenly over `window`); blocked requests get 429 JSON and `Retry-After`, with no backend call.",
	"rateLimit.skipRoutes": "Globs on the cleaned path that are not counted.",

	"audit.enabled":       "Write audit events (JSON, one per line; batches for a webhook) for the types in `events`. Never blocks a request.",
	"audit.webhookSecret": "When set, webhook batches carry `X-Apilayer-Signature: sha256=<hex HMAC of the body>`.",

	"i18n.enabled":       "Locale handling: locale from the first path segment, the `cookie`, then `Accept-Language`; `?paramName=<locale>` on backend API calls; `X-Locale` to the web app.",
	"i18n.locales":       "The locales, as language tags (`en`, `pt-BR`). Required when enabled.",
	"i18n.defaultLocale": "One of `locales`. Required when enabled.",

	"cors.allowedOrigins": "Exact origins of a front end on another origin; only these get credentialed CORS responses. `*` is refused.",

	"metrics.enabled": "Serve Prometheus metrics at `path`.",
}

func init() {
	for k, v := range moreNotes {
		notes[k] = v
	}
}

// moreNotes describe keys whose comment gives only the default.
var moreNotes = map[string]string{
	"server.readHeaderTimeout": "How long a client may take to send the request headers (slowloris defence).",
	"server.idleTimeout":       "How long an idle keep-alive connection is kept.",
	"server.maxHeaderBytes":    "The largest request header block accepted.",
	"health.path":              "`GET` answers `{\"status\":\"ok\",\"backend\":\"ok\",\"store\":\"memory\",\"backendEndpoints\":{\"validate\":\"closed\",...}}` (`degraded`, still 200, while the backend is unavailable; `backendEndpoints`: each endpoint's `backend.breaker`). Not rate limited.",

	"backend.endpoints.validate": "`GET` with `Authorization: Bearer <token>`; 2xx JSON whose `mapping.user` is an object means valid.",
	"backend.endpoints.refresh":  "`POST` with `Authorization: Bearer <token>` (the refresh cookie in dual-token mode); the new token is read at `mapping.accessToken`.",
	"backend.endpoints.guest":    "`POST` with `guest.credentials` as the JSON body; the guest token is read at `mapping.accessToken`.",
	"backend.endpoints.login":    "`POST` with the browser's JSON body, by the built-in auth API.",
	"backend.endpoints.register": "`POST` with the browser's JSON body, by the built-in auth API.",
	"backend.endpoints.logout":   "`POST` with `Authorization: Bearer <token>` (best effort), by the built-in auth API.",
	"backend.mapping.user":       "The user object (validate, login, register). It is sent to the web app without any token field.",

	"cookies.user":          "The user (access) token cookie. HttpOnly.",
	"cookies.guest":         "The guest token cookie. HttpOnly.",
	"cookies.path":          "Path of every auth cookie (deletions use the same Path and Domain).",
	"cookies.guestMaxAge":   "Max-Age of the guest cookie.",
	"cookies.refreshMaxAge": "Max-Age of the refresh cookie (dual-token mode).",

	"validate.cacheSize":            "Most validation results kept in memory (keyed by SHA-256 of the token); when full, the least recently used go first. From 4096 on, the cache is split into 16 locks by key, and the least recently used entry of the inserting part goes (the count may pass the bound by at most 15 for a moment).",
	"validate.local.algorithms":     "The token header's `alg` must be listed, and fit the key (HS* for secret; RS*, PS*, ES*, EdDSA for public keys).",
	"validate.local.leeway":         "Clock skew allowed on `exp` and `nbf`.",
	"validate.local.requireExp":     "Refuse tokens without an `exp` claim.",
	"validate.local.tokenTypeClaim": "The claim holding the token type.",
	"refresh.singleFlight":          "Concurrent refreshes of one token make one backend call.",
	"refresh.proactive":             "Refresh a valid user token whose `exp` is within `proactiveWindow`; a failure (other than reuse) keeps the still-valid token.",
	"refresh.proactiveWindow":       "See `proactive`.",
	"refresh.guestFallback":         "After a failed refresh (`expired`, `revoked`, `unknown`), continue as a visitor without a token (a guest token is minted when enabled) instead of logging out. next-api-layer's `access.guestFallbackOnUserRefreshFail`.",
	"refresh.reuseStatusCodes":      "Refresh answers with these statuses mean token reuse: every auth cookie is deleted, no guest fallback.",
	"refresh.reuseCodes":            "Error codes (at `mapping.errorCode`, `/error`, `/reason`) that mean token reuse.",
	"refresh.successorTTL":          "A request still carrying a token rotated away this recently, from the same client (User-Agent and IP), gets the new token without a second refresh (racing tabs).",
	"authApi.enabled":               "Serve `{api.prefix}/auth/{login,register,logout,me,refresh,csrf}` in the gateway (cookies set and deleted by the gateway, tokens never in the bodies).",
	"api.prefix":                    "Requests at or below this path are API requests, proxied to `backend.url`.",
	"api.methodSpoofing.fieldName":  "The JSON body field (strategy body) holding the real method.",
	"csrf.cookieName":               "The double-submit token cookie (not HttpOnly, SameSite=Strict).",
	"csrf.headerName":               "The request header that must echo the token.",
	"csrf.ignoreMethods":            "Methods never checked.",
	"clientIP.headers":              "Forwarded headers read, in order, only when the connection comes from `trustedProxies`. The default suits a CDN that sets `CF-Connecting-IP` or `True-Client-IP`; behind a plain load balancer list only the header it sets (e.g. `[x-forwarded-for]`): with `trustedProxies` set and this list left at its default, `serve` and `check` warn.",
	"rateLimit.window":              "The time in which `maxRequests` are refilled.",
	"rateLimit.maxRequests":         "The burst allowed per client.",
	"rateLimit.skipPrefetch":        "Do not count GET/HEAD prefetches (`Next-Router-Prefetch: 1`, `Sec-Purpose: prefetch`...).",
	"audit.queueSize":               "Events queued for the output; when full, events are dropped and counted (a request never waits).",
	"i18n.paramName":                "The query parameter added to backend API calls.",
	"i18n.cookie":                   "The cookie that remembers a visitor's locale.",
	"cors.allowedHeaders":           "Request headers allowed in CORS preflights.",
	"cors.maxAge":                   "How long browsers may cache a preflight answer.",
	"store.redis.url":               "`redis://` or `rediss://` URL (a password in it is redacted by `check`).",
	"store.redis.keyPrefix":         "Prefix of every key the gateway writes.",
	"metrics.path":                  "Where the metrics are served (must differ from `health.path`).",
	"access.rules[].path":           "Glob on the full path (`/admin/**`).",
	"backend.mapping.accessToken":   "The new token in refresh, guest, login and register answers.",
	"backend.mapping.refreshToken":  "The rotated refresh token (dual-token mode, `cookies.refresh`).",
	"cookies.secure":                "`auto` (Secure when the request came over TLS, or from a trusted proxy saying `X-Forwarded-Proto: https`), `true` or `false`.",
	"access.loginPath":              "Where signed-out visitors of protected pages are redirected (307). Never protected itself.",
	"access.homePath":               "Where signed-in users visiting an auth route are redirected (307).",
	"api.maxBodySize":               "Larger API request bodies get 413 (before anything is sent when the length is declared).",
}
