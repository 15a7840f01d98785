package route

import (
	"errors"
	"fmt"
	"strings"
)

// Glob is a compiled path pattern (docs/configuration.md: "Globs"). A
// pattern is a list of segments separated by "/":
//
//   - "*" matches exactly one non-empty segment;
//   - "**" matches zero or more whole segments, so /admin/** matches /admin,
//     /admin/ and /admin/x/y;
//   - a segment holding "*" among other characters matches a segment where
//     each "*" stands for any run of characters, "/" excepted (*.js);
//   - every other character is literal: /v1.0/* does not match /v1x0/a.
//
// A pattern that starts with "/" is a full path (/admin/**) and matches only
// paths that start with "/". Any other pattern is relative (news/*) and
// matches only relative paths, such as the part of a request path below
// api.prefix that [Trim] returns. A trailing slash, on the pattern or on the
// path, is ignored.
//
// Literal segments are put in the form [Clean] gives to request paths, so a
// pattern may be written decoded (/über/*) or escaped (/%C3%BC/*).
//
// Literal text is compared case-sensitively, unless the glob was compiled
// by [Options.CompileGlob] with CaseInsensitive.
//
// The zero Glob matches nothing.
type Glob struct {
	pattern string
	abs     bool
	fold    bool // ASCII letters compare case-insensitively
	segs    []segment
	valid   bool
}

type segKind uint8

const (
	segLiteral    segKind = iota // compare bytes
	segStar                      // "*": one non-empty segment
	segDoubleStar                // "**": zero or more segments
	segWild                      // literal with "*" wildcards inside
)

type segment struct {
	kind segKind
	text string
}

// CompileGlob compiles pattern. It fails when pattern is empty, when "**" is
// part of a segment instead of a whole one (/a**/b), or when the pattern is
// not a valid path (an invalid escape, a ".." above the root).
func CompileGlob(pattern string) (Glob, error) {
	return Options{}.CompileGlob(pattern)
}

// CompileGlob is [CompileGlob] under o.
func (o Options) CompileGlob(pattern string) (Glob, error) {
	g, reason := compileGlob(pattern, o.CaseInsensitive)
	if reason != "" {
		return Glob{}, fmt.Errorf("route: glob %q: %s", pattern, reason)
	}
	return g, nil
}

// compileGlob returns the glob or why pattern is invalid.
func compileGlob(pattern string, fold bool) (Glob, string) {
	if strings.TrimSpace(pattern) == "" {
		return Glob{}, "empty pattern"
	}
	abs := pattern[0] == '/'
	p := pattern
	if !abs {
		p = "/" + p
	}
	cleaned, ok := Clean(p)
	if !ok {
		return Glob{}, "not a valid path (bad escape, control byte or \"..\" above the root)"
	}
	g := Glob{pattern: pattern, abs: abs, fold: fold, valid: true}
	body := trimSlash(cleaned[1:])
	if body == "" {
		return g, ""
	}
	for seg := range strings.SplitSeq(body, "/") {
		switch {
		case seg == "*":
			g.segs = append(g.segs, segment{kind: segStar})
		case seg == "**":
			// "**/**" is the same as "**".
			if n := len(g.segs); n > 0 && g.segs[n-1].kind == segDoubleStar {
				continue
			}
			g.segs = append(g.segs, segment{kind: segDoubleStar})
		case strings.Contains(seg, "**"):
			return Glob{}, fmt.Sprintf("\"**\" must be a whole segment (got %q)", seg)
		case strings.Contains(seg, "*"):
			g.segs = append(g.segs, segment{kind: segWild, text: seg})
		default:
			g.segs = append(g.segs, segment{kind: segLiteral, text: seg})
		}
	}
	return g, ""
}

// MustCompileGlob is like [CompileGlob] but panics on an error. It is meant
// for patterns written in Go source.
func MustCompileGlob(pattern string) Glob {
	g, err := CompileGlob(pattern)
	if err != nil {
		panic(err)
	}
	return g
}

