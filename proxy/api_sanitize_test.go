package proxy

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// apiFakeSanitizer stands for package sanitize: it removes "<x>" and
// records what it was asked; a body containing "BROKEN" fails.
type apiFakeSanitizer struct {
	mu    sync.Mutex
	calls []string // endpoint + " " + body
}

func (s *apiFakeSanitizer) Sanitize(endpoint string, body []byte) ([]byte, error) {
	s.mu.Lock()
	s.calls = append(s.calls, endpoint+" "+string(body))
	s.mu.Unlock()
	if bytes.Contains(body, []byte("BROKEN")) {
		return nil, errors.New("sanitize: invalid JSON")
	}
	return bytes.ReplaceAll(body, []byte("<x>"), nil), nil
}

func (s *apiFakeSanitizer) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func TestAPISanitizeRequests(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		chunked     bool
		wantStatus  int
		wantBody    string // what the backend receives
		wantCalls   []string
	}{
		{name: "json", contentType: "application/json", body: `{"t":"<x>hi"}`,
			wantStatus: 200, wantBody: `{"t":"hi"}`, wantCalls: []string{`posts/1 {"t":"<x>hi"}`}},
		{name: "json chunked", contentType: "application/json", body: `{"t":"<x>hi"}`, chunked: true,
			wantStatus: 200, wantBody: `{"t":"hi"}`, wantCalls: []string{`posts/1 {"t":"<x>hi"}`}},
		{name: "plus json", contentType: "application/merge-patch+json", body: `{"t":"<x>"}`,
			wantStatus: 200, wantBody: `{"t":""}`, wantCalls: []string{`posts/1 {"t":"<x>"}`}},
		{name: "text is streamed untouched", contentType: "text/plain", body: `<x>`,
			wantStatus: 200, wantBody: `<x>`},
		{name: "form is untouched", contentType: "application/x-www-form-urlencoded", body: `t=%3Cx%3E`,
			wantStatus: 200, wantBody: `t=%3Cx%3E`},
		{name: "empty json body", contentType: "application/json", wantStatus: 200},
		{name: "unreadable json is refused", contentType: "application/json", body: `{"BROKEN"`,
			wantStatus: 400, wantCalls: []string{`posts/1 {"BROKEN"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &apiRecorder{}
			san := &apiFakeSanitizer{}
			gw, _ := newAPITest(t, rec, func(o *APIOptions) { o.Sanitizer = san })
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = struct{ io.Reader }{body}
			}
			req := apiRequest(t, "POST", gw.URL+"/api/posts/1", body)
			req.Header.Set("Content-Type", tt.contentType)
			res, resBody := apiDo(t, req)
			if tt.wantStatus == http.StatusBadRequest {
				apiWantJSONError(t, res, resBody, http.StatusBadRequest, "Invalid JSON body.")
				if n := len(rec.requests()); n != 0 {
					t.Fatalf("backend saw %d requests, want none", n)
				}
			} else {
				if res.StatusCode != tt.wantStatus {
					t.Fatalf("status %d, want %d", res.StatusCode, tt.wantStatus)
				}
				got := rec.last(t)
				if string(got.Body) != tt.wantBody {
					t.Errorf("backend body = %q, want %q", got.Body, tt.wantBody)
				}
				if got.ContentLength != int64(len(tt.wantBody)) {
					t.Errorf("Content-Length = %d, want %d", got.ContentLength, len(tt.wantBody))
				}
			}
			if c := san.Calls(); strings.Join(c, "|") != strings.Join(tt.wantCalls, "|") {
				t.Errorf("sanitizer calls = %q, want %q", c, tt.wantCalls)
			}
		})
	}
}

func TestAPISanitizeResponses(t *testing.T) {
	gzipped := func(s string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		io.WriteString(zw, s)
		zw.Close()
		return buf.Bytes()
	}
	tests := []struct {
		name        string
		responses   bool
		contentType string
		encoding    string
		body        []byte
		chunked     bool
		wantBody    []byte
		wantCalls   int
	}{
		{name: "json", responses: true, contentType: "application/json", body: []byte(`{"t":"<x>a"}`),
			wantBody: []byte(`{"t":"a"}`), wantCalls: 1},
		{name: "json streamed by the backend", responses: true, contentType: "application/problem+json",
			body: []byte(`{"t":"<x>a"}`), chunked: true, wantBody: []byte(`{"t":"a"}`), wantCalls: 1},
		{name: "responses off", responses: false, contentType: "application/json", body: []byte(`{"t":"<x>a"}`),
			wantBody: []byte(`{"t":"<x>a"}`)},
		{name: "html untouched", responses: true, contentType: "text/html", body: []byte(`<x>`), wantBody: []byte(`<x>`)},
		{name: "compressed json untouched", responses: true, contentType: "application/json", encoding: "gzip",
			body: gzipped(`{"t":"<x>"}`), wantBody: gzipped(`{"t":"<x>"}`)},
		{name: "larger than the limit passes through", responses: true, contentType: "application/json",
			body: []byte(`{"t":"<x>` + strings.Repeat("a", 2048) + `"}`), chunked: true,
			wantBody: []byte(`{"t":"<x>` + strings.Repeat("a", 2048) + `"}`)},
		{name: "declared larger than the limit passes through", responses: true, contentType: "application/json",
			body:     []byte(`{"t":"<x>` + strings.Repeat("a", 2048) + `"}`),
			wantBody: []byte(`{"t":"<x>` + strings.Repeat("a", 2048) + `"}`)},
		{name: "unsanitizable passes through", responses: true, contentType: "application/json",
			body: []byte(`BROKEN<x>`), wantBody: []byte(`BROKEN<x>`), wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			san := &apiFakeSanitizer{}
			acceptEncoding := make(chan string, 1)
			backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				acceptEncoding <- r.Header.Get("Accept-Encoding")
				w.Header().Set("Content-Type", tt.contentType)
				w.Header().Set("Etag", `"v1"`)
				if tt.encoding != "" {
					w.Header().Set("Content-Encoding", tt.encoding)
				}
				if !tt.chunked {
					w.Header().Set("Content-Length", strconv.Itoa(len(tt.body)))
				}
				w.Write(tt.body)
			})
			gw, _ := newAPITest(t, backend, func(o *APIOptions) {
				o.Sanitizer = san
				o.SanitizeResponses = tt.responses
				o.MaxBodySize = 1024
			})
			req := apiRequest(t, "GET", gw.URL+"/api/posts", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			res, body := apiDo(t, req)
			if !bytes.Equal(body, tt.wantBody) {
				t.Fatalf("body = %q, want %q", body, tt.wantBody)
			}
			if n := len(san.Calls()); n != tt.wantCalls {
				t.Fatalf("sanitizer called %d times, want %d", n, tt.wantCalls)
			}
			if cl := res.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
				t.Fatalf("Content-Length = %s, body has %d bytes", cl, len(body))
			}
			changed := !bytes.Equal(tt.body, tt.wantBody)
			if etag := res.Header.Get("Etag"); changed == (etag != "") {
				t.Fatalf("Etag = %q after a body change %v", etag, changed)
			}
			wantAE := "gzip"
			if tt.responses {
				wantAE = "identity"
			}
			if ae := <-acceptEncoding; tt.encoding == "" && ae != wantAE {
				t.Fatalf("backend got Accept-Encoding %q, want %q", ae, wantAE)
			}
		})
	}
}

func TestAPISanitizeThenSpoof(t *testing.T) {
	rec := &apiRecorder{}
	san := &apiFakeSanitizer{}
	gw, _ := newAPITest(t, rec, func(o *APIOptions) {
		o.Sanitizer = san
		o.MethodSpoofing = apiSpoofing("body")
	})
	req := apiRequest(t, "PATCH", gw.URL+"/api/posts/1", strings.NewReader(`{"t":"<x>a"}`))
	req.Header.Set("Content-Type", "application/json")
	apiDo(t, req)
	got := rec.last(t)
	if got.Method != "POST" || string(got.Body) != `{"t":"a","_method":"PATCH"}` {
		t.Fatalf("backend saw %s %q, want the sanitized body with _method", got.Method, got.Body)
	}
	// The sanitizer saw the client's fields only.
	if c := san.Calls(); len(c) != 1 || c[0] != `posts/1 {"t":"<x>a"}` {
		t.Fatalf("sanitizer calls = %q", c)
	}
}

// Every Content-Type a backend may decode as JSON is sanitized as JSON
// (Laravel's isJson() accepts any type containing /json or +json, and many
// backends decode whatever the type): "json" anywhere, in any case.
func TestAPISanitizeMediaTypes(t *testing.T) {
	tests := []struct {
		name         string
		contentTypes []string // one Content-Type line each
		sanitized    bool
	}{
		{"application/json", []string{"application/json"}, true},
		{"upper case", []string{"APPLICATION/JSON"}, true},
		{"parameters", []string{"application/json; charset=utf-8; foo=bar"}, true},
		{"malformed parameters", []string{"application/json; charset"}, true},
		{"text/json", []string{"text/json"}, true},
		{"mixed-case text/json", []string{"Text/JSON; charset=utf-8"}, true},
		{"plus json", []string{"application/x+json"}, true},
		{"vendor plus json", []string{"application/vnd.api+json; ext=bulk"}, true},
		{"list with json last", []string{"text/plain, application/json"}, true},
		{"list with json first", []string{"application/json,text/html"}, true},
		{"second Content-Type line", []string{"text/plain", "application/json"}, true},
		{"x-json", []string{"application/x-json"}, true},
		{"text/plain", []string{"text/plain"}, false},
		{"form", []string{"application/x-www-form-urlencoded"}, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, body := range []string{`{"t":"<x>hi"}`, `{"BROKEN"`} {
				rec := &apiRecorder{}
				san := &apiFakeSanitizer{}
				gw, _ := newAPITest(t, rec, func(o *APIOptions) { o.Sanitizer = san })
				req := apiRequest(t, "POST", gw.URL+"/api/posts/1", strings.NewReader(body))
				req.Header["Content-Type"] = tt.contentTypes
				res, resBody := apiDo(t, req)
				switch {
				case !tt.sanitized:
					if res.StatusCode != http.StatusOK || string(rec.last(t).Body) != body {
						t.Fatalf("%s: answer %d, backend got %q, want the body untouched", body, res.StatusCode, rec.last(t).Body)
					}
				case strings.Contains(body, "BROKEN"):
					apiWantJSONError(t, res, resBody, http.StatusBadRequest, "Invalid JSON body.")
					if n := len(rec.requests()); n != 0 {
						t.Fatalf("%s: backend saw %d requests, want none", body, n)
					}
				default:
					if got := rec.last(t).Body; res.StatusCode != http.StatusOK || string(got) != `{"t":"hi"}` {
						t.Fatalf("%s: answer %d, backend got %q, want it sanitized", body, res.StatusCode, got)
					}
				}
			}
		})
	}
}

func TestAPISanitizeResponseMediaTypes(t *testing.T) {
	tests := []struct {
		contentType string
		sanitized   bool
	}{
		{"application/json", true},
		{"Application/JSON; charset=utf-8", true},
		{"text/json", true},
		{"application/vnd.api+json", true},
		{"application/json, text/html", true},
		{"text/html", false},
		{"text/plain", false},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				io.WriteString(w, `{"t":"<x>a"}`)
			})
			gw, _ := newAPITest(t, backend, func(o *APIOptions) {
				o.Sanitizer = &apiFakeSanitizer{}
				o.SanitizeResponses = true
			})
			_, body := apiDo(t, apiRequest(t, "GET", gw.URL+"/api/posts", nil))
			want := `{"t":"<x>a"}`
			if tt.sanitized {
				want = `{"t":"a"}`
			}
			if string(body) != want {
				t.Errorf("body = %q, want %q", body, want)
			}
		})
	}
}
