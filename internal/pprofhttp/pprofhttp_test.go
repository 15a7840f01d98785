package pprofhttp

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler("/debug/pprof/", nil)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/debug/pprof/", http.StatusOK, "goroutine"},
		{"/debug/pprof/goroutine?debug=1", http.StatusOK, "goroutine profile:"},
		{"/debug/pprof/heap?debug=1&gc=1", http.StatusOK, "heap profile:"},
		{"/debug/pprof/nothing", http.StatusNotFound, "unknown profile"},
		{"/debug/pprof/profile?seconds=0", http.StatusBadRequest, "seconds must be 1 to 300"},
		{"/debug/pprof/trace?seconds=x", http.StatusBadRequest, "seconds must be"},
		{"/other", http.StatusNotFound, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("GET %s = %d %.80q, want %d with %q", tc.path, rec.Code, rec.Body.String(), tc.status, tc.want)
		}
	}
}

// A CPU profile while another runs, or one whose client left, cannot be
// sent: one log line each, and the handler returns.
func TestProfileNotSentIsLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	h := Handler("/debug/pprof/", slog.New(slog.NewTextHandler(&logs, nil)))

	var other bytes.Buffer
	if err := pprof.StartCPUProfile(&other); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/profile?seconds=1", nil))
	pprof.StopCPUProfile()
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("a second CPU profile = %d, want 500", rec.Code)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/trace?seconds=60", nil).WithContext(ctx))
	if rec.Body.Len() != 0 {
		t.Errorf("a trace for a gone client wrote %d bytes", rec.Body.Len())
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "path=/debug/pprof/profile") || !strings.Contains(lines[1], "path=/debug/pprof/trace") {
		t.Errorf("log:\n%s\nwant one line for each profile not sent", logs.String())
	}
}
