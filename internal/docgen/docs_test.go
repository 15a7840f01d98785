package docgen

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/config"
)

const root = "../.."

// pending are link targets that other issues write (distributed mode,
// benchmarks, the API client page, the Go html/template example): a link to
// them may dangle until they land.
var pending = map[string]bool{
	"docs/distributed.md":  true,
	"docs/benchmarks.md":   true,
	"docs/apiclient.md":    true,
	"examples/gotemplate":  true,
	"examples/gotemplate/": true,
}

// markdownFiles are the pages whose links are checked.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "examples/nextjs/README.md", "examples/spa/README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var (
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	headingRE = regexp.MustCompile("(?m)^#{1,6} +(.+)$")
	fenceRE   = regexp.MustCompile("(?ms)^```.*?^```")
)

// slug is GitHub's anchor of a heading.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r > 0x7f:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func anchors(md string) map[string]bool {
	out := map[string]bool{}
	for _, m := range headingRE.FindAllStringSubmatch(fenceRE.ReplaceAllString(md, ""), -1) {
		out[slug(m[1])] = true
	}
	return out
}

// TestDocsLinks: every relative link of the documentation points to a file
// (or folder) of the repository, and every #anchor to a heading of the
// target page.
func TestDocsLinks(t *testing.T) {
	files := markdownFiles(t)
	if len(files) < 25 {
		t.Fatalf("found only %d pages", len(files))
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, f))
			if err != nil {
				t.Fatal(err)
			}
			text := fenceRE.ReplaceAllString(string(b), "")
			for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
				link := m[1]
				if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
					continue
				}
				target, frag, _ := strings.Cut(link, "#")
				path := f
				if target != "" {
					path = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(f), target)))
				}
				if pending[path] {
					continue
				}
				data, err := os.ReadFile(filepath.Join(root, path))
				if err != nil {
					if info, serr := os.Stat(filepath.Join(root, path)); serr == nil && info.IsDir() && frag == "" {
						continue
					}
					t.Errorf("%s: link %q: %s does not exist", f, link, path)
					continue
				}
				if frag != "" && strings.HasSuffix(path, ".md") && !anchors(string(data))[frag] {
					t.Errorf("%s: link %q: no heading #%s in %s", f, link, frag, path)
				}
			}
		})
	}
}

// TestExampleConfigs: the gateway configs of the examples pass "apilayer
// check" (the SPA's static folder exists only after npm run build).
func TestExampleConfigs(t *testing.T) {
	for _, name := range []string{"nextjs", "spa"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("API_BASE_URL", "")
			t.Chdir(filepath.Join(root, "examples", name))
			_, err := config.Resolve("apilayer.yaml")
			if err == nil {
				return
			}
			var errs *config.Errors
			if !errors.As(err, &errs) {
				t.Fatal(err)
			}
			_, statErr := os.Stat("dist")
			for _, e := range errs.List {
				if name == "spa" && e.Path == "upstream.static" && os.IsNotExist(statErr) {
					continue // not built yet
				}
				t.Errorf("%v", e)
			}
		})
	}
}
