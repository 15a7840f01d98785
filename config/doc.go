// Package config is apilayer's configuration: the YAML schema of the
// gateway (docs/configuration.md), its defaults, its validation and its loading
// from a file.
//
// A Config can be built in code or loaded from YAML with Load or Parse.
// Either way, call Defaults to fill what is unset and Validate to learn every
// problem at once. The zero value of every field means "use the default"
// unless the field's comment says otherwise; pointer fields (*time.Duration,
// *bool) exist where an explicit zero or false is meaningful, and a nil list
// takes its default while an explicit empty list stays empty.
//
// Decoding is strict: an unknown key, a value of the wrong kind, a bad
// duration, size or bool is an error at its line, and every error is
// reported at once as *Errors, printed one per line as
//
//	FILE:LINE: path.to.key: message
//
// String values may use ${VAR} and ${VAR:-default}, expanded from the
// environment; $$ is a literal $. A ${VAR} whose variable is not set is an
// error naming it (${VAR:-} is an explicit empty default).
//
// Check implements "apilayer check": it loads, defaults and validates a file
// and prints either the errors or the resolved configuration with secrets
// redacted.
package config
