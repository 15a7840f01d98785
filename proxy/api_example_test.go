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

func ExampleNewAPI() {
	// The JWT backend: its API lives under /api/.
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"query":%q,"auth":%t}`, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization") != "")
	}))
	defer backend.Close()

	api, err := proxy.NewAPI(proxy.APIOptions{
		Backend:     backend.URL + "/api/",
		Prefix:      "/api",
		Timeout:     30 * time.Second,
		MaxBodySize: 10 << 20,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()

	// In the gateway, the pipeline sets Authorization before the proxy.
	gateway := httptest.NewServer(api)
	defer gateway.Close()

	req, _ := http.NewRequest("GET", gateway.URL+"/api/posts/7?page=2", nil)
	req.Header.Set("Authorization", "Bearer <token>")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))

	res, err = http.Get(gateway.URL + "/api/%2e%2e/admin")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ = io.ReadAll(res.Body)
	fmt.Print(res.StatusCode, " ", string(body))
	// Output:
	// 200 {"path":"/api/posts/7","query":"page=2","auth":true}
	// 400 {"success":false,"message":"Bad request path."}
}
