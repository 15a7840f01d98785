package route

// Options says how the matchers it compiles compare paths. The zero Options
// is the default: case-sensitive matching, as the package-level functions
// do.
type Options struct {
	// CaseInsensitive makes literal path text match in any letter case
	// (access.caseInsensitive), for web apps that route that way (Express by
	// default, IIS): /Dashboard is then the same route as /dashboard. Only
	// ASCII letters fold; a non-ASCII character is percent-escaped in a
	// cleaned path and compares exactly (/%C3%BC is not /%C3%9C), as
	// Express compares it.
	CaseInsensitive bool
}

// equalFold reports whether a and b are equal with ASCII letters folded.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// lower returns the lower case of an ASCII letter, and any other byte as it
// is.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
