package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/internal/version"
)

// scrape returns what the metrics handler serves.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestBuildInfo(t *testing.T) {
	b := version.Get()
	rev := b.Revision
	if rev == "" {
		rev = "unknown"
	}
	want := `apilayer_build_info{goversion="` + b.GoVersion + `",revision="` + rev + `",version="` + b.Version + `"} 1` + "\n"
	if got := scrape(t, New()); !strings.Contains(got, want) {
		t.Errorf("metrics lack %s:\n%s", want, got)
	}
}

// TestBackendBreakers: the breaker gauge reads the states at each scrape, 1
// for the current state of each endpoint and 0 for the others.
func TestBackendBreakers(t *testing.T) {
	m := New()
	if got := scrape(t, m); strings.Contains(got, "apilayer_backend_breaker_state{") {
		t.Errorf("breaker samples before BackendBreakers:\n%s", got)
	}
	states := map[string]string{"validate": "closed", "refresh": "open"}
	m.BackendBreakers(func() map[string]string { return states })
	want := []string{
		`apilayer_backend_breaker_state{endpoint="validate",state="closed"} 1`,
		`apilayer_backend_breaker_state{endpoint="validate",state="open"} 0`,
		`apilayer_backend_breaker_state{endpoint="validate",state="half-open"} 0`,
		`apilayer_backend_breaker_state{endpoint="refresh",state="closed"} 0`,
		`apilayer_backend_breaker_state{endpoint="refresh",state="open"} 1`,
		`apilayer_backend_breaker_state{endpoint="refresh",state="half-open"} 0`,
	}
	got := scrape(t, m)
	for _, w := range want {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("metrics lack %s", w)
		}
	}
	states = map[string]string{"validate": "half-open", "refresh": "closed"}
	got = scrape(t, m)
	for _, w := range []string{
		`apilayer_backend_breaker_state{endpoint="validate",state="half-open"} 1`,
		`apilayer_backend_breaker_state{endpoint="refresh",state="open"} 0`,
	} {
		if !strings.Contains(got, w+"\n") {
			t.Errorf("after a change, metrics lack %s", w)
		}
	}
	var nilMetrics *Metrics
	nilMetrics.BackendBreakers(nil) // a nil Metrics records nothing
}
