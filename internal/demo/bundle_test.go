package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sourcesHash is the hash that clients/react/scripts/build-demo.mjs writes
// to web/dist/SOURCES.sha256: over every file under src/ and demo/, plus
// package.json, package-lock.json and the build script, sorted by path
// relative to clients/react, SHA-256 of the lines "<path>\n<hex sha256>\n".
func sourcesHash(t *testing.T, root string) string {
	t.Helper()
	var rel []string
	for _, dir := range []string{"src", "demo"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				r, err := filepath.Rel(root, p)
				if err != nil {
					return err
				}
				rel = append(rel, filepath.ToSlash(r))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rel = append(rel, "package.json", "package-lock.json", "scripts/build-demo.mjs")
	slices.Sort(rel)
	h := sha256.New()
	for _, r := range rel {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(r)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		h.Write([]byte(r + "\n" + hex.EncodeToString(sum[:]) + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestBundleIsFresh fails when the embedded React bundle was built from
// other sources than those in clients/react: rebuild it with
// `cd clients/react && npm ci && npm run build:demo`.
func TestBundleIsFresh(t *testing.T) {
	want := sourcesHash(t, filepath.Join("..", "..", "clients", "react"))
	got, err := webDist.ReadFile("web/dist/SOURCES.sha256")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != want {
		t.Fatalf("web/dist is stale: built from sources %s, clients/react is now %s; run `cd clients/react && npm ci && npm run build:demo`",
			strings.TrimSpace(string(got)), want)
	}
	js, err := webDist.ReadFile("web/dist/app.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js[:min(len(js), 512)]), "SOURCES_SHA256="+want) {
		t.Errorf("web/dist/app.js does not carry SOURCES_SHA256=%s", want)
	}
}
