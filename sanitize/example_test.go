package sanitize_test

import (
	"fmt"
	"log"

	"github.com/apilayer/apilayer/sanitize"
)

func ExampleSanitizer_Sanitize() {
	s, err := sanitize.New(sanitize.Options{
		Mode:          sanitize.ModeStrip,
		SkipFields:    []string{"post.html"},
		SkipEndpoints: []string{"uploads/**"},
	})
	if err != nil {
		log.Fatal(err)
	}
	body := []byte(`{"post":{"title":"<b>Hi</b> 5 < 10","html":"<b>kept</b>","views":12345678901234567890},` +
		`"link":"https://x.com/\"><script>alert(1)</script>"}`)
	out, err := s.Sanitize("posts/42", body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out))

	out, _ = s.Sanitize("uploads/a/b", []byte(`{"raw":"<i>untouched</i>"}`))
	fmt.Println(string(out))
	// Output:
	// {"post":{"title":"Hi 5 < 10","html":"<b>kept</b>","views":12345678901234567890},"link":"https://x.com/\">"}
	// {"raw":"<i>untouched</i>"}
}

func ExampleSanitizer_String() {
	allow, err := sanitize.New(sanitize.Options{Mode: sanitize.ModeAllowList, AllowedTags: []string{"a", "b"}})
	if err != nil {
		log.Fatal(err)
	}
	escape, err := sanitize.New(sanitize.Options{Mode: sanitize.ModeEscape})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(allow.String(`<div><b style="color:red">bold</b> <a href="javascript:alert(1)">x</a></div>`))
	fmt.Println(escape.String(`<script>alert("xss")</script>`))
	// Output:
	// <b>bold</b> x
	// &lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;
}

func ExampleSanitizer_Value() {
	s, err := sanitize.New(sanitize.Options{})
	if err != nil {
		log.Fatal(err)
	}
	v := s.Value(map[string]any{
		"name": "<img src=x onerror=alert(1)>Ann",
		"bio":  "<p>I like <i>Go</i></p>",
	}, "bio")
	fmt.Println(v)
	// Output:
	// map[bio:<p>I like <i>Go</i></p> name:Ann]
}

func ExampleNew() {
	_, err := sanitize.New(sanitize.Options{Mode: "allowList", AllowedTags: []string{"b", "script"}, SkipFields: []string{"items[0].html"}})
	fmt.Println(err)
	// Output:
	// sanitize: allowedTags[1]: "script" cannot be allowed safely
	// sanitize: skipFields[0]: array indices are not segments, write "items.html" (got "items[0].html")
}
