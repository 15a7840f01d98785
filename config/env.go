package config

import (
	"fmt"
	"strings"
)

// expand replaces ${VAR} and ${VAR:-default} in s with values from env. An
// unset ${VAR} becomes "", ${VAR:-default} gives default when VAR is unset
// or empty, and $$ is a literal $. A $ followed by anything else is kept as
// is. The result is not expanded again, so a variable's value may hold a $.
func expand(s string, env func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
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
		b.WriteString(v)
		i += 2 + end + 1
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
