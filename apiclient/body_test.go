package apiclient

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/sanitize"
)

func TestMethodSpoofing(t *testing.T) {
	tests := []struct {
		name       string
		spoof      MethodSpoofing
		method     string
		body       any
		opts       []CallOption
		wantMethod string
		wantHeader string // X-HTTP-Method-Override
		wantBody   string
	}{
		{name: "off", method: "PUT", body: map[string]int{"a": 1}, wantMethod: "PUT", wantBody: `{"a":1}`},
		{name: "body strategy", spoof: MethodSpoofing{Enabled: true}, method: "PUT", body: map[string]int{"a": 1},
			wantMethod: "POST", wantBody: `{"a":1,"_method":"PUT"}`},
		{name: "body strategy replaces the field", spoof: MethodSpoofing{Enabled: true}, method: "PATCH", body: json.RawMessage(`{"_method":"GET","a":1}`),
			wantMethod: "POST", wantBody: `{"_method":"PATCH","a":1}`},
		{name: "field name", spoof: MethodSpoofing{Enabled: true, FieldName: "__m"}, method: "PATCH", body: map[string]int{},
			wantMethod: "POST", wantBody: `{"__m":"PATCH"}`},
		{name: "no body", spoof: MethodSpoofing{Enabled: true}, method: "DELETE",
			wantMethod: "POST", wantBody: `{"_method":"DELETE"}`},
		{name: "array body falls back to the header", spoof: MethodSpoofing{Enabled: true}, method: "PUT", body: []int{1, 2},
			wantMethod: "POST", wantHeader: "PUT", wantBody: `[1,2]`},
		{name: "header strategy", spoof: MethodSpoofing{Enabled: true, Strategy: SpoofHeader}, method: "PATCH", body: map[string]int{"a": 1},
			wantMethod: "POST", wantHeader: "PATCH", wantBody: `{"a":1}`},
		{name: "header strategy without body", spoof: MethodSpoofing{Enabled: true, Strategy: SpoofHeader}, method: "DELETE",
			wantMethod: "POST", wantHeader: "DELETE"},
		{name: "POST untouched", spoof: MethodSpoofing{Enabled: true}, method: "POST", body: map[string]int{"a": 1},
			wantMethod: "POST", wantBody: `{"a":1}`},
		{name: "GET untouched", spoof: MethodSpoofing{Enabled: true}, method: "GET", wantMethod: "GET"},
		{name: "per-call off", spoof: MethodSpoofing{Enabled: true}, method: "PUT", body: map[string]int{"a": 1},
			opts: []CallOption{WithMethodSpoofing(false)}, wantMethod: "PUT", wantBody: `{"a":1}`},
		{name: "per-call on", method: "DELETE", opts: []CallOption{WithMethodSpoofing(true)},
			wantMethod: "POST", wantBody: `{"_method":"DELETE"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, nil)
			c, _ := newClient(t, b, func(c *Config) { c.MethodSpoofing = tt.spoof })
			if _, err := c.Do(userCtx(t), tt.method, "items/1", tt.body, tt.opts...); err != nil {
				t.Fatal(err)
			}
			got := b.last(t)
			if got.Method != tt.wantMethod || got.Header.Get("X-HTTP-Method-Override") != tt.wantHeader || string(got.Body) != tt.wantBody {
				t.Errorf("got %s override %q body %q; want %s override %q body %q",
					got.Method, got.Header.Get("X-HTTP-Method-Override"), got.Body, tt.wantMethod, tt.wantHeader, tt.wantBody)
			}
			if tt.wantBody != "" && got.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q", got.Header.Get("Content-Type"))
			}
		})
	}
}

// next-api-layer's isSafeUrl returned any string that parsed as an http(s),
// mailto, tel or ftp URL, or started with one "/", unsanitized
// (docs/apiclient.md#fixed-next-api-layer-defects).
var urlBypasses = []string{
	`https://x.com/"><script>alert(1)</script>`,
	`/<img src=x onerror=alert(1)>`,
	`mailto:<img src=x onerror=alert(1)>`,
	`tel:<svg onload=alert(1)>`,
	`ftp://x/<iframe src=javascript:alert(1)>`,
}

func TestSanitizeBodies(t *testing.T) {
	tests := []struct {
		name     string
		san      sanitize.Options // the Sanitizer's options
		none     bool             // no Sanitizer at all
		endpoint string
		body     any
		opts     []CallOption
		want     map[string]any // fields of the body the backend got
	}{
		{name: "strip (the zero Options)", body: map[string]any{"title": `<b>Hi</b><script>alert(1)</script>`, "n": 3},
			want: map[string]any{"title": "Hi", "n": 3.0}},
		{name: "nested and arrays", body: map[string]any{"post": map[string]any{"tags": []any{"<i>a</i>", "b"}}},
			want: map[string]any{"post": map[string]any{"tags": []any{"a", "b"}}}},
		{name: "plain text kept", body: map[string]any{"t": "5 < 10 & 20 > 3, see https://example.com/?a=1&b=2"},
			want: map[string]any{"t": "5 < 10 & 20 > 3, see https://example.com/?a=1&b=2"}},
		{name: "escape", san: sanitize.Options{Mode: "escape"}, body: map[string]any{"t": `<script>alert("xss")</script>`},
			want: map[string]any{"t": "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;"}},
		{name: "allowList", san: sanitize.Options{Mode: "allowList", AllowedTags: []string{"b", "i"}},
			body: map[string]any{"t": `<div><b style="color:red" onclick="x()">bold</b></div>`},
			want: map[string]any{"t": "<b>bold</b>"}},
		{name: "skip field on whole segments", san: sanitize.Options{SkipFields: []string{"content"}},
			body: map[string]any{"content": "<b>keep</b>", "maincontent": "<b>strip</b>", "post": map[string]any{"content": "<i>keep</i>"}},
			want: map[string]any{"content": "<b>keep</b>", "maincontent": "strip", "post": map[string]any{"content": "<i>keep</i>"}}},
		{name: "per-call skip fields", body: map[string]any{"html": "<b>keep</b>", "post": map[string]any{"body": "<b>keep</b>"}, "other": "<b>x</b>"},
			opts: []CallOption{SkipSanitizeFields("html", "post.body")},
			want: map[string]any{"html": "<b>keep</b>", "post": map[string]any{"body": "<b>keep</b>"}, "other": "x"}},
		{name: "per-call skip keeps big numbers exact", body: json.RawMessage(`{"id":12345678901234567890,"t":"<b>x</b>","k":"<b>y</b>"}`),
			opts: []CallOption{SkipSanitizeFields("k")},
			want: map[string]any{"id": 12345678901234567890.0, "t": "x", "k": "<b>y</b>"}},
		{name: "skip endpoint glob", san: sanitize.Options{SkipEndpoints: []string{"cms/**"}}, endpoint: "cms/pages/1",
			body: map[string]any{"t": "<b>keep</b>"}, want: map[string]any{"t": "<b>keep</b>"}},
		{name: "skip endpoint glob no match", san: sanitize.Options{SkipEndpoints: []string{"cms/*"}}, endpoint: "cms/pages/1",
			body: map[string]any{"t": "<b>x</b>"}, want: map[string]any{"t": "x"}},
		{name: "SkipSanitize", body: map[string]any{"t": "<b>keep</b>"}, opts: []CallOption{SkipSanitize()},
			want: map[string]any{"t": "<b>keep</b>"}},
		{name: "no Sanitizer: sent as written", none: true, body: map[string]any{"t": "<b>keep</b>"},
			want: map[string]any{"t": "<b>keep</b>"}},
		{name: "struct body", body: struct {
			Name string `json:"name"`
		}{"<b>Ada</b>"}, want: map[string]any{"name": "Ada"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, nil)
			c, _ := newClient(t, b, func(c *Config) {
				if !tt.none {
					c.Sanitizer = newSanitizer(t, tt.san)
				}
			})
			ep := tt.endpoint
			if ep == "" {
				ep = "posts"
			}
			if _, err := c.Post(userCtx(t), ep, tt.body, tt.opts...); err != nil {
				t.Fatal(err)
			}
			got := decodeMap(t, b.last(t).Body)
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tt.want)
			if !bytes.Equal(gj, wj) {
				t.Errorf("backend got %s, want %s", gj, wj)
			}
		})
	}
}

