package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the work of decoding one document, aliases included, so
// that a small file cannot expand into a huge one ("billion laughs").
const maxNodes = 100_000

// source remembers where a parsed Config came from, so that Validate can
// point at the line of a key.
type source struct {
	name  string
	lines map[string]int // YAML path (access.rules[0].path) -> line
}

// line returns the line of path or, when the file does not have that key,
// of its nearest ancestor that it has; 0 when none.
func (s *source) line(path string) int {
	if s == nil {
		return 0
	}
	for path != "" {
		if l, ok := s.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// Load reads the YAML file at path and decodes it as Parse does, with
// ${VAR} expanded from the process environment. It does not apply defaults
// nor validate: call Defaults and Validate.
func Load(path string) (*Config, error) {
	c, err := load(path)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return parse(path, data, os.LookupEnv)
}

// Parse decodes YAML data into a Config. name is the file name used in
// error messages. env looks up the variables of ${VAR} and ${VAR:-default};
// nil means the process environment (os.LookupEnv).
//
// Decoding is strict, and every problem is reported at once as *Errors:
// unknown keys (with the nearest valid key), values of the wrong kind, bad
// durations, sizes and bools. A null value (key:, key: ~) leaves the field
// unset. Parse neither applies defaults nor validates.
func Parse(name string, data []byte, env func(string) (string, bool)) (*Config, error) {
	c, err := parse(name, data, env)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parse is Parse, but it also returns what it could decode along with
// decoding errors (not with syntax errors), so that Check can validate the
// rest.
func parse(name string, data []byte, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	d := &decoder{
		file:   name,
		env:    env,
		errs:   &Errors{},
		lines:  map[string]int{},
		budget: maxNodes,
		active: map[*yaml.Node]bool{},
	}
	c := &Config{src: &source{name: name, lines: d.lines}}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return c, nil // an empty file: every field unset
		}
		d.syntaxError(err)
		return nil, d.errs
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errs.add(name, extra.Line, "", "more than one YAML document (the config is one document)")
		return nil, d.errs
	} else if !errors.Is(err, io.EOF) {
		d.syntaxError(err)
		return nil, d.errs
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		d.value(doc.Content[0], reflect.ValueOf(c).Elem(), "")
	}
	return c, d.errs.err()
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError records an error of the YAML parser, at its line when the
// parser gives one.
func (d *decoder) syntaxError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.errs.add(d.file, line, "", "invalid YAML: "+m[2])
		return
	}
	d.errs.add(d.file, 0, "", "invalid YAML: "+strings.TrimPrefix(msg, "yaml: "))
}

// decoder walks a yaml.Node tree against the Config types by reflection.
type decoder struct {
	file   string
	env    func(string) (string, bool)
	errs   *Errors
	lines  map[string]int
	budget int
	over   bool
	active map[*yaml.Node]bool // containers being decoded: an alias back to one is a cycle
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	sizeType     = reflect.TypeFor[Size]()
	secureType   = reflect.TypeFor[Secure]()
	anyMapType   = reflect.TypeFor[map[string]any]()
)

func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.errs.add(d.file, line, path, fmt.Sprintf(format, args...))
}

// deref follows aliases and charges the node to the budget. It returns nil
// when the budget is spent.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	d.budget--
	if d.budget < 0 {
		if !d.over {
			d.over = true
			d.errorf(n.Line, "", "document too large (too many nodes or aliases)")
		}
		return nil
	}
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// enter marks a container as being decoded; it reports false (and an
// error) when an alias leads back into it.
func (d *decoder) enter(n *yaml.Node, line int, path string) bool {
	if d.active[n] {
		d.errorf(line, path, "alias refers to a node that contains it")
		return false
	}
	d.active[n] = true
	return true
}

func (d *decoder) leave(n *yaml.Node) { delete(d.active, n) }

