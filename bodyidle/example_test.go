package bodyidle_test

import (
	"net/http"
	"time"

	"github.com/apilayer/apilayer/bodyidle"
)

func ExampleMiddleware() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		// Reads r.Body as usual: a client that sends nothing for 30s gets
		// 408 {"success":false,"message":"Request timeout."}.
	})
	srv := &http.Server{
		Addr:              ":8080",
		ReadHeaderTimeout: 10 * time.Second,
		Handler:           bodyidle.Middleware(bodyidle.Options{Timeout: 30 * time.Second})(mux),
	}
	_ = srv // srv.ListenAndServe()
}
