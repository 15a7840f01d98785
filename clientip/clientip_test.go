package clientip

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func mustNew(t testing.TB, trusted []string, headers []string) *Resolver {
	t.Helper()
	r, err := New(trusted, headers)
	if err != nil {
		t.Fatalf("New(%q, %q): %v", trusted, headers, err)
	}
	return r
}

type hdr [][2]string // header lines in order; repeated names give several lines

func request(remote string, h hdr, useTLS bool) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "http://app.example/x", nil)
	req.RemoteAddr = remote
	for _, kv := range h {
		req.Header.Add(kv[0], kv[1])
	}
	if useTLS {
		req.TLS = &tls.ConnectionState{}
	}
	return req
}

func TestResolveIP(t *testing.T) {
	proxies := []string{"10.0.0.0/8", "192.0.2.1", "2001:db8:ffff::/48", "::ffff:172.16.0.0/108"}
	tests := []struct {
		name    string
		trusted []string
		headers []string
		remote  string
		h       hdr
		want    string
	}{
		// Untrusted peers: every forwarded header is ignored.
		{"untrusted no headers", proxies, nil, "203.0.113.7:5555", nil, "203.0.113.7"},
		{"untrusted spoofed cf", proxies, nil, "203.0.113.7:5555", hdr{{"CF-Connecting-IP", "1.1.1.1"}}, "203.0.113.7"},
		{"untrusted spoofed xff", proxies, nil, "203.0.113.7:5555", hdr{{"X-Forwarded-For", "1.1.1.1"}}, "203.0.113.7"},
		{"untrusted spoofed all", proxies, nil, "203.0.113.7:5555", hdr{
			{"True-Client-IP", "1.1.1.1"}, {"X-Real-IP", "2.2.2.2"}, {"X-Forwarded-For", "3.3.3.3, 10.0.0.1"},
		}, "203.0.113.7"},
		{"nobody trusted", nil, nil, "10.0.0.1:80", hdr{{"X-Forwarded-For", "1.1.1.1"}}, "10.0.0.1"},
		{"untrusted ipv6", proxies, nil, "[2001:db8:1::5]:443", hdr{{"X-Real-IP", "1.1.1.1"}}, "2001:db8:1::5"},

		// Trusted peers: single-value headers.
		{"trusted cf", proxies, nil, "10.1.2.3:80", hdr{{"CF-Connecting-IP", "198.51.100.4"}}, "198.51.100.4"},
		{"header names case-insensitive", proxies, []string{"X-REAL-ip"}, "10.1.2.3:80", hdr{{"x-real-ip", "198.51.100.4"}}, "198.51.100.4"},
		{"header order respected", proxies, nil, "10.1.2.3:80", hdr{{"X-Real-IP", "198.51.100.9"}, {"True-Client-IP", "198.51.100.4"}}, "198.51.100.4"},
		{"configured order", proxies, []string{"x-real-ip", "true-client-ip"}, "10.1.2.3:80", hdr{{"X-Real-IP", "198.51.100.9"}, {"True-Client-IP", "198.51.100.4"}}, "198.51.100.9"},
		{"unlisted header ignored", proxies, []string{"x-real-ip"}, "10.1.2.3:80", hdr{{"CF-Connecting-IP", "198.51.100.4"}}, "10.1.2.3"},
		{"single value trimmed", proxies, nil, "10.1.2.3:80", hdr{{"X-Real-IP", "  198.51.100.4 "}}, "198.51.100.4"},
		{"single value with port", proxies, nil, "10.1.2.3:80", hdr{{"X-Real-IP", "198.51.100.4:1234"}}, "198.51.100.4"},
		{"single value ipv6", proxies, nil, "10.1.2.3:80", hdr{{"X-Real-IP", "2001:db8:2::9"}}, "2001:db8:2::9"},
		{"single value mapped", proxies, nil, "10.1.2.3:80", hdr{{"X-Real-IP", "::ffff:198.51.100.4"}}, "198.51.100.4"},
		{"single value garbage skipped", proxies, nil, "10.1.2.3:80", hdr{{"CF-Connecting-IP", "evil"}, {"X-Real-IP", "198.51.100.4"}}, "198.51.100.4"},
		{"single value list skipped", proxies, []string{"x-real-ip"}, "10.1.2.3:80", hdr{{"X-Real-IP", "1.1.1.1, 198.51.100.4"}}, "10.1.2.3"},
		{"single value twice skipped", proxies, []string{"x-real-ip"}, "10.1.2.3:80", hdr{{"X-Real-IP", "1.1.1.1"}, {"X-Real-IP", "198.51.100.4"}}, "10.1.2.3"},
		{"blank header skipped", proxies, nil, "10.1.2.3:80", hdr{{"CF-Connecting-IP", " "}, {"X-Forwarded-For", "198.51.100.4"}}, "198.51.100.4"},
		{"no header at all", proxies, nil, "10.1.2.3:80", nil, "10.1.2.3"},

		// Trusted peers: X-Forwarded-For walked from the right.
		{"xff single", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "198.51.100.4"}}, "198.51.100.4"},
		{"xff rightmost untrusted wins", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "6.6.6.6, 198.51.100.4"}}, "198.51.100.4"},
		{"xff trusted hops skipped", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "6.6.6.6, 198.51.100.4, 10.9.9.9, 192.0.2.1"}}, "198.51.100.4"},
		{"xff spoofed trusted on the left", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "10.0.0.5, 198.51.100.4"}}, "198.51.100.4"},
		{"xff all trusted gives leftmost", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "10.0.0.5, 10.0.0.6"}}, "10.0.0.5"},
		{"xff multiple lines", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "6.6.6.6, 198.51.100.4"}, {"X-Forwarded-For", "10.0.0.7"}}, "198.51.100.4"},
		{"xff multiple lines client in last", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "6.6.6.6"}, {"X-Forwarded-For", "198.51.100.4, 10.0.0.7"}}, "198.51.100.4"},
		{"xff no spaces", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "6.6.6.6,198.51.100.4,10.0.0.7"}}, "198.51.100.4"},
		{"xff ipv6", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "2001:db8:2::9, 2001:db8:ffff::1"}}, "2001:db8:2::9"},
		{"xff bracketed ipv6 with port", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "[2001:db8:2::9]:4711"}}, "2001:db8:2::9"},
		{"xff bracketed ipv6", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "[2001:db8:2::9]"}}, "2001:db8:2::9"},
		{"xff mapped entry unmapped", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "::ffff:198.51.100.4"}}, "198.51.100.4"},
		{"xff mapped trusted entry skipped", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "198.51.100.4, ::ffff:10.0.0.9"}}, "198.51.100.4"},
		{"xff garbage on the right fails closed", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "198.51.100.4, garbage"}}, "10.1.2.3"},
		{"xff garbage behind trusted fails closed", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "garbage, 10.0.0.7"}}, "10.1.2.3"},
		{"xff garbage on the left is never reached", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "garbage, 198.51.100.4"}}, "198.51.100.4"},
		{"xff unknown fails closed", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "unknown"}}, "10.1.2.3"},
		{"xff empty entry fails closed", proxies, nil, "10.1.2.3:80", hdr{{"X-Forwarded-For", "198.51.100.4,"}}, "10.1.2.3"},
		{"xff garbage does not fall to next header", proxies, []string{"x-forwarded-for", "x-real-ip"}, "10.1.2.3:80", hdr{{"X-Forwarded-For", "junk"}, {"X-Real-IP", "198.51.100.4"}}, "10.1.2.3"},

		// Trusted peers given in other forms.
		{"trusted bare ip", proxies, nil, "192.0.2.1:80", hdr{{"X-Real-IP", "198.51.100.4"}}, "198.51.100.4"},
		{"bare ip is not its network", proxies, nil, "192.0.2.2:80", hdr{{"X-Real-IP", "198.51.100.4"}}, "192.0.2.2"},
		{"trusted ipv6 cidr", proxies, nil, "[2001:db8:ffff::3]:80", hdr{{"X-Real-IP", "198.51.100.4"}}, "198.51.100.4"},
		{"mapped peer unmapped and trusted", proxies, nil, "[::ffff:10.1.2.3]:80", hdr{{"X-Real-IP", "198.51.100.4"}}, "198.51.100.4"},
		{"mapped cidr entry", proxies, nil, "172.16.5.5:80", hdr{{"X-Real-IP", "198.51.100.4"}}, "198.51.100.4"},
		{"peer with zone", []string{"fe80::/10"}, nil, "[fe80::1%eth0]:80", hdr{{"X-Real-IP", "198.51.100.4"}}, "198.51.100.4"},
		{"remote addr without port", proxies, nil, "10.1.2.3", hdr{{"X-Real-IP", "198.51.100.4"}}, "198.51.100.4"},

		// Forwarded (RFC 7239), when configured.
		{"forwarded", proxies, []string{"forwarded"}, "10.1.2.3:80", hdr{{"Forwarded", `for=6.6.6.6, for=198.51.100.4;proto=https, for="[2001:db8:ffff::1]:80"`}}, "198.51.100.4"},
		{"forwarded obfuscated fails closed", proxies, []string{"forwarded"}, "10.1.2.3:80", hdr{{"Forwarded", "for=_hidden"}}, "10.1.2.3"},
		{"forwarded without for fails closed", proxies, []string{"forwarded"}, "10.1.2.3:80", hdr{{"Forwarded", "proto=https"}}, "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustNew(t, tt.trusted, tt.headers)
			info := r.Resolve(request(tt.remote, tt.h, false))
			if got := info.IP.String(); got != tt.want {
				t.Fatalf("IP = %s, want %s (peer %s)", got, tt.want, info.Peer)
			}
		})
	}
}