// expandScalar returns a copy of the scalar n with ${VAR} expanded. A plain
// (unquoted, untagged) scalar is resolved again after expansion, so that
// "maxRequests: ${MAX:-100}" is an integer and "cacheTTL: ${TTL:-}" with TTL
// unset is null (unset). A ${VAR} with VAR unset and no default is an error
// naming VAR at the line of the value.
func (d *decoder) expandScalar(n *yaml.Node, path string) (*yaml.Node, bool) {
	if !strings.Contains(n.Value, "$") {
		return n, true
	}
	v, err := expand(n.Value, d.env)
	if err != nil {
		d.errorf(n.Line, path, "%v", err)
		return nil, false
	}
	c := *n
	c.Value = v
	if n.Style == 0 && (n.Tag == "" || n.ShortTag() == "!!str") {
		c.Tag = ""
	}
	return &c, true
}

// value decodes n into v, recording errors at path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	line := n.Line
	n = d.deref(n)
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode {
		var ok bool
		if n, ok = d.expandScalar(n, path); !ok {
			return
		}
		if n.ShortTag() == "!!null" {
			return // unset: the default applies
		}
	}
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		if !d.enter(n, line, path) {
			return
		}
		defer d.leave(n)
	}
	d.decodeInto(n, v, path)
}

// decodeInto decodes n (no alias, expanded, not null) into v.
func (d *decoder) decodeInto(n *yaml.Node, v reflect.Value, path string) {
	switch v.Type() {
	case durationType:
		d.duration(n, v, path)
		return
	case sizeType:
		s, err := sizeFromNode(n)
		if err != nil {
			d.errorf(n.Line, path, "%v", err)
			return
		}
		v.SetInt(int64(s))
		return
	case secureType:
		s, err := secureFromNode(n)
		if err != nil {
			d.errorf(n.Line, path, "%v", err)
			return
		}
		v.SetString(string(s))
		return
	case anyMapType:
		if n.Kind != yaml.MappingNode {
			d.errorf(n.Line, path, "expected a mapping, got %s", describe(n))
			return
		}
		v.Set(reflect.ValueOf(d.anyMap(n, path)))
		return
	}

	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decodeInto(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n.Line, path, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			d.lines[p] = item.Line
			d.value(item, s.Index(i), p)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n.Line, path, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.errorf(n.Line, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.errorf(n.Line, path, "expected an integer, got %s", describe(n))
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.errorf(n.Line, path, "integer out of range: %s", n.Value)
		}
	case reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!float" && n.ShortTag() != "!!int") || n.Decode(&f) != nil {
			d.errorf(n.Line, path, "expected a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	default:
		// Only reached if config.go gains a field of a new type.
		d.errorf(n.Line, path, "cannot decode into %s", v.Type())
	}
}

// duration decodes a Go duration string. A bare 0 is accepted.
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, path, "expected a duration such as 2s, got %s", describe(n))
		return
	}
	if n.ShortTag() == "!!int" && n.Value == "0" {
		v.SetInt(0)
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil || n.ShortTag() != "!!str" {
		hint := "want a Go duration such as 2s, 1m, 168h"
		if n.ShortTag() == "!!int" {
			hint = "missing unit: " + hint
		}
		d.errorf(n.Line, path, "bad duration %q (%s)", n.Value, hint)
		return
	}
	v.SetInt(int64(dur))
}

type pair struct{ key, val *yaml.Node }

// pairs returns the entries of the mapping n, with YAML merge keys (<<)
// applied: explicit keys win over merged ones, and earlier merges over
// later ones. A key given twice is an error.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	index := map[string]int{}    // key -> position in out
	explicit := map[string]int{} // key -> line, for explicit keys
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k = d.deref(k); k == nil {
			return out
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "a key must be a string, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			for _, p := range d.merged(val, path) {
				if _, seen := index[p.key.Value]; !seen {
					index[p.key.Value] = len(out)
					out = append(out, p)
				}
			}
			continue
		}
		if first, dup := explicit[k.Value]; dup {
			d.errorf(k.Line, join(path, k.Value), "duplicate key (first at line %d)", first)
			continue
		}
		explicit[k.Value] = k.Line
		if at, seen := index[k.Value]; seen {
			out[at] = pair{k, val}
		} else {
			index[k.Value] = len(out)
			out = append(out, pair{k, val})
		}
	}
	return out
}

