// Package pprofhttp serves the Go runtime's profiles over HTTP for the
// admin listener (admin.pprof), as net/http/pprof does, without importing
// it: that package registers its handlers on http.DefaultServeMux as a side
// effect, which would expose the profiles on any server of a program that
// embeds the gateway and serves the default mux.
//
// Profiles use the formats of net/http/pprof, so `go tool pprof
// http://127.0.0.1:9090/debug/pprof/heap` works.
package pprofhttp

import (
	"bytes"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxSeconds bounds the duration of a CPU profile or an execution trace.
const MaxSeconds = 300

// Handler serves, under prefix (such as /debug/pprof/): an index of the
// profiles at prefix; "profile" (a CPU profile of ?seconds=N, default 30);
// "trace" (an execution trace of ?seconds=N, default 1); and each named
// profile of runtime/pprof (heap, goroutine, allocs, block, mutex,
// threadcreate), with ?debug=N for text and ?gc=1 to collect garbage
// before a heap profile. A profile that cannot be made or written (the
// CPU profiler already in use, the client gone) is logged in one line to
// log; the program goes on.
func Handler(prefix string, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &handler{prefix: prefix, log: log}
}

type handler struct {
	prefix string
	log    *slog.Logger
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch name {
	case "":
		h.index(w)
	case "profile":
		h.timed(w, r, name, 30, func(b *bytes.Buffer) error { return pprof.StartCPUProfile(b) }, pprof.StopCPUProfile)
	case "trace":
		h.timed(w, r, name, 1, func(b *bytes.Buffer) error { return trace.Start(b) }, trace.Stop)
	default:
		h.named(w, r, name)
	}
}

// index lists the profiles.
func (h *handler) index(w http.ResponseWriter) {
	profiles := pprof.Profiles()
	sort.Slice(profiles, func(i, j int) bool { return profiles[i].Name() < profiles[j].Name() })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	b.WriteString("<!doctype html><title>profiles</title><h1>profiles</h1><ul>\n")
	for _, p := range profiles {
		n := html.EscapeString(p.Name())
		fmt.Fprintf(&b, "<li><a href=\"%s?debug=1\">%s</a> (%d)</li>\n", n, n, p.Count())
	}
	b.WriteString("<li><a href=\"profile\">profile</a>: CPU, ?seconds=30</li>\n")
	b.WriteString("<li><a href=\"trace\">trace</a>: execution trace, ?seconds=1</li>\n</ul>\n")
	if _, err := w.Write([]byte(b.String())); err != nil {
		h.failed("", err)
	}
}

// timed runs a profile for ?seconds (or until the client leaves) into a
// buffer, then writes it: nothing is sent before it is complete, so a
// failure is answered 500.
func (h *handler) timed(w http.ResponseWriter, r *http.Request, name string, def int, start func(*bytes.Buffer) error, stop func()) {
	sec, err := seconds(r, def)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var buf bytes.Buffer
	if err := start(&buf); err != nil {
		h.failed(name, err)
		http.Error(w, "could not start the profile: "+err.Error(), http.StatusInternalServerError)
		return
	}
	t := time.NewTimer(time.Duration(sec) * time.Second)
	select {
	case <-t.C:
	case <-r.Context().Done():
		t.Stop()
	}
	stop()
	if err := r.Context().Err(); err != nil {
		h.failed(name, fmt.Errorf("client gone before the profile ended: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if _, err := w.Write(buf.Bytes()); err != nil {
		h.failed(name, err)
	}
}

// named writes a profile of runtime/pprof.
func (h *handler) named(w http.ResponseWriter, r *http.Request, name string) {
	p := pprof.Lookup(name)
	if p == nil {
		http.Error(w, "unknown profile", http.StatusNotFound)
		return
	}
	debug, _ := strconv.Atoi(r.FormValue("debug"))
	if name == "heap" && r.FormValue("gc") != "" {
		runtime.GC()
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, debug); err != nil {
		h.failed(name, err)
		http.Error(w, "could not write the profile", http.StatusInternalServerError)
		return
	}
	if debug != 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		h.failed(name, err)
	}
}

// failed logs a profile that could not be made or sent: one line.
func (h *handler) failed(name string, err error) {
	h.log.Warn("pprof: profile not sent", "path", h.prefix+name, "error", err.Error())
}

// seconds reads ?seconds: a positive integer up to MaxSeconds, else def.
func seconds(r *http.Request, def int) (int, error) {
	v := r.FormValue("seconds")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > MaxSeconds {
		return 0, fmt.Errorf("seconds must be 1 to %d (got %q)", MaxSeconds, v)
	}
	return n, nil
}
