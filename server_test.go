package apilayer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
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
