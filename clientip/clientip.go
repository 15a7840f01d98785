package clientip

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// DefaultHeaders are the client IP headers consulted, in this order, when
// [New] is given none.
var DefaultHeaders = []string{"cf-connecting-ip", "true-client-ip", "x-real-ip", "x-forwarded-for"}

// Info describes the client of a request.
type Info struct {
	// IP is the client address: Peer, unless Peer is a trusted proxy that
	// forwarded a readable client address. It is the zero Addr when the
	// connection has no IP address (RemoteAddr of a Unix socket).
	IP netip.Addr
	// Peer is the address of the TCP peer (http.Request.RemoteAddr),
	// IPv4-mapped IPv6 addresses unmapped, without zone.
	Peer netip.Addr
	// Proto is "https" or "http": the scheme the client used.
	Proto string
	// Host is the host (and port) the client asked for.
	Host string
}

// Secure reports whether the client used HTTPS.
func (i Info) Secure() bool { return i.Proto == "https" }

// Resolver resolves the [Info] of requests. It is safe for concurrent use.
// A nil *Resolver trusts nobody.
type Resolver struct {
	trusted []netip.Prefix
	headers []string // canonical header names, in order
}

// New returns a Resolver that believes forwarded headers from the peers in
// trustedProxies (CIDRs such as 10.0.0.0/8 or bare addresses such as
// 192.0.2.1 or ::1) and reads the client IP from headers, in order (header
// names are case-insensitive; none means [DefaultHeaders]). An empty
// trustedProxies trusts nobody, and then headers are never read.
//
// An entry that is not an address or a CIDR, or an invalid header name, is
// an error naming it: a typo must not silently trust nobody or everybody.
func New(trustedProxies []string, headers []string) (*Resolver, error) {
	r := &Resolver{}
	for i, s := range trustedProxies {
		p, err := parseTrusted(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("clientip: trustedProxies[%d]: %q is not an IP address or CIDR: %w", i, s, err)
		}
		r.trusted = append(r.trusted, p)
	}
	if len(headers) == 0 {
		headers = DefaultHeaders
	}
	for i, h := range headers {
		h = strings.TrimSpace(h)
		if !httpguts.ValidHeaderFieldName(h) {
			return nil, fmt.Errorf("clientip: headers[%d]: %q is not a valid header name", i, headers[i])
		}
		r.headers = append(r.headers, http.CanonicalHeaderKey(h))
	}
	return r, nil
}

