package ratelimit

import "net/netip"

// DefaultIPv6PrefixLength is the default of rateLimit.ipv6PrefixLength: an
// IPv6 client is counted by its /64, the block one subscriber usually gets.
const DefaultIPv6PrefixLength = 64

// ClientKey returns the key under which the requests of the client at ip
// are counted (rate limits keyed by IP, the guest-mint cap): "ip:" and the
// IPv4 address, or the IPv6 prefix of v6Prefix bits that holds ip
// ("ip:2001:db8:1:2::/64"). IPv4-mapped IPv6 addresses (::ffff:192.0.2.4)
// are their IPv4 address; a zone is ignored.
//
// A single IPv6 subscriber usually holds a whole /64 (or more) and can pick
// any address in it: keyed by address, it would get a fresh bucket with
// each one. v6Prefix 128 keys IPv6 clients by address; 0 or less means
// [DefaultIPv6PrefixLength], more than 128 means 128 (rateLimit.
// ipv6PrefixLength is validated to 1..128).
//
// The zero Addr (a client without an IP address, such as the peer of a Unix
// socket) gives "ip:". ClientKey allocates only the returned string.
func ClientKey(ip netip.Addr, v6Prefix int) string {
	var buf [len("ip:") + len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")]byte
	b := append(buf[:0], "ip:"...)
	if !ip.IsValid() {
		return string(b)
	}
	ip = ip.Unmap().WithZone("")
	switch {
	case ip.Is4():
		b = ip.AppendTo(b)
	case v6Prefix >= 128:
		b = ip.AppendTo(b)
	default:
		if v6Prefix <= 0 {
			v6Prefix = DefaultIPv6PrefixLength
		}
		p, _ := ip.Prefix(v6Prefix) // no error: a valid IPv6 address, 0 < bits < 128
		b = p.AppendTo(b)
	}
	return string(b)
}
