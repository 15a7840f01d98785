package config

import "slices"

// Warnings returns what is valid but risky in a resolved config (defaults
// applied), one "path.to.key: message" each: the gateway logs them at
// start and "apilayer check" prints them.
func (c *Config) Warnings() []string {
	var w []string
	if c.CSRF.Enabled && c.CSRF.Secret == "" {
		w = append(w, "csrf.secret: not set: a random per-process secret is used, so CSRF tokens fail across restarts and instances; set csrf.secret (e.g. from an environment variable)")
	}
	if len(c.ClientIP.TrustedProxies) > 0 && slices.Equal(c.ClientIP.Headers, DefaultIPHeaders) {
		// The default list suits a CDN in front, which sets CF-Connecting-IP
		// or True-Client-IP itself. Behind a plain load balancer that passes
		// those headers through, any client could choose its IP.
		w = append(w, "clientIP.headers: the default list believes CF-Connecting-IP and True-Client-IP from clientIP.trustedProxies first: unless those proxies are Cloudflare or Akamai (which set them), a client can send them through your proxy and choose its IP (rate limits, audit); set clientIP.headers to the headers your proxy sets, e.g. [x-forwarded-for]")
	}
	if !c.Access.ProtectedByDefault && !c.Access.CaseInsensitive {
		w = append(w, "access.caseInsensitive: false while access.protectedByDefault is false: a web app that routes in any letter case (Express by default, IIS) serves /Dashboard as /dashboard, and the gateway does not protect /Dashboard; set access.caseInsensitive: true for such an app, or protect by default")
	}
	if c.Identity.Sign && c.Identity.KeyFile == "" {
		w = append(w, "identity.keyFile: not set: a signing key is generated at start, so the web app meets a new key (kid) after every restart and must refetch /_apilayer/jwks.json (one configured with the public key PEM stops accepting assertions); set identity.keyFile to keep one key")
	}
	if c.Authz.Enabled && len(c.ClientIP.TrustedProxies) == 0 {
		w = append(w, "authz.enabled: clientIP.trustedProxies is empty, so every forward-auth sub-request is refused (403): the gateway believes a sub-request only from a trusted proxy; list the proxy that sends them (e.g. [127.0.0.1] or its network)")
	}
	if c.Metrics.Enabled && c.Admin.Listen == "" {
		w = append(w, "metrics.enabled: metrics are served at "+c.Metrics.Path+" on listen, where anyone who reaches the gateway can read them; set admin.listen (e.g. 127.0.0.1:9090) to serve them on an admin listener instead, or block "+c.Metrics.Path+" in front of the gateway")
	}
	return w
}
