package proxy

import (
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apilayer/apilayer/respond"
)

// static serves a folder in place of a web app (UpstreamOptions.Static).
//
// Every request opens its file with os.OpenInRoot, so nothing outside the
// folder is ever served, through ".." or through a symbolic link, and a
// folder replaced by a deployment is picked up at once.
type static struct {
	dir string
}

func newStatic(dir string) (*static, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("proxy: upstream static: %w", err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("proxy: upstream static: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("proxy: upstream static: %s is not a folder", abs)
	}
	return &static{dir: abs}, nil
}

func (s *static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		respond.Page(w, http.StatusMethodNotAllowed, "Only GET and HEAD are allowed here.")
		return
	}
	name, dirRequest, ok := staticName(r.URL.Path)
	if !ok {
		staticNotFound(w)
		return
	}
	f, info, err := s.open(name)
	if err == nil {
		switch {
		case info.IsDir() && !dirRequest:
			f.Close()
			// As http.FileServer: a folder is addressed with a trailing
			// slash, so that relative links in its index resolve inside
			// it. The relative Location cannot point to another site.
			staticRedirect(w, r, path.Base(r.URL.Path)+"/")
			return
		case info.IsDir():
			f.Close()
			f, info, err = s.open(path.Join(name, "index.html"))
			if err == nil && info.IsDir() {
				f.Close()
				err = fs.ErrNotExist
			}
		case dirRequest:
			// "/app.js/" names a folder that does not exist.
			f.Close()
			err = fs.ErrNotExist
		}
	}
	if err == nil {
		defer f.Close()
		serveStaticFile(w, r, info, f)
		return
	}

	// Single-page apps route on the client: a navigation to a path that
	// is not a file (no extension) gets the app's index.html, while a
	// missing asset stays a 404 so broken links are visible.
	if path.Ext(name) == "" {
		w.Header().Add("Vary", "Accept")
		if acceptsHTML(r.Header.Get("Accept")) {
			if f, info, err := s.open("index.html"); err == nil {
				defer f.Close()
				w.Header().Set("Cache-Control", "no-cache")
				serveStaticFile(w, r, info, f)
				return
			}
		}
	}
	staticNotFound(w)
}

// open opens a regular file or a folder inside the root.
func (s *static) open(name string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenInRoot(s.dir, name)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !info.Mode().IsRegular() && !info.IsDir() {
		f.Close()
		return nil, nil, fs.ErrNotExist
	}
	return f, info, nil
}

func serveStaticFile(w http.ResponseWriter, r *http.Request, info fs.FileInfo, f *os.File) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// ServeContent handles Range, If-Modified-Since and HEAD, and takes
	// the Content-Type from the extension of the name.
	http.ServeContent(w, r, info.Name(), info.ModTime(), f)
}

// staticName maps a URL path to a name inside the folder ("." for the
// folder itself). It refuses dot segments, empty segments, backslashes and
// dotfiles (.env, .git/...), except the top-level .well-known folder.
func staticName(p string) (name string, dirRequest, ok bool) {
	if !strings.HasPrefix(p, "/") {
		return "", false, false
	}
	dirRequest = strings.HasSuffix(p, "/")
	name = strings.TrimSuffix(p[1:], "/")
	if name == "" {
		return ".", true, true
	}
	if strings.ContainsAny(name, "\\\x00") || !fs.ValidPath(name) {
		return "", false, false
	}
	for i, seg := range strings.Split(name, "/") {
		if strings.HasPrefix(seg, ".") && !(i == 0 && seg == ".well-known") {
			return "", false, false
		}
	}
	return name, dirRequest, true
}

// acceptsHTML reports whether an Accept header lists text/html with a
// non-zero quality. A bare */* (fetch's default) does not count: only page
// navigations get the SPA's index.html.
func acceptsHTML(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(mt), "text/html") {
			continue
		}
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
			if strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}

func staticRedirect(w http.ResponseWriter, r *http.Request, loc string) {
	if q := r.URL.RawQuery; q != "" {
		loc += "?" + q
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusMovedPermanently)
}

func staticNotFound(w http.ResponseWriter) {
	respond.Page(w, http.StatusNotFound, "This page does not exist.")
}