// merged returns the entries a merge key brings: a mapping or a list of
// mappings.
func (d *decoder) merged(val *yaml.Node, path string) []pair {
	if val = d.deref(val); val == nil {
		return nil
	}
	mapping := func(m *yaml.Node) []pair {
		if m.Kind != yaml.MappingNode {
			d.errorf(m.Line, path, "a merge (<<) takes a mapping or a list of mappings, got %s", describe(m))
			return nil
		}
		if !d.enter(m, m.Line, path) {
			return nil
		}
		defer d.leave(m)
		return d.pairs(m, path)
	}
	if val.Kind != yaml.SequenceNode {
		return mapping(val)
	}
	var out []pair
	for _, item := range val.Content {
		if item = d.deref(item); item == nil {
			return out
		}
		out = append(out, mapping(item)...)
	}
	return out
}

// structure decodes a mapping into a struct, field by field (yaml tags).
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "expected a mapping, got %s", describe(n))
		return
	}
	fields := yamlFields(v.Type())
	for _, p := range d.pairs(n, path) {
		key := p.key.Value
		kp := join(path, key)
		i, ok := fields.index[key]
		if !ok {
			msg := "unknown key"
			if h := nextAPILayerHints[kp]; h != "" {
				msg += " (" + h + ")"
			} else if s := suggest(key, fields.names); s != "" {
				msg += " (did you mean " + s + "?)"
			}
			d.errorf(p.key.Line, kp, "%s", msg)
			continue
		}
		if _, seen := d.lines[kp]; !seen {
			d.lines[kp] = p.key.Line
		}
		d.value(p.val, v.Field(i), kp)
	}
}

// anyValue decodes any YAML value into map[string]any, []any, string,
// int, float64, bool or nil (guest.credentials).
func (d *decoder) anyValue(n *yaml.Node, path string) any {
	line := n.Line
	n = d.deref(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		if !d.enter(n, line, path) {
			return nil
		}
		defer d.leave(n)
		return d.anyMap(n, path)
	case yaml.SequenceNode:
		if !d.enter(n, line, path) {
			return nil
		}
		defer d.leave(n)
		s := make([]any, len(n.Content))
		for i, item := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			d.lines[p] = item.Line
			s[i] = d.anyValue(item, p)
		}
		return s
	case yaml.ScalarNode:
		n, ok := d.expandScalar(n, path)
		if !ok {
			return nil
		}
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool", "!!int", "!!float":
			var x any
			if err := n.Decode(&x); err == nil {
				return x
			}
		}
		return n.Value
	}
	return nil
}

// anyMap decodes the entries of the mapping n (already entered).
func (d *decoder) anyMap(n *yaml.Node, path string) map[string]any {
	m := map[string]any{}
	for _, p := range d.pairs(n, path) {
		kp := join(path, p.key.Value)
		d.lines[kp] = p.key.Line
		m[p.key.Value] = d.anyValue(p.val, kp)
	}
	return m
}

// describe names what a node is, for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return strconv.Quote(v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

type fieldSet struct {
	index map[string]int // yaml name -> field index
	names []string       // yaml names in field order
}

// yamlFields lists the yaml names of t's exported fields.
func yamlFields(t reflect.Type) fieldSet {
	fs := fieldSet{index: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fs.index[name] = i
		fs.names = append(fs.names, name)
	}
	return fs
}

// suggest returns the valid key nearest to key: one that differs only in
// case, else the closest by edit distance (case-insensitive) when it is
// close enough to be a typo; "" when none is.
func suggest(key string, names []string) string {
	lk := strings.ToLower(key)
	limit := max(1, min(3, len(key)/3))
	best, bestD := "", limit+1
	for _, n := range names {
		dist := levenshtein(lk, strings.ToLower(n))
		if dist < bestD {
			best, bestD = n, dist
		}
	}
	return best
}

// levenshtein is the edit distance between a and b, in bytes.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
