package proxy

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/config"
)

func apiSpoofing(strategy string) config.MethodSpoofing {
	return config.MethodSpoofing{Enabled: true, Strategy: strategy}
}

// apiMultipartBody is a form with a text field, a repeated field and a
// binary file (bytes that are not valid UTF-8, with CR LF inside).
func apiMultipartBody(t *testing.T) (body []byte, contentType string, file []byte) {
	t.Helper()
	file = append([]byte("\x00\xff\r\n--not-a-boundary\r\n"), apiRandom(70<<10)...)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("title", "Hello <world>")
	mw.WriteField("tag", "a")
	mw.WriteField("tag", "b")
	fw, err := mw.CreateFormFile("avatar", "avatar.bin")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType(), file
}

func TestAPIMethodSpoofing(t *testing.T) {
	multi, multiType, file := apiMultipartBody(t)
	tests := []struct {
		name        string
		strategy    string
		method      string
		contentType string
		body        []byte
		// what the backend must see
		wantMethod   string
		wantOverride string
		wantBody     string // "" => check with check
		check        func(t *testing.T, got apiSeen)
	}{
		{name: "json object", strategy: "body", method: "PUT", contentType: "application/json",
			body: []byte(`{"title":"x","n":1}`), wantMethod: "POST", wantBody: `{"title":"x","n":1,"_method":"PUT"}`},
		{name: "json with charset", strategy: "body", method: "PATCH", contentType: "application/json; charset=utf-8",
			body: []byte(" {\"a\":[1,2]}\n"), wantMethod: "POST", wantBody: `{"a":[1,2],"_method":"PATCH"}`,
			check: func(t *testing.T, got apiSeen) {
				if ct := got.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Errorf("Content-Type = %q, want the client's", ct)
				}
			}},
		{name: "json replaces a client field", strategy: "body", method: "DELETE", contentType: "application/json",
			body: []byte(`{"_method":"GET","id":3}`), wantMethod: "POST", wantBody: `{"_method":"DELETE","id":3}`},
		{name: "empty json object", strategy: "body", method: "PUT", contentType: "application/vnd.api+json",
			body: []byte(`{}`), wantMethod: "POST", wantBody: `{"_method":"PUT"}`},
		{name: "empty body", strategy: "body", method: "DELETE", wantMethod: "POST", wantBody: `{"_method":"DELETE"}`,
			check: func(t *testing.T, got apiSeen) {
				if ct := got.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
			}},
		{name: "json array falls back to the header", strategy: "body", method: "PUT", contentType: "application/json",
			body: []byte(`[1,2]`), wantMethod: "POST", wantOverride: "PUT", wantBody: `[1,2]`},
		{name: "form", strategy: "body", method: "PUT", contentType: "application/x-www-form-urlencoded",
			body: []byte("a=1&b=x+y"), wantMethod: "POST", wantBody: "a=1&b=x+y&_method=PUT"},
		{name: "empty form", strategy: "body", method: "PATCH", contentType: "application/x-www-form-urlencoded",
			wantMethod: "POST", wantBody: "_method=PATCH"},
		{name: "multipart", strategy: "body", method: "PUT", contentType: multiType, body: multi, wantMethod: "POST",
			check: func(t *testing.T, got apiSeen) {
				ct := got.Header.Get("Content-Type")
				if ct == multiType {
					t.Fatalf("Content-Type kept the stale boundary")
				}
				if got.ContentLength != int64(len(got.Body)) {
					t.Errorf("Content-Length = %d, body has %d bytes", got.ContentLength, len(got.Body))
				}
				// The backend parses the body with the forwarded Content-Type.
				req := httptest.NewRequest("POST", "/", bytes.NewReader(got.Body))
				req.Header.Set("Content-Type", ct)
				if err := req.ParseMultipartForm(1 << 20); err != nil {
					t.Fatalf("backend cannot parse the form: %v", err)
				}
				f := req.MultipartForm
				if v := f.Value["title"]; len(v) != 1 || v[0] != "Hello <world>" {
					t.Errorf("title = %q", v)
				}
				if v := f.Value["tag"]; strings.Join(v, ",") != "a,b" {
					t.Errorf("tag = %q", v)
				}
				if v := f.Value["_method"]; len(v) != 1 || v[0] != "PUT" {
					t.Errorf("_method = %q", v)
				}
				fh := f.File["avatar"]
				if len(fh) != 1 || fh[0].Filename != "avatar.bin" {
					t.Fatalf("avatar = %v", fh)
				}
				rc, _ := fh[0].Open()
				defer rc.Close()
				if b, _ := io.ReadAll(rc); !bytes.Equal(b, file) {
					t.Errorf("file changed: %d bytes, want %d", len(b), len(file))
				}
			}},
		{name: "binary body falls back to the header", strategy: "body", method: "PUT", contentType: "application/octet-stream",
			body: []byte("\x00\x01raw"), wantMethod: "POST", wantOverride: "PUT", wantBody: "\x00\x01raw"},
		{name: "header strategy", strategy: "header", method: "PATCH", contentType: "application/json",
			body: []byte(`{"a":1}`), wantMethod: "POST", wantOverride: "PATCH", wantBody: `{"a":1}`},
		{name: "header strategy without body", strategy: "header", method: "DELETE",
			wantMethod: "POST", wantOverride: "DELETE"},
		{name: "post untouched", strategy: "body", method: "POST", contentType: "application/json",
			body: []byte(`{"a":1}`), wantMethod: "POST", wantBody: `{"a":1}`},
		{name: "get untouched", strategy: "body", method: "GET", wantMethod: "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &apiRecorder{}
			gw, _ := newAPITest(t, rec, func(o *APIOptions) { o.MethodSpoofing = apiSpoofing(tt.strategy) })
			req := apiRequest(t, tt.method, gw.URL+"/api/posts/1", bytes.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			res, _ := apiDo(t, req)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			got := rec.last(t)
			if got.Method != tt.wantMethod {
				t.Errorf("method = %s, want %s", got.Method, tt.wantMethod)
			}
			if o := got.Header.Get("X-HTTP-Method-Override"); o != tt.wantOverride {
				t.Errorf("X-HTTP-Method-Override = %q, want %q", o, tt.wantOverride)
			}
			if (tt.check == nil || tt.wantBody != "") && string(got.Body) != tt.wantBody {
				t.Errorf("body = %q, want %q", got.Body, tt.wantBody)
			}
			if len(got.Body) > 0 && got.ContentLength != int64(len(got.Body)) {
				t.Errorf("Content-Length = %d, want %d", got.ContentLength, len(got.Body))
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func TestAPIMethodSpoofingDisabled(t *testing.T) {
	rec := &apiRecorder{}
	gw, _ := newAPITest(t, rec, nil)
	req := apiRequest(t, "PUT", gw.URL+"/api/posts/1", strings.NewReader(`{"a":1}`))
	req.Header.Set("Content-Type", "application/json")
	apiDo(t, req)
	if got := rec.last(t); got.Method != "PUT" || string(got.Body) != `{"a":1}` || got.Header.Get("X-HTTP-Method-Override") != "" {
		t.Fatalf("backend saw %s %q override %q, want the request unchanged", got.Method, got.Body, got.Header.Get("X-HTTP-Method-Override"))
	}
}

func TestAPIMethodSpoofingBodyTooLarge(t *testing.T) {
	rec := &apiRecorder{}
	gw, _ := newAPITest(t, rec, func(o *APIOptions) {
		o.MethodSpoofing = apiSpoofing("body")
		o.MaxBodySize = 1024
	})
	// Chunked, so only reading it reveals the size.
	body := struct{ io.Reader }{strings.NewReader(`{"a":"` + strings.Repeat("x", 2048) + `"}`)}
	req := apiRequest(t, "PUT", gw.URL+"/api/posts/1", body)
	req.Header.Set("Content-Type", "application/json")
	res, resBody := apiDo(t, req)
	apiWantJSONError(t, res, resBody, http.StatusRequestEntityTooLarge, "Request body too large.")
	if n := len(rec.requests()); n != 0 {
		t.Fatalf("backend saw %d requests, want none", n)
	}
}

func TestSpoofJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"empty", "", `{"_method":"PUT"}`, true},
		{"blank", " \n", `{"_method":"PUT"}`, true},
		{"object", `{"a":1}`, `{"a":1,"_method":"PUT"}`, true},
		{"nested keeps order", `{"z":{"y":1},"a":[]}`, `{"z":{"y":1},"a":[],"_method":"PUT"}`, true},
		{"existing field replaced", `{"_method":"x"}`, `{"_method":"PUT"}`, true},
		{"array", `[]`, "", false},
		{"string", `"x"`, "", false},
		{"invalid", `{"a":`, "", false},
		{"trailing garbage", `{"a":1}{}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := spoofJSON([]byte(tt.in), "_method", "PUT")
			if ok != tt.ok || string(got) != tt.want {
				t.Fatalf("spoofJSON(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSpoofForm(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "_method=DELETE"},
		{"fields", "a=1", "a=1&_method=DELETE"},
		{"trailing ampersand", "a=1&", "a=1&_method=DELETE"},
		{"trailing newline", "a=1\r\n", "a=1&_method=DELETE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(spoofForm([]byte(tt.in), "_method", "DELETE")); got != tt.want {
				t.Fatalf("spoofForm(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSpoofMultipart(t *testing.T) {
	t.Run("malformed falls back", func(t *testing.T) {
		if _, _, ok := spoofBody("multipart/form-data", map[string]string{"boundary": "b"}, []byte("garbage"), "_method", "PUT"); ok {
			t.Fatal("a malformed body was accepted")
		}
	})
	t.Run("missing boundary falls back", func(t *testing.T) {
		if _, _, ok := spoofBody("multipart/form-data", nil, []byte("--x\r\n"), "_method", "PUT"); ok {
			t.Fatal("a body without boundary was accepted")
		}
	})
	t.Run("empty body", func(t *testing.T) {
		out, ct, ok := spoofBody("multipart/form-data", nil, nil, "_method", "PUT")
		if !ok {
			t.Fatal("empty multipart body refused")
		}
		req := httptest.NewRequest("POST", "/", bytes.NewReader(out))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Content-Length", strconv.Itoa(len(out)))
		if err := req.ParseMultipartForm(1 << 10); err != nil || req.FormValue("_method") != "PUT" {
			t.Fatalf("parse: %v, _method = %q", err, req.FormValue("_method"))
		}
	})
}

// Only the gateway's own X-HTTP-Method-Override (method spoofing that
// needs the header) reaches the backend; a client's never does, in any
// spelling, and a client's Connection header cannot remove the gateway's.
func TestAPIMethodOverrideHeader(t *testing.T) {
	tests := []struct {
		name     string
		spoofing config.MethodSpoofing
		method   string
		body     string
		want     []string // the backend's X-HTTP-Method-Override
	}{
		{name: "spoofing off", method: "POST", body: `{"a":1}`},
		{name: "header strategy, method not spoofed", spoofing: apiSpoofing("header"), method: "POST", body: `{"a":1}`},
		{name: "header strategy", spoofing: apiSpoofing("header"), method: "PUT", body: `{"a":1}`, want: []string{"PUT"}},
		{name: "header strategy without body", spoofing: apiSpoofing("header"), method: "DELETE", want: []string{"DELETE"}},
		{name: "body strategy carries it in the body", spoofing: apiSpoofing("body"), method: "PATCH", body: `{"a":1}`},
		{name: "body strategy falls back to the header", spoofing: apiSpoofing("body"), method: "PUT", body: `[1]`, want: []string{"PUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &apiRecorder{}
			gw, _ := newAPITest(t, rec, func(o *APIOptions) { o.MethodSpoofing = tt.spoofing })
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req := apiRequest(t, tt.method, gw.URL+"/api/posts/1", body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Connection", "X-HTTP-Method-Override, x-http-method-override")
			for _, k := range []string{"X-HTTP-Method-Override", "X_HTTP_Method_Override", "x_http_method_override"} {
				req.Header[k] = []string{"GET"}
			}
			if res, _ := apiDo(t, req); res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			got := rec.last(t).Header
			for k, v := range got {
				if strings.EqualFold(strings.ReplaceAll(k, "_", "-"), "X-HTTP-Method-Override") && !(k == "X-Http-Method-Override" && slices.Equal(v, tt.want)) {
					t.Errorf("backend received %s %q, want %q", k, v, tt.want)
				}
			}
			if v := got["X-Http-Method-Override"]; !slices.Equal(v, tt.want) {
				t.Errorf("X-HTTP-Method-Override = %q, want %q", v, tt.want)
			}
		})
	}
}