func TestSanitizeURLBypassesNeutralised(t *testing.T) {
	for _, mode := range []string{"strip", "escape", "allowList"} {
		for _, in := range urlBypasses {
			t.Run(mode+"/"+in, func(t *testing.T) {
				b := newBackend(t, nil)
				c, _ := newClient(t, b, func(c *Config) {
					o := sanitize.Options{Mode: mode}
					if mode == "allowList" {
						o.AllowedTags = []string{"a", "b", "img"}
					}
					c.Sanitizer = newSanitizer(t, o)
				})
				form := NewForm().Add("link", in)
				if _, err := c.Post(userCtx(t), "links", map[string]any{"link": in}); err != nil {
					t.Fatal(err)
				}
				var got struct{ Link string }
				json.Unmarshal(b.last(t).Body, &got)
				if _, err := c.Post(userCtx(t), "links", form); err != nil {
					t.Fatal(err)
				}
				fields, _ := parseMultipart(t, b.last(t))
				for _, out := range []string{got.Link, fields["link"]} {
					low := strings.ToLower(out)
					for _, bad := range []string{"<script", "<img", "<svg", "<iframe", "onerror=", "onload="} {
						if strings.Contains(low, bad) && (strings.Contains(low, "<") || bad[0] == '<') {
							t.Errorf("%q came out as %q (contains %s)", in, out, bad)
						}
					}
					if mode != "allowList" && strings.Contains(out, "<") {
						t.Errorf("%q came out as %q: a raw < is left", in, out)
					}
				}
			})
		}
	}
}