// String returns the pattern as written.
func (g Glob) String() string { return g.pattern }

// Absolute reports whether g is a full-path pattern (it starts with "/").
func (g Glob) Absolute() bool { return g.abs }

// Match reports whether the cleaned path p matches g. An absolute glob
// matches only paths that start with "/", a relative one only paths that do
// not.
func (g Glob) Match(p string) bool {
	if !g.valid {
		return false
	}
	if g.abs {
		if len(p) == 0 || p[0] != '/' {
			return false
		}
		p = p[1:]
	} else if len(p) > 0 && p[0] == '/' {
		return false
	}
	p = trimSlash(p)

	// Wildcard matching over segments, "**" playing the role of "*" in the
	// classic linear backtracking algorithm: on a mismatch, let the last
	// "**" swallow one more segment and retry from there. Positions are
	// byte offsets into p, so nothing is allocated.
	pi, pos := 0, 0
	starPi, starPos := -1, 0
	for pos < len(p) {
		seg, next := nextSegment(p, pos)
		if pi < len(g.segs) {
			switch s := g.segs[pi]; s.kind {
			case segDoubleStar:
				starPi, starPos = pi, pos
				pi++
				continue
			default:
				if s.match(seg, g.fold) {
					pi++
					pos = next
					continue
				}
			}
		}
		if starPi < 0 {
			return false
		}
		pi = starPi + 1
		_, starPos = nextSegment(p, starPos)
		pos = starPos
	}
	for pi < len(g.segs) && g.segs[pi].kind == segDoubleStar {
		pi++
	}
	return pi == len(g.segs)
}

// nextSegment returns the segment of p that starts at pos and the position
// after it and its separator (len(p) at the end).
func nextSegment(p string, pos int) (seg string, next int) {
	i := strings.IndexByte(p[pos:], '/')
	if i < 0 {
		return p[pos:], len(p)
	}
	return p[pos : pos+i], pos + i + 1
}

func (s segment) match(seg string, fold bool) bool {
	switch s.kind {
	case segLiteral:
		if fold {
			return equalFold(s.text, seg)
		}
		return s.text == seg
	case segStar:
		return seg != ""
	case segWild:
		return wildMatch(s.text, seg, fold)
	}
	return false
}

// wildMatch matches s against pattern, where each '*' in pattern stands for
// any run of bytes (s holds no '/'). With fold, ASCII letters match in
// either case.
func wildMatch(pattern, s string, fold bool) bool {
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pattern) && pattern[pi] == '*':
			starPi, starSi = pi, si
			pi++
		case pi < len(pattern) && (pattern[pi] == s[si] || fold && lower(pattern[pi]) == lower(s[si])):
			pi++
			si++
		case starPi >= 0:
			starSi++
			pi, si = starPi+1, starSi
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

// Globs is a compiled list of globs; it matches a path when any of them
// does. Its zero value matches nothing.
type Globs []Glob

// CompileGlobs compiles every pattern. The error lists every invalid one
// with its index.
func CompileGlobs(patterns []string) (Globs, error) {
	return Options{}.CompileGlobs(patterns)
}

// CompileGlobs is [CompileGlobs] under o.
func (o Options) CompileGlobs(patterns []string) (Globs, error) {
	gs := make(Globs, 0, len(patterns))
	var errs []error
	for i, p := range patterns {
		g, reason := compileGlob(p, o.CaseInsensitive)
		if reason != "" {
			errs = append(errs, fmt.Errorf("route: glob %d (%q): %s", i, p, reason))
			continue
		}
		gs = append(gs, g)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return gs, nil
}

// Match reports whether p matches any glob of gs.
func (gs Globs) Match(p string) bool {
	for _, g := range gs {
		if g.Match(p) {
			return true
		}
	}
	return false
}
