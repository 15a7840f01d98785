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
