package ratelimit_test

import (
	"net/netip"
	"testing"

	"github.com/apilayer/apilayer/ratelimit"
)

func TestClientKey(t *testing.T) {
	key := func(s string, bits int) string {
		t.Helper()
		return ratelimit.ClientKey(netip.MustParseAddr(s), bits)
	}
	for _, c := range []struct {
		name string
		a, b string
		bits int
		same bool
	}{
		{"same /64", "2001:db8:1:2::100", "2001:db8:1:2::105", 64, true},
		{"same /64, far apart", "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", 64, true},
		{"next /64", "2001:db8:1:2::100", "2001:db8:1:3::1", 64, false},
		{"prefix 128 is per address", "2001:db8:1:2::100", "2001:db8:1:2::105", 128, false},
		{"prefix 48 groups the /64s", "2001:db8:1:2::100", "2001:db8:1:3::1", 48, true},
		{"prefix 1", "2001:db8::1", "7fff::1", 1, true},
		{"prefix 1, other half", "2001:db8::1", "8000::1", 1, false},
		{"IPv4 and its mapped form", "192.0.2.4", "::ffff:192.0.2.4", 64, true},
		{"IPv4 per address", "192.0.2.4", "192.0.2.5", 64, false},
		{"mapped IPv4 per address", "::ffff:192.0.2.4", "::ffff:192.0.2.5", 64, false},
		{"zone ignored", "fe80::1%eth0", "fe80::2", 64, true},
		{"IPv4 is not the IPv6 prefix holding it", "::ffff:192.0.2.4", "::ffff:0:0", 64, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ka, kb := key(c.a, c.bits), key(c.b, c.bits)
			if (ka == kb) != c.same {
				t.Errorf("ClientKey(%s) = %q, ClientKey(%s) = %q: same = %v, want %v", c.a, ka, c.b, kb, ka == kb, c.same)
			}
		})
	}
}

// The keys keep the form "ip:<address>" of IPv4 clients, and name the
// prefix of IPv6 ones.
func TestClientKeyText(t *testing.T) {
	for _, c := range []struct {
		ip   string
		bits int
		want string
	}{
		{"192.0.2.4", 64, "ip:192.0.2.4"},
		{"::ffff:192.0.2.4", 64, "ip:192.0.2.4"},
		{"2001:db8:1:2::100", 64, "ip:2001:db8:1:2::/64"},
		{"2001:db8:1:2:3:4:5:6", 56, "ip:2001:db8:1::/56"},
		{"2001:db8:1:2::100", 128, "ip:2001:db8:1:2::100"},
		{"2001:db8:1:2::100", 0, "ip:2001:db8:1:2::/64"},   // 0: the default
		{"2001:db8:1:2::100", 200, "ip:2001:db8:1:2::100"}, // clamped
	} {
		if got := ratelimit.ClientKey(netip.MustParseAddr(c.ip), c.bits); got != c.want {
			t.Errorf("ClientKey(%s, %d) = %q, want %q", c.ip, c.bits, got, c.want)
		}
	}
	if got := ratelimit.ClientKey(netip.Addr{}, 64); got != "ip:" {
		t.Errorf("ClientKey(zero Addr) = %q, want %q", got, "ip:")
	}
}

func BenchmarkClientKey(b *testing.B) {
	for _, bc := range []struct{ name, ip string }{
		{"IPv4", "192.0.2.4"},
		{"IPv6", "2001:db8:1:2:3:4:5:6"},
	} {
		ip := netip.MustParseAddr(bc.ip)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ratelimit.ClientKey(ip, 64)
			}
		})
	}
}
