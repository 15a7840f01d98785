package initcmd

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/apilayer/apilayer/config"
)

// Render returns the commented apilayer.yaml for a. It checks a first, and
// checks its own output with the config package (decode, defaults,
// validate) before returning it, so what it returns is a file that
// "apilayer check" accepts.
func Render(a Answers) ([]byte, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	p, _ := PresetByKey(a.Framework)
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	if p.Key == NextAPILayer {
		w("# apilayer.yaml, written by \"apilayer init\" for a backend built for next-api-layer.\n")
	} else {
		w("# apilayer.yaml, written by \"apilayer init\" for a %s backend.\n", p.Name)
	}
	if a.Migrating {
		w("# Moving from next-api-layer: docs/migrating-from-next-api-layer.md, step by step.\n")
	}
	w("# Keys left out take their defaults; every key is described in docs/configuration.md.\n")
	w("# Check this file with: apilayer check --config apilayer.yaml\n")
	w("# ${VAR} and ${VAR:-default} are read from the environment when the gateway starts;\n")
	w("# $$ is a literal $.\n\n")

	w("listen: %s   # the gateway's address\n\n", lit(config.DefaultListen))

	w("# The external JWT backend. Endpoint paths are joined to url.\n")
	w("backend:\n")
	if a.BackendURL == "" {
		w("  url: %s\n", quote("${"+DefaultBackendEnv+":-"+DefaultBackendURL+"}"))
	} else {
		w("  url: %s\n", lit(a.BackendURL))
	}
	w("  endpoints:\n")
	e := p.Endpoints
	for _, ep := range []struct{ key, val, note string }{
		{"validate", e.Validate, "GET, Authorization: Bearer <token>"},
		{"refresh", e.Refresh, "POST, Authorization: Bearer <token>"},
		{"guest", e.Guest, "POST, JSON body = guest.credentials"},
		{"login", e.Login, "POST, the browser's JSON body"},
		{"register", e.Register, "POST, the browser's JSON body"},
		{"logout", e.Logout, "POST, Authorization: Bearer <token>"},
	} {
		w("    %-9s %-16s # %s\n", ep.key+":", lit(ep.val), ep.note)
	}
	w("  # JSON Pointers (RFC 6901) into the backend's answers. This preset expects:\n")
	for _, s := range p.Shape {
		w("  #   %s\n", s)
	}
	w("  mapping:\n")
	m := p.Mapping
	for _, mp := range []struct{ key, val, note string }{
		{"success", m.Success, "present and false => failure"},
		{"user", m.User, "the user object (validate, login, register)"},
		{"tokenType", m.TokenType, "missing => \"user\"; guest tokens say \"guest\""},
		{"expiresAt", m.ExpiresAt, "unix seconds"},
		{"accessToken", m.AccessToken, "refresh, guest, login, register"},
		{"refreshToken", m.RefreshToken, "dual-token mode (cookies.refresh)"},
		{"errorCode", m.ErrorCode, "refresh failure code (/error and /reason are read too)"},
	} {
		w("    %-13s %-22s # %s\n", mp.key+":", lit(mp.val), mp.note)
	}
	w("\n")

	w("# The web app: page requests go here, with the verified user in X-Auth-User.\n")
	w("upstream:\n")
	w("  url: %s\n\n", lit(a.UpstreamURL))

	w("# The tokens live in httpOnly cookies; secure: auto sets Secure on HTTPS requests.\n")
	w("cookies:\n")
	w("  user: %s\n", lit("userAuthToken"))
	w("  guest: %s\n", lit("guestAuthToken"))
	w("  secure: auto\n")
	w("  sameSite: lax\n\n")

	w("# Guest tokens for anonymous visitors: the credentials are sent as the JSON body\n")
	w("# of the guest call, read from the environment (never written here).\n")
	w("guest:\n")
	if a.Guest {
		w("  enabled: true\n")
		w("  credentials:\n")
		w("    username: %s\n", quote("${"+a.GuestUserEnv+"}"))
		w("    password: %s\n", quote("${"+a.GuestPassEnv+"}"))
	} else {
		w("  enabled: false\n")
		w("  # credentials: {username: \"${%s}\", password: \"${%s}\"}\n", DefaultGuestUserEnv, DefaultGuestPassEnv)
	}
	w("\n")

	w("# Route access. protectedRoutes need a signed-in user (others go to loginPath);\n")
	w("# authRoutes send a signed-in user to homePath. A route covers the paths below it.\n")
	w("access:\n")
	w("  protectedRoutes: %s\n", list(a.ProtectedRoutes))
	w("  authRoutes: %s\n", list(a.AuthRoutes))
	w("  loginPath: %s\n", lit("/login"))
	w("  homePath: %s\n", lit("/"))
	w("  # rules: [{path: /admin/**, roles: [admin]}]   # role rules; see docs/examples/role-based-access.md\n\n")

	w("# The API proxy: {prefix}/... goes to backend.url with the Bearer token.\n")
	w("api:\n")
	w("  prefix: %s\n", lit(config.DefaultAPIPrefix))
	if spoof := a.spoofing(); spoof != "" {
		who := p.Name
		if p.Key == NextAPILayer {
			who = "The backend"
		}
		w("  # %s reads the real method of a POST from %s.\n", who, spoofingSource(spoof))
		w("  methodSpoofing: {enabled: true, strategy: %s, fieldName: _method}\n", spoof)
	} else {
		w("  methodSpoofing: {enabled: false}   # PUT/PATCH/DELETE sent as POST + _method\n")
	}
	w("  sanitize: {enabled: false, mode: strip}   # strip HTML from JSON request bodies\n\n")

	w("# CSRF protection for state-changing requests (Fetch Metadata, else a double-submit\n")
	w("# token: @apilayer/react's apiFetch sends it). Set a stable secret in production.\n")
	w("csrf:\n")
	w("  enabled: true\n")
	w("  strategy: both\n")
	w("  secret: %s\n\n", quote("${APILAYER_CSRF_SECRET:-}"))

	w("# Locale handling: the locale of a request comes from its first path segment, then\n")
	w("# the cookie, then Accept-Language; API calls get ?lang=<locale>.\n")
	w("i18n:\n")
	switch {
	case !a.I18n:
		w("  enabled: false\n")
		w("  # locales: [\"en\", \"tr\"]\n")
		w("  # defaultLocale: \"en\"\n")
	default:
		w("  enabled: true\n")
		w("  locales: %s\n", list(a.Locales))
		w("  defaultLocale: %s\n", lit(a.DefaultLocale))
		w("  paramName: lang\n")
	}
	w("\n")

	w("# Client IPs (rate limits, audit) are taken from forwarded headers only when the\n")
	w("# connection comes from one of these proxies (CIDRs), e.g. your load balancer.\n")
	w("clientIP:\n")
	w("  trustedProxies: []\n\n")

	w("rateLimit:\n")
	w("  enabled: false   # e.g. maxRequests: 100 per window: 1m, by: ip\n")

	out := b.Bytes()
	var required []string // written as ${VAR} without a default
	if a.Guest {
		required = []string{a.GuestUserEnv, a.GuestPassEnv}
	}
	if err := selfCheck(out, required); err != nil {
		return nil, err
	}
	return out, nil
}

