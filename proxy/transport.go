package proxy

import (
	"net/http"

	"github.com/apilayer/apilayer/internal/transport"
)

// newTransport is the transport of one upstream host (a web app or a
// backend), with the gateway's one policy for its own requests.
func newTransport() *http.Transport { return transport.ForHost() }
