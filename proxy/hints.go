package proxy

import (
	"net/http"
	"sync"
)

// hintsWriter is the ResponseWriter the proxies give httputil.ReverseProxy,
// for the sake of 1xx responses (103 Early Hints above all). For a 1xx,
// ReverseProxy adds the upstream's headers to the response's header map,
// writes it, and clears the map. The map already holds what the gateway
// set before proxying (the Set-Cookie of a refreshed token, the request
// ID, CORS and rate-limit headers): they went out with the hint and were
// then lost from the final response.
//
// hintsWriter remembers those headers when it is made, sends a 1xx with
// only what the upstream added (internal headers and Set-Cookie lines of
// the gateway's own cookies removed), and puts the
// gateway's headers back before ReverseProxy reads the map again. Without a
// 1xx it costs the copy of a few slice headers.
type hintsWriter struct {
	http.ResponseWriter
	// before holds the header map's entries when the proxy started: each
	// key with its values (the slices themselves, which Header.Add only
	// appends to). The writer is pooled, so its array is reused.
	before []headerEntry
	// restore is set after a 1xx, until the map holds before again.
	restore bool
	// reserved are the gateway's own cookie names, dropped from the
	// Set-Cookie lines of a 1xx.
	reserved map[string]bool
}

type headerEntry struct {
	key    string
	values []string
}

var hintsWriters = sync.Pool{New: func() any { return new(hintsWriter) }}

// newHintsWriter wraps w; release it with put once the proxy returned.
// reserved are the gateway's own cookie names (nil for none).
func newHintsWriter(w http.ResponseWriter, reserved map[string]bool) *hintsWriter {
	hw := hintsWriters.Get().(*hintsWriter)
	hw.ResponseWriter = w
	hw.reserved = reserved
	for k, v := range w.Header() {
		hw.before = append(hw.before, headerEntry{k, v})
	}
	return hw
}

func (hw *hintsWriter) put() {
	clear(hw.before)
	*hw = hintsWriter{before: hw.before[:0]}
	hintsWriters.Put(hw)
}

func (hw *hintsWriter) Header() http.Header {
	h := hw.ResponseWriter.Header()
	if hw.restore {
		hw.restore = false
		clear(h)
		for _, e := range hw.before {
			h[e.key] = e.values
		}
	}
	return h
}

func (hw *hintsWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		hw.Header() // restored, if a 1xx left it to be
		hw.ResponseWriter.WriteHeader(code)
		return
	}
	// Keep only what the upstream added: the values past each entry's
	// original length, and the keys the map did not have.
	h := hw.ResponseWriter.Header()
	for _, e := range hw.before {
		if v, ok := h[e.key]; ok && len(v) > len(e.values) {
			h[e.key] = v[len(e.values):]
		} else {
			delete(h, e.key)
		}
	}
	StripFromResponse(h)
	dropReservedCookies(h, hw.reserved)
	hw.ResponseWriter.WriteHeader(code)
	// ReverseProxy clears the map when this returns; the next Header()
	// puts the gateway's headers back.
	hw.restore = true
}

func (hw *hintsWriter) Write(b []byte) (int, error) {
	hw.Header() // restored, if a 1xx left it to be
	return hw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (flush,
// hijack, deadlines).
func (hw *hintsWriter) Unwrap() http.ResponseWriter { return hw.ResponseWriter }