// selfCheck decodes, defaults and validates out as "apilayer check" would
// with only the required variables set (to a placeholder): the file must be
// valid once the user has exported them, and the ${VAR:-default} references
// must be valid on their defaults.
func selfCheck(out []byte, required []string) error {
	env := func(k string) (string, bool) {
		if slices.Contains(required, k) {
			return "placeholder", true
		}
		return "", false
	}
	c, err := config.Parse("apilayer.yaml", out, env)
	if err != nil {
		return fmt.Errorf("initcmd: the generated file does not decode: %w", err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		return fmt.Errorf("initcmd: the generated file is not valid: %w", err)
	}
	return nil
}

// spoofing returns the api.methodSpoofing strategy of a, "" for none.
func (a Answers) spoofing() string {
	if a.MethodSpoofing != "" {
		return a.MethodSpoofing
	}
	p, _ := PresetByKey(a.Framework)
	return p.Spoofing
}

func spoofingSource(strategy string) string {
	if strategy == "header" {
		return "the X-HTTP-Method-Override header (Rack::MethodOverride)"
	}
	return "the _method field of the JSON body"
}

// lit quotes a literal value: "$" is doubled so that the config loader
// does not read it as an environment reference.
func lit(s string) string { return quote(strings.ReplaceAll(s, "$", "$$")) }

// quote returns s as a YAML double-quoted scalar.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0xfeff:
			if r <= 0xff {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// list returns items as a YAML flow sequence of literal strings.
func list(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = lit(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
