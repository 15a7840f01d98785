// Package proxy holds the gateway's two reverse proxies and the header
// policy they share.
//
// Upstream (NewUpstream) forwards page requests to the web app, or serves a
// static folder with single-page-app fallback in its place. It passes on the
// verified identity headers the pipeline set (SPEC.md section 4.4), replaces
// the client's X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host with
// what the gateway resolved, never lets X-Auth-User or X-Refreshed-Token
// reach the browser, streams server-sent events and WebSockets, and answers
// failures with small HTML pages: 502 when the web app is unreachable, 504
// when its response headers do not come within the timeout.
//
// The API proxy forwards {api.prefix}/... to the JWT backend with the
// effective Bearer token (SPEC.md section 4.5) and answers failures with the
// JSON bodies of the contract.
//
// Both proxies are httputil.ReverseProxy with Rewrite. StripInternal and
// StripFromResponse are the header policy; ClassifyError maps a forwarding
// error to its status: 502 unreachable, 504 timeout, 499 client gone.
package proxy