// parseTrusted parses a CIDR or a bare address into a prefix. IPv4-mapped
// IPv6 forms are unmapped, since peers are compared unmapped.
func parseTrusted(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Trusted reports whether addr is a trusted proxy.
func (r *Resolver) Trusted(addr netip.Addr) bool {
	if r == nil || !addr.IsValid() {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range r.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Resolve returns the client of req.
//
// When the peer is not a trusted proxy, IP is the peer, Proto is "https"
// exactly when the connection is TLS, Host is req.Host, and no forwarded
// header is read.
//
// When the peer is trusted, the configured headers are tried in order, and
// the first one that is present decides:
//
//   - X-Forwarded-For (and Forwarded, if configured) list the hops of the
//     request, each proxy appending the address it saw. All lines and
//     entries are walked from the right: trusted proxies are skipped and the
//     first untrusted address is the client (the entries on its left were
//     written by the client and may be forged). When every entry is a
//     trusted proxy, the leftmost one is the client. An entry that is not an
//     address ("unknown", garbage, an empty entry) stops the walk and IP is
//     the peer: fail closed.
//   - Any other header holds one address, written by the proxy in front
//     (CF-Connecting-IP, True-Client-IP, X-Real-IP). It is used when it
//     parses as an address (a port is allowed and dropped); a header sent
//     more than once, or unparsable, is skipped.
//
// Configure only the headers that the trusted proxies set (or overwrite):
// a header that they pass through unchanged is written by the client. With
// the default list behind a proxy that only appends X-Forwarded-For, a
// client could send its own CF-Connecting-IP.
//
// Proto is taken from X-Forwarded-Proto ("https" or "http") and Host from
// X-Forwarded-Host (a valid host[:port]). When proxies appended several
// values (a comma list, or several header lines), the rightmost one counts:
// the nearest trusted proxy wrote it, while the ones on its left may come
// from the client. A rightmost value that is not valid makes Proto or Host
// come from the connection, as for an untrusted peer.
func (r *Resolver) Resolve(req *http.Request) Info {
	info := Info{Peer: peerAddr(req.RemoteAddr), Proto: "http", Host: req.Host}
	if req.TLS != nil {
		info.Proto = "https"
	}
	info.IP = info.Peer
	if !r.Trusted(info.Peer) {
		return info
	}
	if ip, ok := r.fromHeaders(req.Header); ok {
		info.IP = ip
	}
	if p, ok := forwardedProto(req.Header.Values("X-Forwarded-Proto")); ok {
		info.Proto = p
	}
	if h, ok := forwardedHost(req.Header.Values("X-Forwarded-Host")); ok {
		info.Host = h
	}
	return info
}

// peerAddr parses http.Request.RemoteAddr ("ip:port", or a bare ip).
func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// fromHeaders returns the client address forwarded by a trusted peer, or
// false when the peer's own address must be used.
func (r *Resolver) fromHeaders(h http.Header) (netip.Addr, bool) {
	for _, name := range r.headers {
		values := h.Values(name)
		if !present(values) {
			continue
		}
		switch name {
		case "X-Forwarded-For":
			return r.walk(values, parseXFFEntry)
		case "Forwarded":
			return r.walk(values, parseForwardedEntry)
		}
		if len(values) != 1 {
			continue // two values: one may come from the client
		}
		if a, ok := parseAddr(values[0]); ok {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// present reports whether any of values is not blank.
func present(values []string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// walk returns the rightmost untrusted address of a hop list spread over
// the header lines values, or the leftmost address when all are trusted.
// An unreadable entry makes it return false.
func (r *Resolver) walk(values []string, parse func(string) (netip.Addr, bool)) (netip.Addr, bool) {
	var last netip.Addr
	for i := len(values) - 1; i >= 0; i-- {
		line := values[i]
		if strings.TrimSpace(line) == "" {
			continue
		}
		for end := len(line); end >= 0; {
			start := strings.LastIndexByte(line[:end], ',') + 1
			a, ok := parse(line[start:end])
			if !ok {
				return netip.Addr{}, false
			}
			if !r.Trusted(a) {
				return a, true
			}
			last = a
			end = start - 1
		}
	}
	return last, last.IsValid()
}

// parseAddr parses an address, optionally with a port ("192.0.2.1:443",
// "[2001:db8::1]:443"), unmapped and without zone.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func parseXFFEntry(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	// Some proxies write IPv6 entries in brackets without a port.
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	return parseAddr(s)
}

// parseForwardedEntry reads the for= parameter of one RFC 7239 element
// (for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"). An element without
// for=, or with an obfuscated or "unknown" node, is unreadable.
func parseForwardedEntry(s string) (netip.Addr, bool) {
	for pair := range strings.SplitSeq(s, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "for") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return parseXFFEntry(v)
	}
	return netip.Addr{}, false
}

// forwardedProto returns the scheme of X-Forwarded-Proto if it is http or
// https: the value the nearest trusted proxy appended (see [rightmost]).
func forwardedProto(values []string) (string, bool) {
	v, ok := rightmost(values)
	if !ok {
		return "", false
	}
	switch {
	case strings.EqualFold(v, "https"):
		return "https", true
	case strings.EqualFold(v, "http"):
		return "http", true
	}
	return "", false
}

// forwardedHost returns the value of X-Forwarded-Host the nearest trusted
// proxy appended (see [rightmost]) if it is a valid host or host:port.
func forwardedHost(values []string) (string, bool) {
	v, ok := rightmost(values)
	return v, ok && validHost(v)
}

// rightmost returns the last element of a comma-separated list spread over
// the header lines values (blank lines skipped), trimmed: the element the
// nearest proxy appended, as X-Forwarded-For is read from the right. The
// elements on its left came from further away and may have been written by
// the client. An empty last element ("https,") is returned as "", which no
// caller accepts: the connection's own scheme or host is used then.
func rightmost(values []string) (string, bool) {
	for i := len(values) - 1; i >= 0; i-- {
		line := values[i]
		if strings.TrimSpace(line) == "" {
			continue
		}
		return strings.TrimSpace(line[strings.LastIndexByte(line, ',')+1:]), true
	}
	return "", false
}

// validHost reports whether s is a DNS name, an IPv4 address or a bracketed
// IPv6 address, optionally followed by :port.
func validHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	host, port := s, ""
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		if a, err := netip.ParseAddr(s[1:end]); err != nil || !a.Is6() || a.Zone() != "" {
			return false
		}
		host, port = "", s[end+1:]
		if port != "" {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
			if port == "" {
				return false
			}
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		if port == "" {
			return false
		}
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return false
		}
	}
	if s[0] == '[' {
		return true
	}
	if host == "" {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// Middleware resolves the client of each request and stores it in the
// request context for [FromContext].
func (r *Resolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		next.ServeHTTP(w, req.WithContext(NewContext(req.Context(), r.Resolve(req))))
	})
}

type ctxKey struct{}

// NewContext returns a copy of ctx that carries info.
func NewContext(ctx context.Context, info Info) context.Context {
	c := new(Context)
	c.Init(ctx, info)
	return c
}

// Context is a context.Context that carries an Info for FromContext: what
// NewContext returns. A server that keeps a request's values in one
// allocation embeds a Context in it and calls Init once, before the
// context is used; it never changes afterwards.
type Context struct {
	parent context.Context
	info   Info
}

// Init makes c the context parent with the client info.
func (c *Context) Init(parent context.Context, info Info) { c.parent, c.info = parent, info }

// Deadline, Done and Err are parent's.
func (c *Context) Deadline() (time.Time, bool) { return c.parent.Deadline() }
func (c *Context) Done() <-chan struct{}       { return c.parent.Done() }
func (c *Context) Err() error                  { return c.parent.Err() }

// Value returns the Info for this package's key, else parent's value.
func (c *Context) Value(key any) any {
	if key == (ctxKey{}) {
		return &c.info
	}
	return c.parent.Value(key)
}

// FromContext returns the Info stored in ctx by [NewContext] or
// [Resolver.Middleware].
func FromContext(ctx context.Context) (Info, bool) {
	if p, _ := ctx.Value(ctxKey{}).(*Info); p != nil {
		return *p, true
	}
	return Info{}, false
}
