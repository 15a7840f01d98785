package apiclient

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// logLines returns the JSON log records written to buf.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		out = append(out, decodeMap(t, []byte(line)))
	}
	return out
}

func findLog(t *testing.T, lines []map[string]any, msg string) map[string]any {
	t.Helper()
	for _, l := range lines {
		if l["msg"] == msg {
			return l
		}
	}
	t.Fatalf("no log %q in %v", msg, lines)
	return nil
}

func TestDebugLogMasksSecrets(t *testing.T) {
	secrets := []string{"tok-alice", "hunter2", "at-123", "up-456", "rt-789", "key-000", "deep-111", "qs-222", "sess-333", "cookie-444"}
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Set-Cookie", "sid=cookie-444")
		writeJSON(w, 200, `{"success":true,"data":{"user":{"name":"Ada","refreshToken":"rt-789"},"session_id":"sess-333"}}`)
	})
	var buf bytes.Buffer
	c, _ := newClient(t, b, func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Debug = Debug{Enabled: true, Headers: true, RequestBody: true, ResponseBody: true, SensitiveFields: []string{"pin-code"}}
		c.Headers = http.Header{"X-Api-Key": {"key-000"}, "Cookie": {"sid=cookie-444"}}
	})
	body := map[string]any{
		"username":      "ada",
		"password":      "hunter2",
		"access_token":  "at-123",
		"user_password": "up-456",
		"PinCode":       "1234",
		"a":             map[string]any{"b": []any{map[string]any{"c": map[string]any{"Client_Secret": "deep-111"}}}},
	}
	if _, err := c.Post(userCtx(t), "login?api_token=qs-222&page=1", body); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log shows %q:\n%s", s, out)
		}
	}
	lines := logLines(t, &buf)
	req := findLog(t, lines, "apiclient: request")
	if req["level"] != "DEBUG" || req["method"] != "POST" || req["endpoint"] != "login" {
		t.Errorf("request log = %v", req)
	}
	if u, _ := req["url"].(string); !strings.Contains(u, "api_token=%2A%2A%2A") || !strings.Contains(u, "page=1") {
		t.Errorf("url = %q", u)
	}
	h := req["headers"].(map[string]any)
	for _, k := range []string{"Authorization", "X-Api-Key", "Cookie"} {
		if h[k] != "REDACTED" {
			t.Errorf("header %s logged as %v", k, h[k])
		}
	}
	if h["Content-Type"] != "application/json" {
		t.Errorf("headers = %v", h)
	}
	rb := req["body"].(map[string]any)
	for _, k := range []string{"password", "access_token", "user_password", "PinCode"} {
		if rb[k] != "***" {
			t.Errorf("body field %s logged as %v", k, rb[k])
		}
	}
	if rb["username"] != "ada" {
		t.Errorf("username logged as %v", rb["username"])
	}
	res := findLog(t, lines, "apiclient: response")
	if res["status"] != 200.0 {
		t.Errorf("response log = %v", res)
	}
	data := res["body"].(map[string]any)["data"].(map[string]any)
	if data["session_id"] != "***" || data["user"].(map[string]any)["refreshToken"] != "***" || data["user"].(map[string]any)["name"] != "Ada" {
		t.Errorf("response body logged as %v", data)
	}
}

func TestDebugPreviews(t *testing.T) {
	c, err := New(Config{BaseURL: "http://b/", Debug: Debug{Enabled: true, MaxStringLength: 20, MaxArrayItems: 2, MaxDepth: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name string
		in   string // JSON
		want string // JSON of the preview
	}{
		{"short", `"hello"`, `"hello"`},
		{"truncated", `"` + strings.Repeat("a", 30) + `"`, `"aaaaaaaaaaaaaaaaaaaa... (10B truncated)"`},
		{"truncated on a rune boundary", `"` + strings.Repeat("é", 15) + `"`, `"éééééééééé... (10B truncated)"`},
		{"base64", `"` + strings.Repeat("QUJD", 40) + `"`, `"[base64, 120B]"`},
		{"data URL", `"data:image/png;base64,` + strings.Repeat("A", 60) + `"`, `"[data URL (image/png), 82B]"`},
		{"short data URL is text", `"data:,x"`, `"data:,x"`},
		{"array", `[1,2,3,4]`, `[1,2,"... and 2 more items"]`},
		{"depth", `{"a":{"b":{"c":{"d":1}}}}`, `{"a":{"b":{"c":"[max depth reached]"}}}`},
		{"numbers exact", `{"n":12345678901234567890}`, `{"n":12345678901234567890}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := json.Marshal(c.jsonPreview([]byte(tt.in)))
			if string(got) != tt.want {
				t.Errorf("preview = %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("form", func(t *testing.T) {
		f := NewForm().Add("name", "Ada").Add("password", "hunter2").AddFile("photo", "a.png", "image/png", make([]byte, 2048)).Add("x", "y")
		got, _ := json.Marshal(c.formPreview(f))
		want := `{"FormData":{"...":"and 2 more fields","name":"Ada","password":"***"}}`
		if string(got) != want {
			t.Errorf("preview = %s, want %s", got, want)
		}
		c.cfg.Debug.MaxArrayItems = 10
		got, _ = json.Marshal(c.formPreview(f))
		if !strings.Contains(string(got), `"photo":"[File: a.png, 2.0KB, image/png]"`) {
			t.Errorf("preview = %s", got)
		}
	})
	t.Run("HTML response", func(t *testing.T) {
		got := c.responsePreview(http.Header{"Content-Type": {"text/html"}}, []byte("<html><body>Bad Gateway</body></html>"))
		if got != "<html><body>Bad Gate... (17B truncated)" {
			t.Errorf("preview = %q", got)
		}
		if got := c.responsePreview(http.Header{}, nil); got != "(empty)" {
			t.Errorf("empty preview = %q", got)
		}
	})
	for n, want := range map[int]string{0: "0B", 1023: "1023B", 1536: "1.5KB", 3 << 20: "3.0MB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDebugLogRetriesAndOff(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 503, `{}`) })
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := newClient(t, b, func(c *Config) {
		c.Logger = logger
		c.Debug.Enabled = true
		c.Retry = Retry{Enabled: true, MaxAttempts: 2}
	})
	c.Get(userCtx(t), "x")
	lines := logLines(t, &buf)
	retry := findLog(t, lines, "apiclient: retrying")
	if retry["reason"] != "status 503" || retry["attempt"] != 1.0 {
		t.Errorf("retry log = %v", retry)
	}
	findLog(t, lines, "apiclient: giving up")

	buf.Reset()
	quiet, _ := newClient(t, b, func(c *Config) { c.Logger = logger })
	quiet.Get(userCtx(t), "x")
	if buf.Len() != 0 {
		t.Errorf("logged without Debug.Enabled: %s", buf.String())
	}
}
