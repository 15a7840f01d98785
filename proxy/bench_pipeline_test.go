package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/proxy"
)

// browserHeader is what a browser sends with a page request, plus a forged
// identity header.
func browserHeader() http.Header {
	return http.Header{
		"Accept":          {"text/html,application/xhtml+xml"},
		"Accept-Encoding": {"gzip, deflate, br"},
		"Accept-Language": {"en-GB,en;q=0.9"},
		"Cookie":          {"userAuthToken=eyJhbGciOiJFZERTQSJ9.e30.sig; theme=dark"},
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64)"},
		"Sec-Fetch-Site":  {"same-origin"},
		"X-Auth-User":     {"forged"},
	}
}

// BenchmarkStripInternal is the header rewrite that removes forged
// identity headers from every forwarded request.
func BenchmarkStripInternal(b *testing.B) {
	base := browserHeader()
	h := make(http.Header, len(base))
	b.ReportAllocs()
	for b.Loop() {
		clear(h)
		for k, v := range base {
			h[k] = v
		}
		proxy.StripInternal(h)
		if _, forged := h["X-Auth-User"]; forged {
			b.Fatal("X-Auth-User kept")
		}
	}
}

// BenchmarkUpstreamBrowserRequest is the page proxy with its header
// policy, for a browser's request with a forged identity header, in front
// of a real upstream serving 2 KB.
func BenchmarkUpstreamBrowserRequest(b *testing.B) {
	page := strings.Repeat("x", 2<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, page)
	}))
	defer srv.Close()
	up, err := proxy.NewUpstream(proxy.UpstreamOptions{URL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	defer up.Close()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/dashboard", nil)
		r.Header = browserHeader()
		w := httptest.NewRecorder()
		up.ServeHTTP(w, r)
		if w.Code != http.StatusOK || w.Body.Len() != len(page) {
			b.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
		}
	}
}
