package sanitize

import (
	"errors"
	"fmt"
	"strings"
)

// parseField splits a dotted skip field into its segments.
func parseField(f string) ([]string, error) {
	if strings.ContainsAny(f, "[]") {
		return nil, fmt.Errorf("array indices are not segments, write %q (got %q)", stripIndices(f), f)
	}
	segs := strings.Split(f, ".")
	for _, seg := range segs {
		if seg == "" {
			return nil, fmt.Errorf("empty path segment (got %q)", f)
		}
	}
	return segs, nil
}

// stripIndices turns items[0].html into items.html, for the error message.
func stripIndices(f string) string {
	var b strings.Builder
	depth := 0
	for _, r := range f {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// skipped reports whether path (object keys from the root, array indices
// left out) ends with one of fields, segment by segment.
func skipped(path []string, fields [][]string) bool {
	for _, f := range fields {
		if len(f) > len(path) {
			continue
		}
		tail := path[len(path)-len(f):]
		match := true
		for i := range f {
			if f[i] != tail[i] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// parseGlob splits an endpoint glob into segments. "*" and "**" must be
// whole segments; every other segment is literal.
func parseGlob(g string) ([]string, error) {
	trimmed := strings.Trim(g, "/")
	if trimmed == "" {
		if g == "" {
			return nil, errors.New("empty glob")
		}
		return []string{}, nil // "/" is the prefix itself
	}
	segs := strings.Split(trimmed, "/")
	for _, seg := range segs {
		switch {
		case seg == "":
			return nil, fmt.Errorf("empty path segment in glob %q", g)
		case seg != "*" && seg != "**" && strings.Contains(seg, "*"):
			return nil, fmt.Errorf("%q: \"*\" and \"**\" must be whole segments in glob %q", seg, g)
		}
	}
	return segs, nil
}

// endpointSegments splits an endpoint relative to the API prefix, dropping a
// query or fragment and leading and trailing slashes.
func endpointSegments(endpoint string) []string {
	if i := strings.IndexAny(endpoint, "?#"); i >= 0 {
		endpoint = endpoint[:i]
	}
	endpoint = strings.Trim(endpoint, "/")
	if endpoint == "" {
		return nil
	}
	return strings.Split(endpoint, "/")
}

// matchGlob reports whether segs matches the glob pattern p. It is the usual
// wildcard match with backtracking to the last "**", in O(len(p)*len(segs)).
func matchGlob(p, segs []string) bool {
	pi, si := 0, 0
	star, starSi := -1, 0
	for si < len(segs) {
		switch {
		case pi < len(p) && p[pi] == "**":
			star, starSi = pi, si
			pi++
		case pi < len(p) && (p[pi] == "*" || p[pi] == segs[si]):
			pi++
			si++
		case star >= 0:
			starSi++
			pi, si = star+1, starSi
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == "**" {
		pi++
	}
	return pi == len(p)
}

// SkipsEndpoint reports whether endpoint (relative to the API prefix, a
// query string ignored) matches one of Options.SkipEndpoints.
func (s *Sanitizer) SkipsEndpoint(endpoint string) bool {
	if len(s.endpoints) == 0 {
		return false
	}
	segs := endpointSegments(endpoint)
	for _, p := range s.endpoints {
		if matchGlob(p, segs) {
			return true
		}
	}
	return false
}