func TestResolvePeer(t *testing.T) {
	r := mustNew(t, nil, nil)
	tests := []struct {
		name, remote, want string
	}{
		{"ipv4", "203.0.113.7:1", "203.0.113.7"},
		{"ipv6", "[2001:db8::1]:1", "2001:db8::1"},
		{"mapped", "[::ffff:203.0.113.7]:1", "203.0.113.7"},
		{"zone removed", "[fe80::1%eth0]:1", "fe80::1"},
		{"unix socket", "@", "invalid IP"},
		{"empty", "", "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := r.Resolve(request(tt.remote, nil, false))
			if info.Peer.String() != tt.want || info.IP != info.Peer {
				t.Fatalf("Peer = %s, IP = %s; want both %s", info.Peer, info.IP, tt.want)
			}
		})
	}
}

func TestResolveProtoAndHost(t *testing.T) {
	proxies := []string{"10.0.0.0/8"}
	tests := []struct {
		name      string
		remote    string
		h         hdr
		tls       bool
		wantProto string
		wantHost  string
	}{
		{"untrusted plain", "203.0.113.7:1", nil, false, "http", "app.example"},
		{"untrusted tls", "203.0.113.7:1", nil, true, "https", "app.example"},
		{"untrusted spoofed proto", "203.0.113.7:1", hdr{{"X-Forwarded-Proto", "https"}}, false, "http", "app.example"},
		{"untrusted spoofed proto down", "203.0.113.7:1", hdr{{"X-Forwarded-Proto", "http"}}, true, "https", "app.example"},
		{"untrusted spoofed host", "203.0.113.7:1", hdr{{"X-Forwarded-Host", "evil.example"}}, false, "http", "app.example"},
		{"trusted https", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "https"}}, false, "https", "app.example"},
		{"trusted upper case", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "HTTPS"}}, false, "https", "app.example"},
		{"trusted http over tls hop", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "http"}}, true, "http", "app.example"},
		// The nearest trusted proxy appended the rightmost value; what is
		// on its left came from further away, perhaps from the client.
		{"trusted chain rightmost", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "https, http"}}, false, "http", "app.example"},
		{"trusted chain rightmost https", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "http,https"}}, false, "https", "app.example"},
		{"trusted proto last line", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Proto", "http"}}, true, "http", "app.example"},
		{"trusted proto last line https", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "http"}, {"X-Forwarded-Proto", "https"}}, false, "https", "app.example"},
		{"trusted proto blank last line skipped", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Proto", " "}}, false, "https", "app.example"},
		{"trusted proto garbage rightmost", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "https, ftp"}}, false, "http", "app.example"},
		{"trusted proto garbage rightmost over tls", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "http, ftp"}}, true, "https", "app.example"},
		{"trusted proto empty rightmost", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "https,"}}, false, "http", "app.example"},
		{"trusted invalid proto", "10.0.0.1:1", hdr{{"X-Forwarded-Proto", "ftp"}}, true, "https", "app.example"},
		{"trusted no proto", "10.0.0.1:1", nil, false, "http", "app.example"},
		{"trusted host", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "www.example.com"}}, false, "http", "www.example.com"},
		{"trusted host with port", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "www.example.com:8443"}}, false, "http", "www.example.com:8443"},
		{"trusted host ipv6", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "[2001:db8::1]:8443"}}, false, "http", "[2001:db8::1]:8443"},
		{"trusted host list rightmost", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "a.example, b.example"}}, false, "http", "b.example"},
		{"trusted host last line", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "evil.example"}, {"X-Forwarded-Host", "www.example.com"}}, false, "http", "www.example.com"},
		{"trusted host garbage rightmost", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "www.example.com, evil/<x>"}}, false, "http", "app.example"},
		{"trusted host empty rightmost", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "www.example.com, "}}, false, "http", "app.example"},
		{"trusted host invalid chars", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "evil.example/<script>"}}, false, "http", "app.example"},
		{"trusted host bad port", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "a.example:99999"}}, false, "http", "app.example"},
		{"trusted host empty port", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "a.example:"}}, false, "http", "app.example"},
		{"trusted host unbracketed ipv6", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "2001:db8::1"}}, false, "http", "app.example"},
		{"trusted host at sign", "10.0.0.1:1", hdr{{"X-Forwarded-Host", "user@evil.example"}}, false, "http", "app.example"},
	}
	r := mustNew(t, proxies, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := r.Resolve(request(tt.remote, tt.h, tt.tls))
			if info.Proto != tt.wantProto || info.Host != tt.wantHost {
				t.Fatalf("Proto, Host = %q, %q; want %q, %q", info.Proto, info.Host, tt.wantProto, tt.wantHost)
			}
			if info.Secure() != (tt.wantProto == "https") {
				t.Fatalf("Secure() = %v with Proto %q", info.Secure(), info.Proto)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		headers []string
		want    string
	}{
		{"bad cidr", []string{"10.0.0.0/8", "10.0.0.0/33"}, nil, `trustedProxies[1]: "10.0.0.0/33"`},
		{"not an ip", []string{"proxy.internal"}, nil, `trustedProxies[0]: "proxy.internal"`},
		{"empty entry", []string{""}, nil, `trustedProxies[0]: ""`},
		{"bad ipv6", []string{"2001:db8:::1"}, nil, `trustedProxies[0]: "2001:db8:::1"`},
		{"bad header", nil, []string{"x-real-ip", "x forwarded"}, `headers[1]: "x forwarded"`},
		{"empty header", nil, []string{""}, `headers[0]: ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.trusted, tt.headers)
			if err == nil {
				t.Fatalf("New(%q, %q) = %v, nil; want an error", tt.trusted, tt.headers, r)
			}
			if !strings.HasPrefix(err.Error(), "clientip: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestTrusted(t *testing.T) {
	r := mustNew(t, []string{" 10.0.0.0/8 ", "::1", "2001:db8::/32", "::ffff:192.168.0.0/112"}, nil)
	tests := []struct {
		addr string
		want bool
	}{
		{"10.255.0.1", true},
		{"11.0.0.1", false},
		{"::1", true},
		{"::2", false},
		{"2001:db8:1::1", true},
		{"::ffff:10.0.0.1", true},
		{"192.168.3.4", true},
		{"192.169.0.1", false},
		{"fe80::1%eth0", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := r.Trusted(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Fatalf("Trusted(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	if r.Trusted(netip.Addr{}) {
		t.Error("the zero Addr is trusted")
	}
	var nilR *Resolver
	if nilR.Trusted(netip.MustParseAddr("10.0.0.1")) {
		t.Error("a nil Resolver trusts a peer")
	}
	if got := nilR.Resolve(request("10.0.0.1:1", hdr{{"X-Real-IP", "1.1.1.1"}}, false)).IP.String(); got != "10.0.0.1" {
		t.Errorf("nil Resolver: IP = %s, want the peer", got)
	}
}

func TestContext(t *testing.T) {
	if _, ok := FromContext(t.Context()); ok {
		t.Fatal("FromContext on an empty context reported an Info")
	}
	want := Info{IP: netip.MustParseAddr("198.51.100.4"), Peer: netip.MustParseAddr("10.0.0.1"), Proto: "https", Host: "a.example"}
	got, ok := FromContext(NewContext(t.Context(), want))
	if !ok || got != want {
		t.Fatalf("FromContext = %+v, %v; want %+v", got, ok, want)
	}
	// A Context embedded in a value of its own, set with Init, and the
	// contexts derived from it.
	var holder struct {
		ip    Context
		other int
	}
	holder.ip.Init(t.Context(), want)
	derived, cancel := context.WithCancel(&holder.ip)
	defer cancel()
	if got, ok = FromContext(derived); !ok || got != want {
		t.Fatalf("FromContext(derived) = %+v, %v; want %+v", got, ok, want)
	}
	if holder.ip.Done() != t.Context().Done() {
		t.Error("Done is not the parent's")
	}
}

// TestMiddlewareOverLoopback runs real connections: the peer is 127.0.0.1,
// trusted in one server and not in the other.
func TestMiddlewareOverLoopback(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		want    string
	}{
		{"loopback trusted", []string{"127.0.0.0/8", "::1"}, "198.51.100.4"},
		{"loopback untrusted", []string{"10.0.0.0/8"}, "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustNew(t, tt.trusted, nil)
			srv := httptest.NewServer(r.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				info, ok := FromContext(req.Context())
				if !ok {
					http.Error(w, "no info", http.StatusInternalServerError)
					return
				}
				json.NewEncoder(w).Encode(map[string]string{"ip": info.IP.String(), "peer": info.Peer.String()})
			})))
			defer srv.Close()

			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.4")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var got map[string]string
			if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
				t.Fatalf("status %d: %v", res.StatusCode, err)
			}
			if got["ip"] != tt.want || got["peer"] != "127.0.0.1" {
				t.Fatalf("ip, peer = %s, %s; want %s, 127.0.0.1", got["ip"], got["peer"], tt.want)
			}
		})
	}
}

func FuzzXFF(f *testing.F) {
	f.Add("198.51.100.4", "")
	f.Add("6.6.6.6, 198.51.100.4, 10.0.0.1", "10.0.0.2")
	f.Add("[2001:db8::1]:80, ::ffff:10.0.0.1", "")
	f.Add("garbage, 10.0.0.1", ",")
	f.Add("unknown", "1.2.3.4:80")
	r, err := New([]string{"10.0.0.0/8", "2001:db8:ffff::/48"}, []string{"x-forwarded-for"})
	if err != nil {
		f.Fatal(err)
	}
	peer := netip.MustParseAddr("10.9.9.9")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		req := request("10.9.9.9:1234", nil, false)
		req.Header["X-Forwarded-For"] = []string{line1, line2}
		info := r.Resolve(req) // never panics
		if info.Peer != peer {
			t.Fatalf("Peer = %s", info.Peer)
		}
		if info.IP == peer {
			return
		}
		if !info.IP.IsValid() || info.IP.Zone() != "" || info.IP.Is4In6() {
			t.Fatalf("IP = %v: not a plain address", info.IP)
		}
		// The address appeared in the header, in some spelling.
		found := false
		for _, line := range []string{line1, line2} {
			for entry := range strings.SplitSeq(line, ",") {
				if a, ok := parseXFFEntry(entry); ok && a == info.IP {
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("IP %s does not appear in %q, %q", info.IP, line1, line2)
		}
	})
}
