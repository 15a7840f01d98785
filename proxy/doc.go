// Package proxy holds the gateway's two reverse proxies and the header
// policy they share (docs/security.md, docs/how-it-works.md,
// docs/proxy-handler.md).
//
// Upstream (NewUpstream) forwards page requests to the web app, or serves a
// static folder with single-page-app fallback in its place. It passes on the
// verified identity headers the pipeline set, replaces the client's
// forwarded headers with what the gateway resolved, never lets X-Auth-User
// or X-Refreshed-Token reach the browser, drops Set-Cookie lines for the
// gateway's own cookies (UpstreamOptions.ReservedCookies), streams
// server-sent events and WebSockets, and answers failures with small HTML
// pages: 502 when the web app is unreachable, 504 when its response headers
// do not come within the timeout.
//
// The API proxy (NewAPI) forwards {api.prefix}/... to the JWT backend with
// the effective Bearer token and answers failures with the JSON bodies of
// docs/proxy-handler.md.
//
// Both proxies are httputil.ReverseProxy with Rewrite, and both apply the
// same request header policy inside Rewrite, that is after ReverseProxy
// removed the hop-by-hop headers:
//
//   - Header names are compared the way many app servers read them, case
//     ignored and '_' read as '-' (CGI, WSGI and Rack turn X_Auth_User
//     into X-Auth-User). Every spelling of an identity header
//     (StripInternal), of X-Middleware-*, of the forwarded family
//     (X-Forwarded-For/-Proto/-Host/-Port/-Prefix, Forwarded, X-Real-IP,
//     CF-Connecting-IP, True-Client-IP), of X-Request-ID and of the
//     routing override headers (X-Original-URL, X-Rewrite-URL,
//     X-HTTP-Method-Override) is removed in one pass over the names.
//   - The forwarded headers are set from what the gateway resolved, then
//     the headers the pipeline set on the inbound request (identity
//     headers, X-Request-Id, Cookie and Authorization on pages;
//     Authorization and X-Request-Id on the API) are copied to the
//     outbound one last, so a client's Connection header cannot remove
//     them.
//   - Only WebSocket upgrades pass; any other Upgrade (h2c, ...) becomes a
//     plain HTTP/1.1 request.
//
// The wait for response headers (upstream.timeout, api.timeout) starts
// once the request body has been sent, whatever Transport is used, and
// never cuts a response body. StripFromResponse is the response side of
// the policy; ClassifyError maps a forwarding error to its status: 502
// unreachable, 504 timeout, 499 client gone.
package proxy
