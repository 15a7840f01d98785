package version

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by release builds (make dist), for example:
//
//	go build -ldflags "-X github.com/apilayer/apilayer/internal/version.version=v0.2.0 \
//	  -X github.com/apilayer/apilayer/internal/version.revision=$(git rev-parse HEAD)"
//
// Empty means: read the build info Go records in every binary.
var (
	version  string
	revision string
)

// Devel is the version of a build that knows none: go run, go test, or a
// go build outside a VCS checkout without -ldflags.
const Devel = "(devel)"

// Info describes the running build.
type Info struct {
	// Version is the -ldflags version, else the main module's version from
	// the build info (a tag, or a pseudo-version such as
	// v0.0.0-20261203120000-47bfa31e2c1d+dirty), else Devel.
	Version string
	// Revision is the VCS revision (the -ldflags one, else vcs.revision);
	// empty when unknown.
	Revision string
	// Time is the commit time of Revision (vcs.time, RFC 3339); empty when
	// unknown.
	Time string
	// Modified reports that the work tree had uncommitted changes at
	// Revision (vcs.modified); false when unknown.
	Modified bool
	// GoVersion is the Go release that built the binary (go1.26.8).
	GoVersion string
	// Platform is GOOS/GOARCH (linux/amd64).
	Platform string
}

// Get returns the running build's Info.
func Get() Info {
	info, _ := debug.ReadBuildInfo()
	return fromBuildInfo(info, version, revision)
}

// fromBuildInfo builds an Info from bi (nil when the binary has none) and
// the -ldflags values ver and rev, which win when set.
func fromBuildInfo(bi *debug.BuildInfo, ver, rev string) Info {
	i := Info{
		Version:   ver,
		Revision:  rev,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi != nil {
		if bi.GoVersion != "" {
			i.GoVersion = bi.GoVersion
		}
		if i.Version == "" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if i.Revision == "" {
					i.Revision = s.Value
				}
			case "vcs.time":
				i.Time = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	if i.Version == "" {
		i.Version = Devel
	}
	return i
}

// ShortRevision is the first 12 characters of the revision.
func (i Info) ShortRevision() string {
	if len(i.Revision) > 12 {
		return i.Revision[:12]
	}
	return i.Revision
}

// String is what "apilayer version" prints: the version on the first line,
// then one "name: value" line per known fact.
//
//	apilayer v0.2.0
//	revision: 47bfa31e2c1d5e0c8c1f0e6f8b0b4f3d2a1c9e7b (modified)
//	time: 2026-12-03T12:00:00Z
//	go: go1.26.8 linux/amd64
func (i Info) String() string {
	var b strings.Builder
	b.WriteString("apilayer " + i.Version + "\n")
	if i.Revision != "" {
		b.WriteString("revision: " + i.Revision)
		if i.Modified {
			b.WriteString(" (modified)")
		}
		b.WriteString("\n")
	}
	if i.Time != "" {
		b.WriteString("time: " + i.Time + "\n")
	}
	b.WriteString("go: " + i.GoVersion + " " + i.Platform + "\n")
	return b.String()
}
