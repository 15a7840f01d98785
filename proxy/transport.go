package proxy

import (
	"net"
	"net/http"
	"time"
)

// newTransport is the transport of one upstream host (a web app or a
// backend): every idle connection goes to the same host, so the per-host
// pool is the whole pool.
func newTransport() *http.Transport {
	return &http.Transport{
		// The host is usually on loopback or a private network: an
		// HTTP_PROXY meant for outbound traffic must not capture it.
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Pass the client's Accept-Encoding and the host's Content-Encoding
		// through untouched instead of decompressing in the gateway.
		DisableCompression: true,
	}
}
