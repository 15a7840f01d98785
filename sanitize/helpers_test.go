package sanitize

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// mustNew builds a Sanitizer or fails the test.
func mustNew(t testing.TB, opts Options) *Sanitizer {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	return s
}

// markupProblems tokenizes out as a browser would and reports what a
// sanitized string must never contain: any tag or comment at all when
// textOnly, else a tag outside allowed, an attribute other than href, src,
// alt and title, or a URL attribute whose scheme is not http, https or
// mailto.
func markupProblems(out string, textOnly bool, allowed map[string]bool) []string {
	var problems []string
	if strings.Contains(strings.ToLower(out), "<script") {
		problems = append(problems, "contains <script")
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return problems
		}
		if tt == html.TextToken {
			continue
		}
		tok := z.Token()
		if textOnly {
			problems = append(problems, "markup token "+tok.String())
			continue
		}
		if tt != html.StartTagToken && tt != html.EndTagToken && tt != html.SelfClosingTagToken {
			problems = append(problems, "non-tag markup "+tok.String())
			continue
		}
		if !allowed[tok.Data] {
			problems = append(problems, "tag not allowed: "+tok.Data)
		}
		for _, a := range tok.Attr {
			switch a.Key {
			case "href", "src":
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if !strings.HasPrefix(v, "http:") && !strings.HasPrefix(v, "https:") && !strings.HasPrefix(v, "mailto:") {
					problems = append(problems, "unsafe URL "+a.Key+"="+a.Val)
				}
			case "alt", "title":
			default:
				problems = append(problems, "attribute not allowed: "+a.Key)
			}
		}
	}
}
