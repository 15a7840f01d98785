package docgen

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// outside matches a citation of a document that is not in the repository:
// the team's product contract and behaviour notes (by file name, as
// "SPEC 4.4", or by a bare item number such as "10.1 item 13"), their
// folder, and the reviews. Comments and docs cite a docs/ page, a YAML key,
// or state the fact instead.
var outside = regexp.MustCompile(`\bSPEC\b|\bBEHAVIOUR\b|\.\./shared\b|/work/shared\b|\breviews/|\b[0-9]+\.[0-9]+ items? [0-9]`)

// self is this file, the one place that names what the others must not.
const self = "internal/docgen/standalone_test.go"

// trackedFiles lists the repository's files relative to root: git's index
// when there is one, otherwise every file under root but .git and
// node_modules (a source archive).
func trackedFiles(t *testing.T) []string {
	t.Helper()
	if out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output(); err == nil {
		var files []string
		for f := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
			files = append(files, f)
		}
		return files
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestStandsAlone: no text file of the repository (code, comments, tests,
// docs, JS packages, examples, committed reports) cites a document outside
// it, so a reader can follow every reference.
func TestStandsAlone(t *testing.T) {
	files := trackedFiles(t)
	if len(files) < 300 {
		t.Fatalf("found only %d files", len(files))
	}
	checked := 0
	for _, f := range files {
		if f == self || strings.Contains("/"+f, "/node_modules/") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the work tree, not yet in the index
			}
			t.Fatal(err)
		}
		if bytes.IndexByte(b[:min(len(b), 8000)], 0) >= 0 {
			continue // binary
		}
		checked++
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, len(b)+1)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if loc := outside.FindStringIndex(line); loc != nil {
				from, to := max(0, loc[0]-60), min(len(line), loc[1]+60)
				t.Errorf("%s:%d cites a document outside the repository: %q", f, n, line[from:to])
			}
		}
	}
	if checked < 300 {
		t.Fatalf("checked only %d text files", checked)
	}
}
