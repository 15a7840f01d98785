package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/proxy"
)

// browserHeader is what a browser sends with a page navigation: twelve
// headers, none of them one the gateway removes.
func browserHeader() http.Header {
	return http.Header{
		"Accept":                    {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		"Accept-Encoding":           {"gzip, deflate, br, zstd"},
		"Accept-Language":           {"en-GB,en;q=0.9"},
		"Cookie":                    {"userAuthToken=eyJhbGciOiJFZERTQSJ9.e30.sig; theme=dark"},
		"Sec-Ch-Ua":                 {`"Chromium";v="131", "Not_A Brand";v="24"`},
		"Sec-Ch-Ua-Mobile":          {"?0"},
		"Sec-Ch-Ua-Platform":        {`"Linux"`},
		"Sec-Fetch-Dest":            {"document"},
		"Sec-Fetch-Mode":            {"navigate"},
		"Sec-Fetch-Site":            {"same-origin"},
		"Upgrade-Insecure-Requests": {"1"},
		"User-Agent":                {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
	}
}

// forgedHeader is browserHeader plus a forged identity header.
func forgedHeader() http.Header {
	h := browserHeader()
	h["X-Auth-User"] = []string{"forged"}
	return h
}

// BenchmarkStripInternal is the header rewrite that removes forged
// identity headers from every forwarded request: "browser" has nothing to
// remove (and must not allocate), "forged" one header.
func BenchmarkStripInternal(b *testing.B) {
	b.Run("browser", func(b *testing.B) {
		h := browserHeader()
		b.ReportAllocs()
		for b.Loop() {
			proxy.StripInternal(h) // nothing to remove: h stays as it is
		}
		if len(h) != 12 {
			b.Fatalf("%d headers left, want 12", len(h))
		}
	})
	b.Run("forged", func(b *testing.B) {
		base := forgedHeader()
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
	})
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
		r.Header = forgedHeader()
		w := httptest.NewRecorder()
		up.ServeHTTP(w, r)
		if w.Code != http.StatusOK || w.Body.Len() != len(page) {
			b.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
		}
	}
}
