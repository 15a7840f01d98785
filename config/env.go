package config

import (
	"fmt"
	"slices"
	"strings"
)

// unsetError is the error of a ${VAR} whose variable is not set and that
// has no default: a forgotten export would otherwise become an empty
// password or URL without a word.
type unsetError struct {
	Names []string // in order of appearance, each once
}

func (e *unsetError) Error() string {
	if len(e.Names) == 1 {
		n := e.Names[0]
		return fmt.Sprintf("environment variable %s is not set (set it, or write ${%s:-} for an empty value)", n, n)
	}
	return fmt.Sprintf("environment variables %s are not set (set them, or write ${NAME:-} for an empty value)",
		strings.Join(e.Names, ", "))
}

// expand replaces ${VAR} and ${VAR:-default} in s with values from env.
// ${VAR:-default} gives default when VAR is unset or empty (so ${VAR:-} is
// an explicit empty default), ${VAR} with VAR set gives its value, even
// empty, and $$ is a literal $. A $ followed by anything else is kept as
// is. The result is not expanded again, so a variable's value may hold a $.
// A ${VAR} whose VAR is unset is an *unsetError naming every such variable
// of s.
func expand(s string, env func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var unset []string
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
			continue
		case '{':
		default:
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ (write $$ for a literal $)")
		}
		expr := s[i+2 : i+2+end]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validVarName(name) {
			return "", fmt.Errorf("bad variable reference ${%s} (want ${NAME} or ${NAME:-default}; write $$ for a literal $)", expr)
		}
		v, ok := env(name)
		if hasDef && (!ok || v == "") {
			v = def
		}
		if !hasDef && !ok && !slices.Contains(unset, name) {
			unset = append(unset, name)
		}
		b.WriteString(v)
		i += 2 + end + 1
	}
	if len(unset) > 0 {
		return "", &unsetError{Names: unset}
	}
	return b.String(), nil
}

// validVarName reports whether name is [A-Za-z_][A-Za-z0-9_]*.
func validVarName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// escapeDollars is the inverse of expand for a literal string: every $
// becomes $$.
func escapeDollars(s string) string {
	return strings.ReplaceAll(s, "$", "$$")
}