// parseMultipart reads a recorded multipart body.
func parseMultipart(t *testing.T, r seen) (fields map[string]string, files map[string][]byte) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type = %q", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	fields, files = map[string]string{}, map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return fields, files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(p)
		if p.FileName() != "" {
			files[p.FormName()+":"+p.FileName()+":"+p.Header.Get("Content-Type")] = data
		} else {
			fields[p.FormName()] = string(data)
		}
	}
}

func TestMultipart(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n<script>not text</script>\x00\xff")
	newForm := func() *Form {
		return NewForm().
			Add("title", "<b>Trip</b> photos").
			Add("post[content]", "<i>kept</i>").
			Add("bio", "<script>x</script>Hi").
			AddFile("photo", "a.png", "image/png", png).
			AddFile("doc", `we"ird.txt`, "", []byte("<b>raw</b>"))
	}
	tests := []struct {
		name       string
		spoof      bool
		method     string
		opts       []CallOption
		wantFields map[string]string
	}{
		{name: "sanitized per field, files as they are", method: "POST", opts: []CallOption{SkipSanitizeFields("content")},
			wantFields: map[string]string{"title": "Trip photos", "post[content]": "<i>kept</i>", "bio": "Hi"}},
		{name: "skip sanitize", method: "POST", opts: []CallOption{SkipSanitize()},
			wantFields: map[string]string{"title": "<b>Trip</b> photos", "post[content]": "<i>kept</i>", "bio": "<script>x</script>Hi"}},
		{name: "spoofed PUT gets the field", method: "PUT", spoof: true, opts: []CallOption{SkipSanitize()},
			wantFields: map[string]string{"title": "<b>Trip</b> photos", "post[content]": "<i>kept</i>", "bio": "<script>x</script>Hi", "_method": "PUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, nil)
			c, _ := newClient(t, b, func(c *Config) {
				c.MethodSpoofing.Enabled = tt.spoof
				c.Sanitizer = newSanitizer(t, sanitize.Options{})
			})
			form := newForm()
			for range 2 { // the Form is not changed by a call, so it can be sent again
				if _, err := c.Do(userCtx(t), tt.method, "uploads", form, tt.opts...); err != nil {
					t.Fatal(err)
				}
				got := b.last(t)
				fields, files := parseMultipart(t, got)
				if len(fields) != len(tt.wantFields) {
					t.Errorf("fields = %q, want %q", fields, tt.wantFields)
				}
				for k, v := range tt.wantFields {
					if fields[k] != v {
						t.Errorf("field %s = %q, want %q", k, fields[k], v)
					}
				}
				if !bytes.Equal(files["photo:a.png:image/png"], png) || string(files[`doc:we"ird.txt:application/octet-stream`]) != "<b>raw</b>" {
					t.Errorf("files = %q", files)
				}
				if tt.spoof && got.Method != http.MethodPost {
					t.Errorf("method = %s", got.Method)
				}
			}
			if len(form.parts) != 5 || form.parts[0].value != "<b>Trip</b> photos" {
				t.Errorf("the caller's Form changed: %+v", form.parts)
			}
		})
	}
}

func TestFieldPath(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"title", "title"},
		{"post[content]", "post.content"},
		{"post.content", "post.content"},
		{"items[0][html]", "items.html"},
		{"a[]", "a"},
		{"[]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := strings.Join(fieldPath(tt.in), "."); got != tt.want {
				t.Errorf("fieldPath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// newSanitizer is the Sanitizer of package sanitize with o.
func newSanitizer(t *testing.T, o sanitize.Options) *sanitize.Sanitizer {
	t.Helper()
	s, err := sanitize.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
