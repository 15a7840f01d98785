package healthcheck

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/config"
)

func TestDefaultURL(t *testing.T) {
	// The defaults of listen and health.path, as a client on the same host
	// reaches them.
	c := &config.Config{Backend: config.Backend{URL: "http://127.0.0.1:8000/api/"}}
	c.Defaults()
	got, err := URLFor(c)
	if err != nil {
		t.Fatal(err)
	}
	if got != DefaultURL || DefaultURL != "http://127.0.0.1:8080/_apilayer/health" {
		t.Errorf("URLFor(defaults) = %q, DefaultURL = %q; want both http://127.0.0.1:8080/_apilayer/health", got, DefaultURL)
	}
}

func TestURLFor(t *testing.T) {
	tests := []struct {
		name, listen, path string
		tls                bool
		want               string
	}{
		{"port only", ":9000", "/_apilayer/health", false, "http://127.0.0.1:9000/_apilayer/health"},
		{"IPv4 wildcard", "0.0.0.0:9000", "/h", false, "http://127.0.0.1:9000/h"},
		{"IPv6 wildcard", "[::]:9000", "/h", false, "http://[::1]:9000/h"},
		{"loopback", "127.0.0.1:9000", "/h", false, "http://127.0.0.1:9000/h"},
		{"one interface", "10.1.2.3:9000", "/h", false, "http://10.1.2.3:9000/h"},
		{"IPv6 address", "[fd00::5]:9000", "/h", false, "http://[fd00::5]:9000/h"},
		{"host name", "gateway.internal:9000", "/h", false, "http://gateway.internal:9000/h"},
		{"tls", ":8443", "/_apilayer/health", true, "https://127.0.0.1:8443/_apilayer/health"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &config.Config{Listen: tt.listen, Health: config.Health{Path: tt.path}}
			if tt.tls {
				c.TLS = config.TLS{CertFile: "cert.pem", KeyFile: "key.pem"}
			}
			got, err := URLFor(c)
			if err != nil || got != tt.want {
				t.Errorf("URLFor(listen %q) = %q, %v; want %q", tt.listen, got, err, tt.want)
			}
		})
	}
	if _, err := URLFor(&config.Config{Listen: "8080"}); err == nil {
		t.Error("URLFor(listen 8080) = nil error, want one")
	}
}

func TestCheck(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.Header.Get("Cookie") != "" || r.Header.Get("Authorization") != "" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.Write([]byte("{\"status\":\"degraded\",\n\"backend\":\"unavailable\"}\n"))
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/empty503", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // released when the check gives up
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := httptest.NewUnstartedServer(mux)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/ok"
	ln.Close() // nothing listens there now

	tests := []struct {
		name   string
		url    string
		o      Options
		status int
		body   string
		err    string // substring; empty = success
	}{
		{"200, degraded body", srv.URL + "/ok", Options{}, 200, `{"status":"degraded", "backend":"unavailable"}`, ""},
		{"503", srv.URL + "/down", Options{}, 503, "not ready", "GET " + srv.URL + "/down: 503 Service Unavailable: not ready"},
		{"503 without body", srv.URL + "/empty503", Options{}, 503, "", "GET " + srv.URL + "/empty503: 503 Service Unavailable"},
		{"redirect not followed", srv.URL + "/moved", Options{}, 302, `<a href="/ok">Found</a>.`, ": 302 Found"},
		{"connection refused", closed, Options{}, 0, "", "GET " + closed + ": "},
		{"no answer in time", srv.URL + "/hang", Options{Timeout: 50 * time.Millisecond}, 0, "", "no answer within 50ms"},
		{"tls verified fails on a private certificate", tlsSrv.URL + "/ok", Options{}, 0, "", "certificate"},
		{"tls skip verify", tlsSrv.URL + "/ok", Options{SkipVerify: true}, 200, `{"status":"degraded", "backend":"unavailable"}`, ""},
		{"not a URL", "127.0.0.1:8080/_apilayer/health", Options{}, 0, "", "want an http(s) URL such as http://127.0.0.1:8080/_apilayer/health"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Check(context.Background(), tt.url, tt.o)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Check = %v, want success", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Check error = %v, want it to contain %q", err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
			if res.Status != tt.status || res.Body != tt.body {
				t.Errorf("Check = %d %q, want %d %q", res.Status, res.Body, tt.status, tt.body)
			}
		})
	}
}
