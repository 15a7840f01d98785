package i18n

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// maxAcceptLanguage bounds the Accept-Language header that is parsed; a
// longer one is ignored. Browsers send a few dozen bytes.
const maxAcceptLanguage = 1024

// detect returns the locale of a request without a locale prefix: the
// cookie, then Accept-Language, then the default locale.
func (r *Router) detect(req *http.Request) string {
	if req == nil {
		return r.def
	}
	if l := r.fromCookie(req); l != "" {
		return l
	}
	if l := r.fromAcceptLanguage(req.Header.Values("Accept-Language")); l != "" {
		return l
	}
	return r.def
}

// fromCookie returns the first locale cookie naming a configured locale.
func (r *Router) fromCookie(req *http.Request) string {
	if r.cookie == "" {
		return ""
	}
	for _, c := range req.CookiesNamed(r.cookie) {
		if r.set[c.Value] {
			return c.Value
		}
	}
	return ""
}

// hasCookie reports whether req carries the locale cookie set to locale.
func (r *Router) hasCookie(req *http.Request, locale string) bool {
	if req == nil {
		return false
	}
	for _, c := range req.CookiesNamed(r.cookie) {
		if c.Value == locale {
			return true
		}
	}
	return false
}

// fromAcceptLanguage returns the configured locale that best matches the
// Accept-Language header lines, or "" when none matches well.
//
// Entries are ordered by q-value (q=0 means "not acceptable" and is dropped);
// a region or script still selects the language (tr-TR selects tr, en-GB
// selects en, pt selects pt-BR). Only matches of High or Exact confidence
// count: a Low match (zh-TW for zh-Hans) is a guess the user may not read,
// and the default locale is the better guess. "*" matches no locale in
// particular, which leaves the default.
func (r *Router) fromAcceptLanguage(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	h := lines[0]
	if len(lines) > 1 {
		h = strings.Join(lines, ",")
	}
	if h == "" || len(h) > maxAcceptLanguage {
		return ""
	}
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil {
		// One bad entry (a typo, a tag unknown to x/text) makes the whole
		// header fail to parse; keep the entries that do parse.
		tags = parseEntries(h)
	}
	if len(tags) == 0 {
		return ""
	}
	_, i, conf := r.matcher.Match(tags...)
	if conf < language.High || i < 0 || i >= len(r.matchIdx) {
		return ""
	}
	return r.matchIdx[i]
}

// parseEntries parses the entries of an Accept-Language header one by one,
// skipping those that do not parse, and returns the tags by decreasing
// q-value (stable, so equal q-values keep the header's order).
func parseEntries(h string) []language.Tag {
	type entry struct {
		tag language.Tag
		q   float32
	}
	var es []entry
	for part := range strings.SplitSeq(h, ",") {
		tags, qs, err := language.ParseAcceptLanguage(part)
		if err != nil || len(tags) != 1 {
			continue
		}
		es = append(es, entry{tags[0], qs[0]})
	}
	slices.SortStableFunc(es, func(a, b entry) int { return cmp.Compare(b.q, a.q) })
	tags := make([]language.Tag, len(es))
	for i, e := range es {
		tags[i] = e.tag
	}
	return tags
}
