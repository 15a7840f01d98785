// Package docgen generates docs/configuration.md, the reference of every
// configuration key, from the config package itself: the YAML keys and
// the doc comments of the structs in config/config.go, the defaults from
// config.Config.Defaults, and config.Unimplemented. Keys whose field has no
// comment take their description from the notes in this package (a test
// fails when a key has none, or a note names no key).
//
// Run "go generate ./internal/docgen" after changing the config structs;
// TestReferenceIsCurrent fails while docs/configuration.md is stale.
package docgen

//go:generate go run ./gen -config ../../config -out ../../docs/configuration.md
