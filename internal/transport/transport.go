// Package transport makes the HTTP transports the gateway sends its own
// requests through: to the web app (upstream), and to the backend (the API
// proxy and the validate, refresh, guest, login and logout calls). One
// policy for all of them, so that the calls to one host never take
// different network paths.
package transport

import (
	"net"
	"net/http"
	"time"
)

// ForHost returns a transport for one host: every idle connection goes to
// the same host, so the per-host pool is the whole pool. No environment
// proxy is used: the host is usually on loopback or a private network,
// and an HTTP_PROXY meant for outbound traffic must not capture it.
// Responses are not decompressed: a reverse proxy passes the client's
// Accept-Encoding and the host's Content-Encoding through untouched.
func ForHost() *http.Transport {
	return &http.Transport{
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
		DisableCompression:    true,
	}
}
