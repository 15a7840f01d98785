package appservers

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode"
)

// The forged values a client sends. None of them is a real token.
const (
	forgedRefreshed = "forged-refreshed-token"
	forgedLocale    = "tr" // a configured locale, not the one the gateway resolves
	forgedAssertion = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIyIiwiZm9yZ2VkIjp0cnVlfQ."
	forgedTruncated = "1"
	forgedSubreq    = "middleware:middleware:middleware:middleware:middleware"
	forgedIP        = "203.0.113.66"
	forgedRequestID = "forged-request-id"
)

// forgedUser is the X-Auth-User a client forges: the admin, marked so that
// a failure can say it was believed.
var forgedUser = func() string {
	b, err := json.Marshal(map[string]any{
		"id": 2, "username": "admin", "name": "Admin", "email": "admin@example.com",
		"roles": []string{"admin", "user"}, "type": "user", "forged": true,
	})
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}()

// forgedTokenType is the X-Auth-Token-Type a client forges: "user" for an
// anonymous visitor or a guest (to pass as signed in), something else for
// a user (so that the forgery is visible).
func forgedTokenType(p *persona) string {
	if p.tokenType == "user" {
		return "admin"
	}
	return "user"
}

// reservedNames are the request headers only the gateway may set, or whose
// value only the gateway decides, in their canonical spelling.
var reservedNames = []string{
	"X-Auth-User",
	"X-Auth-Token-Type",
	"X-Refreshed-Token",
	"X-Locale",
	"X-Auth-Assertion",
	"X-Auth-User-Truncated",
	"X-Middleware-Subrequest",
	"X-Forwarded-For",
	"X-Real-IP",
	"X-Request-Id",
}

// forgedValue is what p forges under the reserved header name.
func forgedValue(name string, p *persona) string {
	switch name {
	case "X-Auth-User":
		return forgedUser
	case "X-Auth-Token-Type":
		return forgedTokenType(p)
	case "X-Refreshed-Token":
		return forgedRefreshed
	case "X-Locale":
		return forgedLocale
	case "X-Auth-Assertion":
		return forgedAssertion
	case "X-Auth-User-Truncated":
		return forgedTruncated
	case "X-Middleware-Subrequest":
		return forgedSubreq
	case "X-Forwarded-For", "X-Real-IP":
		return forgedIP
	case "X-Request-Id":
		return forgedRequestID
	}
	panic("appservers: no forged value for " + name)
}

// line is one header line of a forgery: a literal value, or (forges set)
// the forged value of that reserved name for the persona sending it.
type line struct {
	name   string
	value  string
	forges string
}

// forgery is one row of the table: header lines a client adds to its
// request.
type forgery struct {
	name  string
	lines []line
}

// fields returns the header lines as p sends them.
func (f forgery) fields(p *persona) []field {
	out := make([]field, len(f.lines))
	for i, l := range f.lines {
		v := l.value
		if l.forges != "" {
			v = forgedValue(l.forges, p)
		}
		out[i] = field{name: l.name, value: v}
	}
	return out
}

// hopByHop reports whether f uses a Connection header, which HTTP/2
// forbids.
func (f forgery) hopByHop() bool {
	for _, l := range f.lines {
		if strings.EqualFold(l.name, "Connection") {
			return true
		}
	}
	return false
}

// spellings are the ways a client may write a reserved name that app
// servers may read as that name.
var spellings = []func(string) string{
	func(n string) string { return n }, // X-Auth-User
	strings.ToLower,                    // x-auth-user
	strings.ToUpper,                    // X-AUTH-USER
	alternateCase,                      // x-AuTh-UsEr
	underscored,                        // X_Auth_User
	func(n string) string { return strings.ToLower(underscored(n)) }, // x_auth_user
	func(n string) string { return strings.ToUpper(underscored(n)) }, // X_AUTH_USER
	lastUnderscored, // X-Auth_User
}

// alternateCase writes the letters of n in alternating case, lower first.
func alternateCase(n string) string {
	var b strings.Builder
	upper := false
	for _, r := range n {
		if unicode.IsLetter(r) {
			if upper {
				r = unicode.ToUpper(r)
			} else {
				r = unicode.ToLower(r)
			}
			upper = !upper
		}
		b.WriteRune(r)
	}
	return b.String()
}

