// Package jsonpointer reads and removes values of decoded JSON documents by
// JSON Pointer (RFC 6901), as the backend mapping and the role rules use it.
package jsonpointer

import (
	"fmt"
	"net/url"
	"strings"
)

// Pointer is a parsed JSON Pointer (RFC 6901). The empty pointer designates
// the whole document.
type Pointer []string

// Parse parses s as a JSON Pointer, in its string form ("/data/user") or
// its URI fragment form (RFC 6901 section 6: "#/data/user", percent-encoded).
// The fragment form can name the whole document, "#", which the string form
// names with "" (used as "unset, take the default" in apilayer's config).
func Parse(s string) (Pointer, error) {
	if frag, ok := strings.CutPrefix(s, "#"); ok {
		u, err := url.PathUnescape(frag)
		if err != nil {
			return nil, fmt.Errorf("jsonpointer: %q: bad percent-encoding", s)
		}
		s = u
	}
	if s == "" {
		return Pointer{}, nil
	}
	if s[0] != '/' {
		return nil, fmt.Errorf("jsonpointer: %q must start with \"/\"", s)
	}
	parts := strings.Split(s[1:], "/")
	for i, p := range parts {
		if strings.Contains(p, "~") {
			if err := checkEscapes(p); err != nil {
				return nil, fmt.Errorf("jsonpointer: %q: %w", s, err)
			}
			p = strings.ReplaceAll(p, "~1", "/")
			p = strings.ReplaceAll(p, "~0", "~")
		}
		parts[i] = p
	}
	return Pointer(parts), nil
}

func checkEscapes(p string) error {
	for i := 0; i < len(p); i++ {
		if p[i] == '~' && (i+1 >= len(p) || (p[i+1] != '0' && p[i+1] != '1')) {
			return fmt.Errorf("invalid escape in %q", p)
		}
	}
	return nil
}

// Get returns the value p designates in doc (a decoded JSON value).
func (p Pointer) Get(doc any) (any, bool) {
	cur := doc
	for _, tok := range p {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, ok := arrayIndex(tok)
			if !ok || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// Remove deletes the object member p designates in doc. Array elements are
// left alone (removing one would shift the others).
func (p Pointer) Remove(doc any) {
	if len(p) == 0 {
		return
	}
	parent, ok := p[:len(p)-1].Get(doc)
	if !ok {
		return
	}
	if m, ok := parent.(map[string]any); ok {
		delete(m, p[len(p)-1])
	}
}

// Under reports whether p points strictly inside the value q designates and
// returns the part of p relative to q.
func (p Pointer) Under(q Pointer) (Pointer, bool) {
	if len(p) <= len(q) {
		return nil, false
	}
	for i := range q {
		if p[i] != q[i] {
			return nil, false
		}
	}
	return p[len(q):], true
}

// arrayIndex parses an RFC 6901 array index: "0" or digits without a
// leading zero.
func arrayIndex(tok string) (int, bool) {
	if tok == "" || len(tok) > 9 || (len(tok) > 1 && tok[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
