package proxy_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/apilayer/apilayer/proxy"
)

func ExampleNewUpstream() {
	// The web app, mounted under /app on its server.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Auth-User", "eyJpZCI6MX0=") // never reaches the browser
		fmt.Fprintf(w, "%s for %s", r.URL.Path, r.Header.Get("X-Forwarded-For"))
	}))
	defer app.Close()

	up, err := proxy.NewUpstream(proxy.UpstreamOptions{
		URL:     app.URL + "/app",
		Timeout: 30 * time.Second, // for the response headers only
	})
	if err != nil {
		log.Fatal(err)
	}
	defer up.Close()

	// In the gateway, the auth pipeline runs before up.
	gateway := httptest.NewServer(up)
	defer gateway.Close()

	res, err := http.Get(gateway.URL + "/dashboard")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))
	fmt.Printf("X-Auth-User: %q\n", res.Header.Get("X-Auth-User"))
	// Output:
	// 200 /app/dashboard for 127.0.0.1
	// X-Auth-User: ""
}

func ExampleNewUpstream_static() {
	// Serve a built single-page app instead of proxying to a web app.
	up, err := proxy.NewUpstream(proxy.UpstreamOptions{Static: "./dist"})
	if err != nil {
		log.Fatal(err)
	}
	defer up.Close()
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", up))
}
