package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Error is one configuration problem: where it is (File and Line, when the
// Config came from a file), which key (Path, in YAML names, with list
// indices as access.rules[0].path) and what is wrong (Msg).
type Error struct {
	File string // empty for a Config built in code
	Line int    // 0 when unknown
	Path string // empty for a problem of the whole document
	Msg  string
}

// Error formats e as FILE:LINE: path.to.key: message, leaving out the parts
// that are unknown.
func (e Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a configuration. Load, Parse and
// Validate return it (as *Errors) so that all problems are seen at once.
type Errors struct {
	List []Error
}

// Error prints one problem per line.
func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, x := range e.List {
		lines[i] = x.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each problem, so that errors.As finds an Error.
func (e *Errors) Unwrap() []error {
	errs := make([]error, len(e.List))
	for i, x := range e.List {
		errs[i] = x
	}
	return errs
}

// add appends a problem.
func (e *Errors) add(file string, line int, path, msg string) {
	e.List = append(e.List, Error{File: file, Line: line, Path: path, Msg: msg})
}

// err returns e as an error, or nil when there is no problem.
func (e *Errors) err() error {
	if e == nil || len(e.List) == 0 {
		return nil
	}
	return e
}

// sortByLine orders problems by line, keeping the order of problems on the
// same line; problems without a line come last.
func (e *Errors) sortByLine() {
	slices.SortStableFunc(e.List, func(a, b Error) int {
		if (a.Line == 0) != (b.Line == 0) {
			if a.Line == 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Line, b.Line)
	})
}
