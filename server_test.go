package apilayer_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// With tls set, the gateway serves HTTPS, and cookies under secure: auto
// get the Secure attribute.
func TestServeTLS(t *testing.T) {
	b := testkit.NewBackend(t, demo.BackendOptions{})
	up := testkit.NewUpstream(t)
	cert, key := selfSigned(t, t.TempDir())
	gw, err := apilayer.New(config.Config{
		TLS:      config.TLS{CertFile: cert, KeyFile: key},
		Backend:  config.Backend{URL: b.URL()},
		Upstream: config.Upstream{URL: up.URL()},
		Guest:    config.Guest{Enabled: true, Credentials: demo.GuestCredentials()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	pool := x509.NewCertPool()
	pemBytes, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(pemBytes)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	res, err := client.Get("https://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatalf("HTTPS request: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil {
		t.Fatalf("status %d over TLS %v, want 200 over TLS", res.StatusCode, res.TLS != nil)
	}
	var guest *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "guestAuthToken" {
			guest = c
		}
	}
	if guest == nil || !guest.Secure || !guest.HttpOnly {
		t.Fatalf("guest cookie %+v, want Secure and HttpOnly over HTTPS with secure: auto", guest)
	}
	if v := up.Last().Header.Get("X-Forwarded-Proto"); v != "https" {
		t.Fatalf("X-Forwarded-Proto to the web app = %q, want https", v)
	}
}

// blockBrowserApiAccess sends a browser that navigates to an API URL to the
// home page; fetch requests and API clients pass.
func TestBlockBrowserAPIAccess(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Access.BlockBrowserAPIAccess = true })
	tok := e.login("alice")
	nav := e.do(req{path: "/api/posts", cookies: map[string]string{"userAuthToken": tok},
		header: map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Mode": "navigate"}})
	wantRedirect(t, nav, "/")
	if n := e.backend.Calls("posts"); n != 0 {
		t.Fatalf("posts calls = %d, want 0 for a blocked navigation", n)
	}
	for name, h := range map[string]map[string]string{
		"fetch":      {"Accept": "*/*", "Sec-Fetch-Mode": "cors"},
		"api client": {"Accept": "application/json"},
	} {
		t.Run(name, func(t *testing.T) {
			res := e.do(req{path: "/api/posts", cookies: map[string]string{"userAuthToken": tok}, header: h})
			wantStatus(t, res, http.StatusOK)
		})
	}
}

// serveGateway serves a gateway built from c on a loopback listener until
// the test ends, and returns its address.
func serveGateway(t *testing.T, c config.Config) string {
	t.Helper()
	gw, err := apilayer.New(c)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		gw.Close()
	})
	return ln.Addr().String()
}

// An upload that stalls is answered 408 JSON by the listener of serve:
// after server.bodyIdleTimeout without data, or once server.readTimeout
// has passed (which the http.Server enforces).
func TestServeStalledUpload(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server config.Server
	}{
		{"bodyIdleTimeout", config.Server{BodyIdleTimeout: config.Ptr(50 * time.Millisecond)}},
		{"readTimeout alone", config.Server{ReadTimeout: 100 * time.Millisecond, BodyIdleTimeout: config.Ptr(time.Duration(0))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testkit.NewBackend(t, demo.BackendOptions{})
			up := testkit.NewUpstream(t)
			addr := serveGateway(t, config.Config{
				Server:   tc.server,
				Backend:  config.Backend{URL: b.URL()},
				Upstream: config.Upstream{URL: up.URL()},
			})
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			// Closing c releases the stalled client; the deadline is a
			// bound on a hang, not a measured duration.
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			io.WriteString(c, "POST /contact HTTP/1.1\r\nHost: app.example\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nhello")
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer to a stalled upload: %v", err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusRequestTimeout || string(body) != `{"success":false,"message":"Request timeout."}`+"\n" {
				t.Fatalf("%d %q, want 408 with the JSON message", res.StatusCode, body)
			}
		})
	}
}
