package clientip_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/apilayer/apilayer/clientip"
)

func ExampleResolver() {
	// Believe forwarded headers only from the load balancer's network.
	r, err := clientip.New([]string{"10.0.0.0/8"}, []string{"x-forwarded-for"})
	if err != nil {
		panic(err)
	}

	// Through the load balancer: the client forged the leftmost entry, the
	// load balancer appended the address it saw.
	req := httptest.NewRequest("GET", "http://shop.example/", nil)
	req.RemoteAddr = "10.0.0.5:41000"
	req.Header.Set("X-Forwarded-For", "1.2.3.4, 198.51.100.7")
	req.Header.Set("X-Forwarded-Proto", "https")
	info := r.Resolve(req)
	fmt.Println(info.IP, info.Peer, info.Proto)

	// Straight from the internet: the same headers are ignored.
	req.RemoteAddr = "203.0.113.9:52000"
	info = r.Resolve(req)
	fmt.Println(info.IP, info.Peer, info.Proto)

	// Output:
	// 198.51.100.7 10.0.0.5 https
	// 203.0.113.9 203.0.113.9 http
}

func ExampleNew() {
	_, err := clientip.New([]string{"10.0.0.0/8", "10.0.0.0/33"}, nil)
	fmt.Println(err)
	// Output: clientip: trustedProxies[1]: "10.0.0.0/33" is not an IP address or CIDR: netip.ParsePrefix("10.0.0.0/33"): prefix length out of range
}
