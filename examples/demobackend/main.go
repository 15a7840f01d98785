// Command demobackend serves apilayer's demo JWT backend on 127.0.0.1:8000, for
// the examples: users alice / alice-password and admin / admin-password,
// guest tokens for guest / guest-password, rotating refresh tokens, and
// POST /api/demo/expire-session, which makes the caller's access token
// invalid at once (to see the gateway refresh it). Replace it with your own
// backend by setting API_BASE_URL for the gateway.
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/apilayer/apilayer/internal/demo"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:8000", "address of the demo backend")
	flag.Parse()
	log.Printf("demo JWT backend on http://%s/api/ (alice / %s, admin / %s)", *addr, demo.AlicePassword, demo.AdminPassword)
	srv := &http.Server{Addr: *addr, Handler: demo.NewBackend(demo.BackendOptions{}).WithExpireSession(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
