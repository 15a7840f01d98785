package forwardauth

import (
	"os"
	"strings"
	"testing"
)

// The snippets of docs/forward-auth.md are the configurations the tests
// run, rendered with the addresses of the docs (docAddrs): a fenced block
// of the page must hold each one exactly.
func TestDocsShowTheTestedConfigurations(t *testing.T) {
	b, err := os.ReadFile("../../docs/forward-auth.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, name := range []string{"nginx.conf", "Caddyfile", "traefik.yml", "traefik-crd.yaml", "envoy.yaml"} {
		want := render(t, name, docAddrs)
		if !strings.Contains(doc, "\n"+want+"```\n") {
			t.Errorf("docs/forward-auth.md does not show testdata/%s as the tests run it; it should hold, in a fenced block:\n%s", name, want)
		}
	}
}

// Caddyfile renders what the tests render from testdata/Caddyfile.
func TestCaddyfileRendersTheTestedConfiguration(t *testing.T) {
	got, err := Caddyfile(docAddrs.Site, docAddrs.Gateway, docAddrs.App)
	if err != nil {
		t.Fatal(err)
	}
	if want := render(t, "Caddyfile", docAddrs); got != want {
		t.Errorf("Caddyfile() differs from testdata/Caddyfile rendered:\n%s\nwant:\n%s", got, want)
	}
}
