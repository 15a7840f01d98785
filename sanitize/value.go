package sanitize

// Value returns v with the mode applied to every string in it, for values
// built in Go rather than read as JSON: string, []string, []any,
// map[string]any and map[string]string, nested in any combination. It
// builds new maps and slices and never modifies v. Values of other types
// (numbers, booleans, nil, json.Number, structs, pointers) are returned as
// they are: marshal a struct to JSON and use Sanitize to have its strings
// sanitized. skip adds fields to Options.SkipFields for this call; a
// malformed one (empty segment, brackets) is ignored, which sanitizes more,
// never less.
func (s *Sanitizer) Value(v any, skip ...string) any {
	fields := s.skip
	if len(skip) > 0 {
		fields = append(fields[:len(fields):len(fields)], parseExtra(skip)...)
	}
	return s.value(v, nil, fields)
}

func parseExtra(skip []string) [][]string {
	var out [][]string
	for _, f := range skip {
		if segs, err := parseField(f); err == nil {
			out = append(out, segs)
		}
	}
	return out
}

func (s *Sanitizer) value(v any, path []string, fields [][]string) any {
	if len(path) > 0 && skipped(path, fields) {
		return v
	}
	switch t := v.(type) {
	case string:
		return s.String(t)
	case []string:
		if t == nil {
			return t
		}
		out := make([]string, len(t))
		for i, e := range t {
			out[i] = s.String(e)
		}
		return out
	case []any:
		if t == nil {
			return t
		}
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = s.value(e, path, fields)
		}
		return out
	case map[string]string:
		if t == nil {
			return t
		}
		out := make(map[string]string, len(t))
		for k, e := range t {
			if p := append(path[:len(path):len(path)], k); skipped(p, fields) {
				out[k] = e
			} else {
				out[k] = s.String(e)
			}
		}
		return out
	case map[string]any:
		if t == nil {
			return t
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = s.value(e, append(path[:len(path):len(path)], k), fields)
		}
		return out
	default:
		return v
	}
}
