package config

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Check implements "apilayer check --config FILE": it loads the file,
// applies defaults and validates. When the config is valid it prints what
// is valid but risky ([Config.Warnings]) to stderr as FILE: warning:
// path.to.key: message, the resolved config (defaults filled in, secrets
// redacted) as YAML to stdout, and returns 0. Otherwise it prints every problem to stderr, one per line
// as FILE:LINE: path.to.key: message, and returns 1. A file that cannot be
// read is one line and 1.
func Check(path string, stdout, stderr io.Writer) int {
	c, err := Resolve(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, w := range c.Warnings() {
		fmt.Fprintf(stderr, "%s: warning: %s\n", path, w)
	}
	out, err := c.Redacted().YAML()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		return 1
	}
	return 0
}

// Resolve loads the file at path, applies defaults and validates: what
// "apilayer serve" and "apilayer check" run. It returns the resolved config,
// or every problem at once (decoding and validation errors together, as
// *Errors sorted by line), or the error of a file that cannot be read.
func Resolve(path string) (*Config, error) {
	c, err := load(path)
	var all Errors
	if err != nil {
		var decodeErrs *Errors
		if !errors.As(err, &decodeErrs) || c == nil {
			return nil, err
		}
		all.List = append(all.List, decodeErrs.List...)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		var verrs *Errors
		if !errors.As(err, &verrs) {
			return nil, err
		}
		decodeErrs := all.List[:len(all.List):len(all.List)]
		for _, e := range verrs.List {
			// A key that failed to decode was left unset: what Validate
			// says about it (or below it) repeats or misleads.
			if !relatedToAny(e.Path, decodeErrs) {
				all.List = append(all.List, e)
			}
		}
	}
	if len(all.List) > 0 {
		all.sortByLine()
		return nil, &all
	}
	return c, nil
}

// relatedToAny reports whether path is, contains or is inside the path of
// one of errs (a document-level error, with no path, covers every path).
func relatedToAny(path string, errs []Error) bool {
	for _, e := range errs {
		if e.Path == "" || within(path, e.Path) || within(e.Path, path) {
			return true
		}
	}
	return false
}

// within reports whether path is p or below it.
func within(path, p string) bool {
	return path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[")
}
