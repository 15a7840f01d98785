package metrics

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// documented is a row of the table of docs/metrics.md.
type documented struct {
	typ    string
	labels []string
}

var (
	rowRE   = regexp.MustCompile("^\\| `([a-z_*]+)` \\| ([^|]+) \\| ([^|]+) \\|")
	labelRE = regexp.MustCompile("`([a-z_]+)`")
)

// readDocs parses the table "Every metric" of docs/metrics.md.
func readDocs(t *testing.T) map[string]documented {
	t.Helper()
	b, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]documented{}
	for _, line := range strings.Split(string(b), "\n") {
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		d := documented{typ: strings.TrimSpace(m[2])}
		for _, l := range labelRE.FindAllStringSubmatch(m[3], -1) {
			d.labels = append(d.labels, l[1])
		}
		sort.Strings(d.labels)
		out[m[1]] = d
	}
	if len(out) == 0 {
		t.Fatal("no metric rows found in docs/metrics.md")
	}
	return out
}

// exercised returns Metrics in which every apilayer metric has a sample:
// a vector without one is not exported.
func exercised(t *testing.T) *Metrics {
	t.Helper()
	m := New()
	m.Request("page", 200, time.Millisecond)
	m.Session("user", "ok")
	m.RateLimited()
	m.CSRFFailed()
	m.ConfigReload(true)
	m.BackendBreakers(func() map[string]string { return map[string]string{"validate": "closed"} })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	hc := &http.Client{Transport: m.Transport("/api/", http.DefaultTransport)}
	res, err := hc.Get(srv.URL + "/api/auth/me")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	hc.CloseIdleConnections()
	return m
}

var typeNames = map[dto.MetricType]string{
	dto.MetricType_COUNTER:   "counter",
	dto.MetricType_GAUGE:     "gauge",
	dto.MetricType_HISTOGRAM: "histogram",
	dto.MetricType_SUMMARY:   "summary",
}

// TestDocsListEveryMetric: docs/metrics.md lists every metric the registry
// serves, with its type and labels, and nothing else.
func TestDocsListEveryMetric(t *testing.T) {
	docs := readDocs(t)
	m := exercised(t)

	descs := 0
	for _, c := range m.own {
		ch := make(chan *prometheus.Desc, 16)
		c.Describe(ch)
		close(ch)
		for range ch {
			descs++
		}
	}
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	own := 0
	for _, f := range fams {
		name := f.GetName()
		if !strings.HasPrefix(name, "apilayer_") {
			prefix := name[:strings.Index(name, "_")+1] + "*"
			if _, ok := docs[prefix]; !ok {
				t.Errorf("%s is served but neither it nor %s is in docs/metrics.md", name, prefix)
			}
			served[prefix] = true
			continue
		}
		own++
		served[name] = true
		d, ok := docs[name]
		if !ok {
			t.Errorf("%s is served but not in docs/metrics.md", name)
			continue
		}
		if typ := typeNames[f.GetType()]; d.typ != typ {
			t.Errorf("%s: docs/metrics.md says %s, the registry %s", name, d.typ, typ)
		}
		var labels []string
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		sort.Strings(labels)
		if !slices.Equal(labels, d.labels) {
			t.Errorf("%s: docs/metrics.md lists labels %v, the registry %v", name, d.labels, labels)
		}
	}
	if own != descs {
		t.Errorf("%d apilayer metrics are registered but %d served: give each a sample in exercised()", descs, own)
	}
	for name := range docs {
		if !served[name] {
			t.Errorf("docs/metrics.md lists %s, which the registry does not serve", name)
		}
	}
}
