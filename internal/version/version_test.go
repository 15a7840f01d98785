package version

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	vcs := []debug.BuildSetting{
		{Key: "-trimpath", Value: "true"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "47bfa31e2c1d5e0c8c1f0e6f8b0b4f3d2a1c9e7b"},
		{Key: "vcs.time", Value: "2026-12-03T12:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name     string
		bi       *debug.BuildInfo
		ver, rev string
		want     Info
		out      string
	}{
		{
			name: "no build info",
			want: Info{Version: Devel, GoVersion: runtime.Version(), Platform: platform},
			out:  "apilayer (devel)\ngo: " + runtime.Version() + " " + platform + "\n",
		},
		{
			name: "module version and vcs settings",
			bi: &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/apilayer/apilayer",
				Version: "v0.0.0-20261203120000-47bfa31e2c1d+dirty"}, Settings: vcs},
			want: Info{Version: "v0.0.0-20261203120000-47bfa31e2c1d+dirty", Revision: "47bfa31e2c1d5e0c8c1f0e6f8b0b4f3d2a1c9e7b",
				Time: "2026-12-03T12:00:00Z", Modified: true, GoVersion: "go1.26.1", Platform: platform},
			out: "apilayer v0.0.0-20261203120000-47bfa31e2c1d+dirty\n" +
				"revision: 47bfa31e2c1d5e0c8c1f0e6f8b0b4f3d2a1c9e7b (modified)\n" +
				"time: 2026-12-03T12:00:00Z\n" +
				"go: go1.26.1 " + platform + "\n",
		},
		{
			name: "ldflags win over the build info",
			bi: &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v0.0.0-20261203120000-47bfa31e2c1d"},
				Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "47bfa31e"}, {Key: "vcs.modified", Value: "false"}}},
			ver: "v0.2.0", rev: "0123456789abcdef",
			want: Info{Version: "v0.2.0", Revision: "0123456789abcdef", GoVersion: "go1.26.1", Platform: platform},
			out:  "apilayer v0.2.0\nrevision: 0123456789abcdef\ngo: go1.26.1 " + platform + "\n",
		},
		{
			name: "devel module without vcs",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}},
			want: Info{Version: Devel, GoVersion: "go1.26.1", Platform: platform},
			out:  "apilayer (devel)\ngo: go1.26.1 " + platform + "\n",
		},
		{
			name: "empty module version",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.1"},
			want: Info{Version: Devel, GoVersion: "go1.26.1", Platform: platform},
			out:  "apilayer (devel)\ngo: go1.26.1 " + platform + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromBuildInfo(tt.bi, tt.ver, tt.rev)
			if got != tt.want {
				t.Errorf("fromBuildInfo = %+v, want %+v", got, tt.want)
			}
			if s := got.String(); s != tt.out {
				t.Errorf("String() = %q, want %q", s, tt.out)
			}
		})
	}
}

func TestShortRevision(t *testing.T) {
	for _, tt := range []struct{ rev, want string }{
		{"", ""}, {"abc", "abc"}, {"47bfa31e2c1d5e0c8c1f0e6f8b0b4f3d2a1c9e7b", "47bfa31e2c1d"},
	} {
		if got := (Info{Revision: tt.rev}).ShortRevision(); got != tt.want {
			t.Errorf("ShortRevision(%q) = %q, want %q", tt.rev, got, tt.want)
		}
	}
}

// TestLdflags builds the apilayer command the way make dist does, with the
// version and revision set by -ldflags -X, and runs "apilayer version".
func TestLdflags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "apilayer")
	const pkg = "github.com/apilayer/apilayer/internal/version"
	ldflags := "-X " + pkg + ".version=v9.8.7-ldflags -X " + pkg + ".revision=0123456789abcdef0123"
	// The release flags (-trimpath, CGO_ENABLED=0) are left out: they would
	// rebuild every package instead of reusing the test build's cache.
	build := exec.Command("go", "build", "-buildvcs=false", "-ldflags", ldflags, "-o", bin, "../../cmd/apilayer")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("apilayer version: %v\n%s", err, out)
	}
	want := "apilayer v9.8.7-ldflags\nrevision: 0123456789abcdef0123\ngo: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if string(out) != want {
		t.Errorf("apilayer version printed:\n%s\nwant:\n%s", out, want)
	}
}
