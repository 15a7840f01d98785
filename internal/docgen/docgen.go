package docgen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/apilayer/apilayer/config"
)

// Key is one configuration key of the reference.
type Key struct {
	Path        string // YAML path: backend.mapping.user, access.rules[].path
	Type        string // as the reference shows it: string, duration, list of strings...
	Default     string // YAML flow form; "" when there is none to show
	Description string
	Section     bool // a mapping whose keys follow
	Doc         string
}

// Keys reads the keys of config.Config from the config package's source in
// dir (config.go), in the order of the structs.
func Keys(dir string) ([]Key, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(dir, "config.go"), nil, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("docgen: %w", err)
	}
	types := map[string]*ast.TypeSpec{}
	docs := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		for _, s := range g.Specs {
			ts := s.(*ast.TypeSpec)
			types[ts.Name.Name] = ts
			doc := ts.Doc
			if doc == nil && len(g.Specs) == 1 {
				doc = g.Doc
			}
			docs[ts.Name.Name] = doc.Text()
		}
	}
	var def config.Config
	def.Defaults()
	out, err := def.YAML()
	if err != nil {
		return nil, fmt.Errorf("docgen: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(out, &root); err != nil {
		return nil, fmt.Errorf("docgen: %w", err)
	}
	w := &walker{types: types, docs: docs, defaults: root.Content[0]}
	if err := w.structure("Config", ""); err != nil {
		return nil, err
	}
	return w.keys, nil
}

type walker struct {
	types    map[string]*ast.TypeSpec
	docs     map[string]string
	defaults *yaml.Node
	keys     []Key
}

func (w *walker) structure(typeName, prefix string) error {
	ts, ok := w.types[typeName]
	if !ok {
		return fmt.Errorf("docgen: no struct %s in config.go", typeName)
	}
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return fmt.Errorf("docgen: %s is not a struct", typeName)
	}
	for _, fld := range st.Fields.List {
		if fld.Tag == nil || len(fld.Names) == 0 || !fld.Names[0].IsExported() {
			continue
		}
		name, _, _ := strings.Cut(reflect.StructTag(strings.Trim(fld.Tag.Value, "`")).Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		comment := strings.TrimSpace(fld.Comment.Text())
		if comment == "" {
			comment = strings.TrimSpace(fld.Doc.Text())
		}
		k := Key{Path: path, Description: comment}
		switch t := fld.Type.(type) {
		case *ast.Ident:
			if _, isStruct := w.structType(t.Name); isStruct {
				k.Section, k.Type = true, "mapping"
				k.Doc = w.typeDoc(t.Name, path)
				if typeName == "Config" {
					k.Description = "" // a Go note on the field, not user documentation
				}
				w.keys = append(w.keys, k)
				if err := w.structure(t.Name, path); err != nil {
					return err
				}
				continue
			}
		case *ast.ArrayType:
			if id, ok := t.Elt.(*ast.Ident); ok {
				if _, isStruct := w.structType(id.Name); isStruct {
					k.Section, k.Type = true, "list of mappings"
					k.Doc = w.typeDoc(id.Name, path+"[]")
					k.Default = w.defaultOf(path)
					w.keys = append(w.keys, k)
					if err := w.structure(id.Name, path+"[]"); err != nil {
						return err
					}
					continue
				}
			}
		}
		k.Type = typeString(fld.Type)
		k.Default = w.defaultOf(path)
		w.keys = append(w.keys, k)
	}
	return nil
}

func (w *walker) structType(name string) (*ast.StructType, bool) {
	ts, ok := w.types[name]
	if !ok {
		return nil, false
	}
	st, ok := ts.Type.(*ast.StructType)
	return st, ok
}

// typeDoc is the doc comment of a type with its name replaced by the key.
func (w *walker) typeDoc(typeName, path string) string {
	d := strings.Join(strings.Fields(w.docs[typeName]), " ")
	if rest, ok := strings.CutPrefix(d, typeName+" "); ok {
		return "`" + path + "` " + rest
	}
	return d
}

// defaultOf is the default at path as YAML flow text; "" for list items.
func (w *walker) defaultOf(path string) string {
	if strings.Contains(path, "[]") {
		return ""
	}
	n := w.defaults
	for name := range strings.SplitSeq(path, ".") {
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return ""
		}
		n = next
	}
	c := *n
	c.Style = yaml.FlowStyle
	b, err := yaml.Marshal(&c)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// typeString names a field's Go type in the reference's terms.
func typeString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return typeString(t.X)
	case *ast.SelectorExpr:
		if t.Sel.Name == "Duration" {
			return "duration"
		}
	case *ast.Ident:
		switch t.Name {
		case "string", "Secure":
			return "string"
		case "bool":
			return "bool"
		case "int":
			return "integer"
		case "float64":
			return "number"
		case "Size":
			return "size"
		}
	case *ast.ArrayType:
		switch elem := typeString(t.Elt); elem {
		case "integer":
			return "list of integers"
		default:
			return "list of " + elem + "s"
		}
	case *ast.MapType:
		return "mapping"
	}
	return "value"
}

