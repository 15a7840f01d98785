package appservers

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// requestTimeout bounds one request through the gateway to an app server.
const requestTimeout = 10 * time.Second

// field is one header line as written on the wire.
type field struct{ name, value string }

// answer is what the gateway answered.
type answer struct {
	status int
	proto  string
	header http.Header
	body   []byte
}

// sender sends GET path with the header lines to a gateway.
type sender interface {
	send(ctx context.Context, path string, lines []field) (answer, error)
}

// rawHTTP1 writes HTTP/1.1 requests on a new TCP connection each, header
// names exactly as given, in the given order (net/http would canonicalize
// them or refuse some, such as a client-chosen Connection header).
type rawHTTP1 struct{ addr string }

func (c rawHTTP1) send(ctx context.Context, path string, lines []field) (answer, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return answer{}, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", path, c.addr)
	for _, f := range lines {
		fmt.Fprintf(&b, "%s: %s\r\n", f.name, f.value)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return answer{}, err
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: res.StatusCode, proto: res.Proto, header: res.Header, body: body}, nil
}

// http2TLS sends requests over HTTP/2 with TLS through Go's client, which
// sends every header name lower-cased, as the protocol requires. It does
// not follow redirects.
type http2TLS struct {
	base   string
	client *http.Client
}

// newHTTP2TLS returns a sender to srv, an httptest server started with
// EnableHTTP2 and StartTLS.
func newHTTP2TLS(srv *httptest.Server) http2TLS {
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
	}
	return http2TLS{base: srv.URL, client: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c http2TLS) send(ctx context.Context, path string, lines []field) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return answer{}, err
	}
	for _, f := range lines {
		req.Header[f.name] = append(req.Header[f.name], f.value) // not canonicalized
	}
	res, err := c.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	if res.ProtoMajor != 2 {
		return answer{}, fmt.Errorf("answered over %s, want HTTP/2", res.Proto)
	}
	return answer{status: res.StatusCode, proto: res.Proto, header: res.Header, body: body}, nil
}

func (c http2TLS) close() { c.client.CloseIdleConnections() }
