package transport

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// No environment proxy: Go never proxies loopback addresses, so the policy
// is checked where it is set.
func TestForHostUsesNoEnvironmentProxy(t *testing.T) {
	if ForHost().Proxy != nil {
		t.Fatal("ForHost sets a Proxy: HTTP_PROXY would capture the gateway's own calls")
	}
}

// Responses pass through as the host sent them: not decompressed.
func TestForHostKeepsTheContentEncoding(t *testing.T) {
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "" {
			t.Errorf("the transport asked for %q on its own", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write([]byte("not really gzip"))
	}))
	defer host.Close()
	tr := ForHost()
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Get(host.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" || res.Uncompressed {
		t.Errorf("the response was decompressed: Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}
}
