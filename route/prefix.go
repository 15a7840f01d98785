package route

// trimSlash removes one trailing slash; "/" becomes "".
func trimSlash(s string) string {
	if len(s) > 0 && s[len(s)-1] == '/' {
		return s[:len(s)-1]
	}
	return s
}

// Under reports whether the cleaned path p is prefix or lies below it:
// p == prefix or p starts with prefix + "/". A trailing slash on either is
// ignored, so /api/ is under /api and /api is under /api/. The prefix "/"
// (or "") covers every path. Matching is case-sensitive and segment-aware:
// /apiary is not under /api.
func Under(p, prefix string) bool { return under(p, prefix, false) }

// Under is [Under] under o: with CaseInsensitive, /Dashboard/x is under
// /dashboard.
func (o Options) Under(p, prefix string) bool { return under(p, prefix, o.CaseInsensitive) }

func under(p, prefix string, fold bool) bool {
	prefix = trimSlash(prefix)
	if prefix == "" {
		return true
	}
	p = trimSlash(p)
	if len(p) < len(prefix) {
		return false
	}
	if head := p[:len(prefix)]; head != prefix && (!fold || !equalFold(head, prefix)) {
		return false
	}
	return len(p) == len(prefix) || p[len(prefix)] == '/'
}

// Trim returns the part of the cleaned path p below prefix, without a leading
// slash, and whether p is [Under] prefix: Trim("/api/news/1", "/api") is
// "news/1". The prefix itself gives "". A trailing slash of p is kept
// ("/api/news/" gives "news/"); globs ignore it.
func Trim(p, prefix string) (rest string, ok bool) {
	if !Under(p, prefix) {
		return "", false
	}
	prefix = trimSlash(prefix)
	rest = p[len(prefix):]
	if len(rest) > 0 && rest[0] == '/' {
		rest = rest[1:]
	}
	return rest, true
}

// List is a compiled list of route prefixes (protectedRoutes, authRoutes,
// excludedPaths...). Its zero value is an empty list that matches nothing.
type List struct {
	prefixes []string
	fold     bool // ASCII letters compare case-insensitively
}

// NewList compiles prefixes. Each entry is put in the form [Clean] gives to
// request paths (so "/über/" and "/%C3%BC/" are the same entry, and a
// trailing slash does not matter); an entry that Clean refuses is kept as
// written, without its trailing slash. Empty entries are dropped: they would
// otherwise cover every path. Matching is case-sensitive; see
// [Options.NewList].
func NewList(prefixes []string) List { return Options{}.NewList(prefixes) }

// NewList is [NewList] under o: with CaseInsensitive, the list matches paths
// in any letter case.
func (o Options) NewList(prefixes []string) List {
	l := List{prefixes: make([]string, 0, len(prefixes)), fold: o.CaseInsensitive}
	for _, p := range prefixes {
		if p == "" {
			continue
		}
		if c, ok := Clean(p); ok {
			p = c
		}
		if p = trimSlash(p); p == "" {
			p = "/"
		}
		l.prefixes = append(l.prefixes, p)
	}
	return l
}

// Match reports whether the cleaned path p is [Under] any prefix of l.
func (l List) Match(p string) bool {
	for _, prefix := range l.prefixes {
		if under(p, prefix, l.fold) {
			return true
		}
	}
	return false
}

// Len returns the number of prefixes in l.
func (l List) Len() int { return len(l.prefixes) }

// Prefixes returns a copy of the normalised prefixes of l.
func (l List) Prefixes() []string {
	return append([]string(nil), l.prefixes...)
}
