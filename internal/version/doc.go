// Package version tells which build of apilayer is running: the version
// set by a release build with -ldflags, else the module version Go recorded
// in the binary, the VCS revision and time when the build knew them, and
// the Go version. "apilayer version" prints it and the metric
// apilayer_build_info carries it (docs/metrics.md).
package version
