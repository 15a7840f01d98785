package demo

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
)

// webDist is the React demo app, built from clients/react/demo with
// `npm run build:demo` (see clients/react/README.md). It is committed, so
// `apilayer demo` never needs Node; TestBundleIsFresh fails when it is
// older than its sources.
//
//go:embed web/dist
var webDist embed.FS

// assets serves the bundle's .js and .css files.
func assets() http.Handler {
	dist, err := fs.Sub(webDist, "web/dist")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	files := http.FileServerFS(dist)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch path.Ext(r.URL.Path) {
		case ".js", ".css":
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