// ConfigReference returns the Markdown of docs/configuration.md.
func ConfigReference(dir string) ([]byte, error) {
	keys, err := Keys(dir)
	if err != nil {
		return nil, err
	}
	var def config.Config
	def.Defaults()
	all, err := def.YAML()
	if err != nil {
		return nil, fmt.Errorf("docgen: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(header)
	inTable := false
	table := func() {
		if !inTable {
			b.WriteString("| key | type | default | description |\n| --- | --- | --- | --- |\n")
			inTable = true
		}
	}
	top := true
	for _, k := range keys {
		if k.Section {
			depth := strings.Count(k.Path, ".") + 2
			if depth > 4 {
				depth = 4
			}
			fmt.Fprintf(&b, "\n%s `%s`\n\n", strings.Repeat("#", depth), k.Path)
			inTable = false
			top = false
			if k.Doc != "" {
				fmt.Fprintf(&b, "%s\n\n", k.Doc)
			}
			if d := description(k); d != "" && d != k.Doc {
				fmt.Fprintf(&b, "%s\n\n", d)
			}
			if k.Type == "list of mappings" {
				fmt.Fprintf(&b, "A list; default `%s`. Each item has these keys:\n\n", k.Default)
			}
			continue
		}
		if top && !inTable {
			b.WriteString("\n## Top level\n\n")
		}
		table()
		d := "`" + k.Default + "`"
		if k.Default == "" {
			d = ""
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Path, k.Type, cell(d), cell(description(k)))
	}
	b.WriteString("\n## Every default\n\nThe whole configuration with every default, as `apilayer check` prints it for a file that sets only `backend.url`:\n\n```yaml\n")
	b.Write(all)
	b.WriteString("```\n")
	return b.Bytes(), nil
}

// description is a key's comment, else its note.
func description(k Key) string {
	d := sentence(stripDefault(k.Description))
	if n := notes[k.Path]; n != "" {
		d = strings.TrimSpace(n + " " + sentence(d))
	}
	return d
}

// stripDefault removes a leading "default X" clause from a field comment:
// the default column shows the real default.
func stripDefault(s string) string {
	rest, ok := strings.CutPrefix(s, "default ")
	if !ok {
		return s
	}
	if _, after, ok := strings.Cut(rest, ";"); ok {
		return sentence(strings.TrimSpace(after))
	}
	// The default itself: a word, or a [list] or {map} with spaces in it.
	var after string
	if end := map[byte]byte{'[': ']', '{': '}'}[rest[0]]; end != 0 && strings.IndexByte(rest, end) > 0 {
		after = rest[strings.IndexByte(rest, end)+1:]
	} else {
		_, after, _ = strings.Cut(rest, " ")
	}
	after = strings.TrimSpace(after)
	if strings.HasPrefix(after, "(") && strings.HasSuffix(after, ")") {
		after = after[1 : len(after)-1]
	}
	return sentence(after)
}

// sentence capitalizes s.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

const header = `<!-- Code generated by "go generate ./internal/docgen" from config/config.go; DO NOT EDIT. -->

# Configuration reference

apilayer reads one YAML file: ` + "`apilayer serve --config FILE`" + ` (default ` + "`$APILAYER_CONFIG`" + `, then
` + "`./apilayer.yaml`" + `). ` + "`apilayer init`" + ` writes a commented starting point, and ` + "`apilayer check --config FILE`" + `
prints the resolved configuration (defaults filled in, secrets ` + "`<redacted>`" + `) or every
problem at once, one per line as ` + "`FILE:LINE: path.to.key: message`" + `.

- **Strict**: an unknown key is an error that names its line and the nearest valid key.
- **Environment**: ` + "`${VAR}`" + ` and ` + "`${VAR:-default}`" + ` in string values are read from the environment
  when the file is loaded; ` + "`$$`" + ` is a literal ` + "`$`" + `. Keep secrets there
  (` + "`password: \"${APILAYER_GUEST_PASSWORD}\"`" + `). A ` + "`${VAR}`" + ` whose variable is not set is an error that names it;
  write ` + "`${VAR:-}`" + ` where an empty value is meant.
- **Durations** are Go duration strings: ` + "`100ms`, `2s`, `1m`, `168h`" + `.
- **Sizes** are bytes or a number with a unit: ` + "`512KiB`, `10MiB`" + ` (powers of 1024), ` + "`1MB`" + ` (powers of 1000).
- **Unset means default**: a key left out (or ` + "`key: ~`" + `) takes the default below; an explicit
  empty list (` + "`[]`" + `) stays empty.
- **Globs** (` + "`publicEndpoints`, `skipEndpoints`, `skipRoutes`, `rules[].path`" + `): ` + "`*`" + ` matches one path
  segment, ` + "`**`" + ` zero or more whole segments (` + "`/admin/**`" + ` covers ` + "`/admin`" + `).
  ` + "`publicEndpoints`" + ` and ` + "`skipEndpoints`" + ` are relative to ` + "`api.prefix`" + ` (` + "`news/*`" + `); the others are full paths.
- **Route lists** (` + "`protectedRoutes`, `authRoutes`, `publicRoutes`, `excludedPaths`, `bypassPaths`" + `) match a
  path and every path below it (` + "`/account`" + ` covers ` + "`/account/settings`" + ` but not ` + "`/accounts`" + `), on the
  cleaned path, ignoring a trailing slash.

This page is generated from the configuration structs (` + "`config/config.go`" + `) and their defaults, so
it cannot drift from the code. For next-api-layer's option names, see
[Migrating from next-api-layer](migrating-from-next-api-layer.md).
`