// underscored writes every - of n as _, the CGI spelling.
func underscored(n string) string { return strings.ReplaceAll(n, "-", "_") }

// lastUnderscored writes only the last - of n as _.
func lastUnderscored(n string) string {
	i := strings.LastIndexByte(n, '-')
	return n[:i] + "_" + n[i+1:]
}

// connectionTargets are the headers the gateway sets that a client might
// ask a hop-by-hop aware proxy to remove by naming them in Connection.
var connectionTargets = []string{
	"X-Auth-User", "X-Auth-Token-Type", "X-Locale", "X-Request-Id",
	"Cookie", "Authorization", "X-Forwarded-For", "X-Real-IP",
}

// forgeries returns the whole table: every reserved name in every
// spelling, repeated, next to its underscore spelling, and every
// Connection header trick, alone and combined with underscore forgeries.
// The first row forges nothing: it shows the checks pass on an honest
// request.
func forgeries() []forgery {
	out := []forgery{{name: "none"}}
	for _, n := range reservedNames {
		seen := map[string]bool{}
		for _, spell := range spellings {
			s := spell(n)
			if seen[s] { // two spellings may coincide
				continue
			}
			seen[s] = true
			out = append(out, forgery{name: s, lines: []line{{name: s, forges: n}}})
		}
		u := underscored(n)
		out = append(out,
			forgery{name: n + "+" + n, lines: []line{{name: n, forges: n}, {name: n, forges: n}}},
			forgery{name: n + "+" + u, lines: []line{{name: n, forges: n}, {name: u, forges: n}}},
		)
	}

	conn := func(name string, value string, extra ...line) forgery {
		return forgery{name: name, lines: append([]line{{name: "Connection", value: value}}, extra...)}
	}
	for _, n := range connectionTargets {
		out = append(out, conn("Connection:"+n, n))
	}
	all := strings.Join(connectionTargets, ", ")
	var allUnderscored []line
	for _, n := range reservedNames {
		allUnderscored = append(allUnderscored, line{name: underscored(n), forges: n})
	}
	out = append(out,
		conn("Connection:all", all),
		conn("connection:lower", "x-auth-user, x-auth-token-type, cookie, authorization"),
		conn("Connection:keep-alive,X-Auth-User", "keep-alive, X-Auth-User"),
		forgery{name: "Connection:X-Auth-User+Connection:X-Auth-Token-Type", lines: []line{
			{name: "Connection", value: "X-Auth-User"}, {name: "Connection", value: "X-Auth-Token-Type"},
		}},
		conn("Connection:X-Auth-User,X-Auth-Token-Type+X_Auth_User+X_Auth_Token_Type", "X-Auth-User, X-Auth-Token-Type",
			line{name: "X_Auth_User", forges: "X-Auth-User"}, line{name: "X_Auth_Token_Type", forges: "X-Auth-Token-Type"}),
		conn("Connection:X-Request-Id+X_Request_Id", "X-Request-Id", line{name: "X_Request_Id", forges: "X-Request-Id"}),
		conn("Connection:X-Forwarded-For,X-Real-IP+X_Forwarded_For+X_Real_IP", "X-Forwarded-For, X-Real-IP",
			line{name: "X_Forwarded_For", forges: "X-Forwarded-For"}, line{name: "X_Real_IP", forges: "X-Real-IP"}),
		conn("Connection:all+every_underscore", all, allUnderscored...),
	)
	return out
}

// http2Forgeries returns the rows of forgeries that HTTP/2 can carry, once
// per spelling on the wire: HTTP/2 header names are lower case and
// Connection is forbidden.
func http2Forgeries(all []forgery) []forgery {
	var out []forgery
	seen := map[string]bool{}
	for _, f := range all {
		if f.hopByHop() {
			continue
		}
		var names []string
		lines := make([]line, len(f.lines))
		for i, l := range f.lines {
			l.name = strings.ToLower(l.name)
			lines[i] = l
			names = append(names, l.name)
		}
		name := strings.Join(names, "+")
		if name == "" {
			name = f.name
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, forgery{name: name, lines: lines})
	}
	return out
}
