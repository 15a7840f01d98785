package sanitize

import (
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

// Mode names accepted in Options.Mode.
const (
	ModeStrip     = "strip"
	ModeEscape    = "escape"
	ModeAllowList = "allowList"
)

// Options configures a Sanitizer. The zero value strips all HTML from every
// string value of every endpoint.
type Options struct {
	// Mode is ModeStrip, ModeEscape or ModeAllowList. Empty means ModeStrip.
	Mode string

	// AllowedTags lists the elements kept in ModeAllowList (case-insensitive).
	// Elements that cannot be made safe without their attributes or that
	// change how the rest of the document is parsed (script, style, iframe,
	// object, svg, ...) are refused by New. Empty means ModeAllowList behaves
	// as ModeEscape. Ignored in the other modes.
	AllowedTags []string

	// SkipFields lists dotted paths of values left untouched. A field
	// matches a value when its segments equal the last segments of the
	// value's path: "content" skips content and post.content but never
	// maincontent; "post.body" skips post.body and thread.post.body but not
	// body. Array indices are not segments: items[3].html matches
	// "items.html", so fields must not contain brackets. Skipping an object
	// or an array skips everything inside it.
	SkipFields []string

	// SkipEndpoints lists globs, relative to the API prefix, of endpoints
	// whose bodies are returned unchanged: "*" matches one path segment,
	// "**" zero or more whole segments, anything else is literal ("." too).
	// A leading or trailing slash is ignored.
	SkipEndpoints []string
}

// ErrNotJSON is returned (wrapped) by Sanitizer.Sanitize for a body that is
// not a valid JSON document.
var ErrNotJSON = errors.New("sanitize: body is not valid JSON")

// Sanitizer applies one mode to strings, Go values and JSON documents. It is
// safe for concurrent use.
type Sanitizer struct {
	mode      string
	policy    *bluemonday.Policy // strip and allowList with tags; nil for escape
	skip      [][]string
	endpoints [][]string
}

// refusedTags are elements New refuses in AllowedTags. bluemonday already
// drops script and style, but an allow list naming them (or these others)
// is a configuration mistake worth reporting rather than silently ignoring.
var refusedTags = map[string]bool{
	"script": true, "style": true, "iframe": true, "frame": true, "frameset": true,
	"object": true, "embed": true, "applet": true, "base": true, "link": true,
	"meta": true, "noscript": true, "template": true, "svg": true, "math": true,
	"form": true, "xmp": true, "plaintext": true, "noembed": true, "noframes": true,
}

var tagName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// New builds a Sanitizer. It returns every problem in opts at once: an
// unknown mode, a bad or refused tag name, an empty skip field segment, or a
// bad glob.
func New(opts Options) (*Sanitizer, error) {
	s := &Sanitizer{mode: opts.Mode}
	var errs []error
	switch opts.Mode {
	case "", ModeStrip:
		s.mode = ModeStrip
		s.policy = bluemonday.StrictPolicy()
	case ModeEscape:
	case ModeAllowList:
		tags := make([]string, 0, len(opts.AllowedTags))
		for i, t := range opts.AllowedTags {
			t = strings.ToLower(strings.TrimSpace(t))
			switch {
			case !tagName.MatchString(t):
				errs = append(errs, fmt.Errorf("sanitize: allowedTags[%d]: not a tag name (got %q)", i, opts.AllowedTags[i]))
			case refusedTags[t]:
				errs = append(errs, fmt.Errorf("sanitize: allowedTags[%d]: %q cannot be allowed safely", i, t))
			default:
				tags = append(tags, t)
			}
		}
		if len(tags) > 0 {
			s.policy = allowListPolicy(tags)
		}
	default:
		errs = append(errs, fmt.Errorf("sanitize: mode: unknown mode %q (want %s, %s or %s)", opts.Mode, ModeStrip, ModeEscape, ModeAllowList))
	}
	for i, f := range opts.SkipFields {
		segs, err := parseField(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("sanitize: skipFields[%d]: %w", i, err))
			continue
		}
		s.skip = append(s.skip, segs)
	}
	for i, g := range opts.SkipEndpoints {
		segs, err := parseGlob(g)
		if err != nil {
			errs = append(errs, fmt.Errorf("sanitize: skipEndpoints[%d]: %w", i, err))
			continue
		}
		s.endpoints = append(s.endpoints, segs)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// allowListPolicy keeps tags and only the attributes that cannot carry
// script: URLs must parse and use an allowed scheme (relative URLs are
// refused, so "javascript:", "vbscript:" and "data:" never get through),
// and there are no style or on* attributes because none are allowed.
func allowListPolicy(tags []string) *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(tags...)
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowAttrs("href").OnElements("a")
	// bluemonday's schemes are global; img src is narrowed to http(s) here,
	// then validated as a URL like href.
	p.AllowAttrs("src").Matching(regexp.MustCompile(`^\s*(?i:https?):`)).OnElements("img")
	p.AllowAttrs("alt").OnElements("img")
	p.AllowAttrs("title").Globally()
	return p
}

// Mode reports the mode in effect (ModeStrip for an empty Options.Mode).
func (s *Sanitizer) Mode() string { return s.mode }

// String returns v with the mode applied.
func (s *Sanitizer) String(v string) string {
	switch {
	case s.mode == ModeStrip:
		return s.strip(v)
	case s.policy != nil: // allowList with tags
		// Fast path: without these bytes bluemonday would return v as is.
		if !strings.ContainsAny(v, "<>&\"'\r\x00") {
			return v
		}
		return s.policy.Sanitize(v)
	default: // escape, or allowList without tags
		return escaper.Replace(v)
	}
}

// escaper escapes like html.EscapeString, but writes &quot; as
// next-api-layer did (its tests pin &quot;).
var escaper = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&quot;", `'`, "&#39;")

// strip removes all markup and returns text. Without "<" there is no markup
// and without "&" no entity, so such strings are returned as they are.
func (s *Sanitizer) strip(v string) string {
	if !strings.ContainsAny(v, "<&") {
		return v
	}
	// bluemonday escapes the text it keeps; decoding it gives back the
	// plain text next-api-layer promised ("5 < 10", "Tom & Jerry"). Decoding also
	// turns an entity the user typed ("&lt;script&gt;") into markup, so
	// every "<" that would open a tag, an end tag, a comment or a
	// declaration is escaped again: the output never contains markup.
	return escapeTagOpeners(html.UnescapeString(s.policy.Sanitize(v)))
}

// escapeTagOpeners replaces "<" with "&lt;" where an HTML tokenizer would
// start a tag, end tag, comment, doctype or bogus comment: before an ASCII
// letter, "/", "!" or "?". Any other "<" is text to a browser.
func escapeTagOpeners(v string) string {
	i := openerIndex(v)
	if i < 0 {
		return v
	}
	var b strings.Builder
	b.Grow(len(v) + 8)
	for i >= 0 {
		b.WriteString(v[:i])
		b.WriteString("&lt;")
		v = v[i+1:]
		i = openerIndex(v)
	}
	b.WriteString(v)
	return b.String()
}

func openerIndex(v string) int {
	for i := 0; i+1 < len(v); i++ {
		if v[i] != '<' {
			continue
		}
		switch c := v[i+1]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '/', c == '!', c == '?':
			return i
		}
	}
	return -1
}
