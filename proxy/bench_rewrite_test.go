package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"testing"
)

// rewriteBrowserHeader is a browser's page navigation: twelve headers,
// none of them one the proxies remove.
func rewriteBrowserHeader() http.Header {
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

// benchRewrite runs rewrite on a ProxyRequest whose outbound header is
// refilled from in each time, as ReverseProxy hands it over.
func benchRewrite(b *testing.B, in *http.Request, rewrite func(*httputil.ProxyRequest)) {
	out := in.Clone(in.Context())
	b.ReportAllocs()
	for b.Loop() {
		clear(out.Header)
		for k, v := range in.Header {
			out.Header[k] = v
		}
		rewrite(&httputil.ProxyRequest{In: in, Out: out})
	}
}

// BenchmarkRewrite is the header policy of each proxy's Rewrite for a
// browser's twelve-header request (the pipeline's identity headers and
// request ID added on the page proxy).
func BenchmarkRewrite(b *testing.B) {
	b.Run("upstream", func(b *testing.B) {
		u, err := NewUpstream(UpstreamOptions{URL: "http://127.0.0.1:3000"})
		if err != nil {
			b.Fatal(err)
		}
		in := httptest.NewRequest("GET", "/dashboard", nil)
		in.Header = rewriteBrowserHeader()
		in.Header.Set(HeaderAuthUser, "eyJpZCI6MX0=")
		in.Header.Set(HeaderTokenType, "user")
		in.Header.Set("X-Request-Id", "0123456789abcdef0123456789abcdef")
		benchRewrite(b, in, u.rewrite)
	})
	b.Run("api", func(b *testing.B) {
		a, err := NewAPI(APIOptions{Backend: "http://127.0.0.1:8000/api/", Prefix: "/api"})
		if err != nil {
			b.Fatal(err)
		}
		in := httptest.NewRequest("GET", "/api/items", nil)
		in.Header = rewriteBrowserHeader()
		in.Header.Set("Authorization", "Bearer eyJhbGciOiJFZERTQSJ9.e30.sig")
		in.Header.Set("X-Request-Id", "0123456789abcdef0123456789abcdef")
		call := &apiCall{endpoint: "items", target: a.target(in, "items", "")}
		in = in.WithContext(context.WithValue(in.Context(), apiCallKey{}, call))
		benchRewrite(b, in, a.rewrite)
	})
}
