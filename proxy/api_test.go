package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// apiSeen is what a test backend saw of one request.
type apiSeen struct {
	Method        string
	Path, RawPath string
	RawQuery      string
	Host          string
	Header        http.Header
	Body          []byte
	ContentLength int64
}

// apiRecorder is a backend handler that records each request and answers
// with answer (or 200 {"ok":true}).
type apiRecorder struct {
	mu     sync.Mutex
	seen   []apiSeen
	answer http.HandlerFunc
}

func (rec *apiRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.seen = append(rec.seen, apiSeen{
		Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery,
		Host: r.Host, Header: r.Header.Clone(), Body: body, ContentLength: r.ContentLength,
	})
	rec.mu.Unlock()
	if rec.answer != nil {
		rec.answer(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true}`)
}

func (rec *apiRecorder) requests() []apiSeen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]apiSeen(nil), rec.seen...)
}

// last returns the only request the backend saw, failing the test if it
// saw none or several.
func (rec *apiRecorder) last(t *testing.T) apiSeen {
	t.Helper()
	got := rec.requests()
	if len(got) != 1 {
		t.Fatalf("backend saw %d requests, want 1", len(got))
	}
	return got[0]
}

// newAPITest starts backend, an API proxy in front of it (backend.url
// http://backend/v1/, prefix /api) and a gateway server for the proxy.
func newAPITest(t *testing.T, backend http.Handler, edit func(*APIOptions)) (gw *httptest.Server, api *API) {
	t.Helper()
	be := httptest.NewServer(backend)
	t.Cleanup(be.Close)
	o := APIOptions{Backend: be.URL + "/v1/", Prefix: "/api", Timeout: 5 * time.Second}
	if edit != nil {
		edit(&o)
	}
	api, err := NewAPI(o)
	if err != nil {
		t.Fatalf("NewAPI: %v", err)
	}
	t.Cleanup(func() { api.Close() })
	gw = httptest.NewServer(api)
	t.Cleanup(gw.Close)
	return gw, api
}

// apiDo sends a request to the gateway and returns the response and its
// body.
func apiDo(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res, body
}

func apiRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// apiWantJSONError checks an answer of the gateway itself.
func apiWantJSONError(t *testing.T, res *http.Response, body []byte, status int, msg string) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status = %d, want %d (body %s)", res.StatusCode, status, body)
	}
	want := `{"success":false,"message":"` + msg + `"}` + "\n"
	if string(body) != want {
		t.Fatalf("body = %q, want %q", body, want)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
}

func TestNewAPIOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    APIOptions
		wantErr string
	}{
		{"valid", APIOptions{Backend: "http://127.0.0.1:8000/api/", Prefix: "/api"}, ""},
		{"no trailing slash", APIOptions{Backend: "http://127.0.0.1:8000/api", Prefix: "/api"}, ""},
		{"missing backend", APIOptions{Prefix: "/api"}, "backend url is required"},
		{"bad scheme", APIOptions{Backend: "ftp://b/", Prefix: "/api"}, "scheme must be http or https"},
		{"no host", APIOptions{Backend: "http:///x/"}, "host is missing"},
		{"query", APIOptions{Backend: "http://b/x/?a=1"}, "query and fragment"},
		{"relative prefix", APIOptions{Backend: "http://b/", Prefix: "api"}, "prefix must start with"},
		{"negative size", APIOptions{Backend: "http://b/", MaxBodySize: -1}, "max body size"},
		{"negative timeout", APIOptions{Backend: "http://b/", Timeout: -time.Second}, "timeout"},
		{"bad strategy", APIOptions{Backend: "http://b/", MethodSpoofing: apiSpoofing("query")}, "strategy must be body or header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAPI(tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewAPI: %v", err)
				}
				if !strings.HasSuffix(a.base.Path, "/") {
					t.Fatalf("base path %q does not end with /", a.base.Path)
				}
				if err := a.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				if err := a.Close(); err != nil {
					t.Fatalf("second Close: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "proxy: ") {
				t.Fatalf("NewAPI error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestAPIMapping(t *testing.T) {
	rec := &apiRecorder{}
	gw, _ := newAPITest(t, rec, func(o *APIOptions) {
		o.Query = func(r *http.Request) url.Values {
			if r.URL.Query().Get("withLang") == "" {
				return nil
			}
			return url.Values{"lang": {"tr"}}
		}
	})
	tests := []struct {
		name, method, path string
		wantPath, wantRaw  string
		wantQuery          url.Values
		wantRawQuery       string
	}{
		{name: "get with query", method: "GET", path: "/api/users/5?x=1&y=a+b",
			wantPath: "/v1/users/5", wantRawQuery: "x=1&y=a+b"},
		{name: "prefix itself", method: "GET", path: "/api", wantPath: "/v1/"},
		{name: "trailing slash kept", method: "GET", path: "/api/users/", wantPath: "/v1/users/"},
		{name: "post", method: "POST", path: "/api/posts", wantPath: "/v1/posts"},
		{name: "put", method: "PUT", path: "/api/posts/1", wantPath: "/v1/posts/1"},
		{name: "patch", method: "PATCH", path: "/api/posts/1", wantPath: "/v1/posts/1"},
		{name: "delete", method: "DELETE", path: "/api/posts/1", wantPath: "/v1/posts/1"},
		{name: "auth paths other than the built-in ones", method: "POST", path: "/api/auth/forgot-password",
			wantPath: "/v1/auth/forgot-password"},
		{name: "escaped slash stays escaped", method: "GET", path: "/api/files/a%2Fb",
			wantPath: "/v1/files/a/b", wantRaw: "/v1/files/a%2Fb"},
		{name: "query extras replace the client's", method: "GET", path: "/api/news?withLang=1&lang=xx&page=2",
			wantPath: "/v1/news", wantQuery: url.Values{"withLang": {"1"}, "lang": {"tr"}, "page": {"2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.mu.Lock()
			rec.seen = nil
			rec.mu.Unlock()
			res, body := apiDo(t, apiRequest(t, tt.method, gw.URL+tt.path, nil))
			if res.StatusCode != http.StatusOK || string(body) != `{"ok":true}` {
				t.Fatalf("answer %d %s, want the backend's", res.StatusCode, body)
			}
			got := rec.last(t)
			if got.Method != tt.method {
				t.Errorf("method = %s, want %s", got.Method, tt.method)
			}
			if got.Path != tt.wantPath {
				t.Errorf("path = %q, want %q", got.Path, tt.wantPath)
			}
			if got.RawPath != tt.wantRaw {
				t.Errorf("raw path = %q, want %q", got.RawPath, tt.wantRaw)
			}
			if tt.wantQuery != nil {
				q, _ := url.ParseQuery(got.RawQuery)
				if q.Encode() != tt.wantQuery.Encode() {
					t.Errorf("query = %q, want %q", got.RawQuery, tt.wantQuery.Encode())
				}
			} else if got.RawQuery != tt.wantRawQuery {
				t.Errorf("query = %q, want %q verbatim", got.RawQuery, tt.wantRawQuery)
			}
		})
	}
}

func TestAPIBadPath(t *testing.T) {
	rec := &apiRecorder{}
	_, api := newAPITest(t, rec, nil)
	tests := []struct{ name, target string }{
		{"dot dot", "/api/../admin"},
		{"dot dot deeper", "/api/users/../../admin"},
		{"single dot", "/api/./users"},
		{"encoded dot dot", "/api/%2e%2e/admin"},
		{"encoded upper case", "/api/%2E%2E/admin"},
		{"half encoded", "/api/.%2e/admin"},
		{"encoded slash then dot dot", "/api/x%2f..%2f..%2fadmin"},
		{"leading encoded slash", "/api/%2f../admin"},
		{"backslash", "/api/..%5cadmin"},
		{"double encoded dot dot", "/api/%252e%252e/admin"},
		{"double encoded slash", "/api/a%252f..%252fadmin"},
		{"control character", "/api/a%00b"},
		{"outside the prefix", "/apiary/x"},
		{"another path", "/admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			api.ServeHTTP(w, httptest.NewRequest("GET", tt.target, nil))
			res := w.Result()
			body, _ := io.ReadAll(res.Body)
			apiWantJSONError(t, res, body, http.StatusBadRequest, "Bad request path.")
		})
	}
	if n := len(rec.requests()); n != 0 {
		t.Fatalf("backend saw %d requests, want none", n)
	}
}

func TestAPIHeaders(t *testing.T) {
	rec := &apiRecorder{answer: func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Set-Cookie", "theme=dark; Path=/")
		h.Add("Set-Cookie", "userAuthToken=forged; Path=/; HttpOnly")
		h.Add("Set-Cookie", "lang=tr; Path=/")
		h.Add("Set-Cookie", " guestAuthToken=forged; Path=/")
		h.Set("X-Auth-User", "e30=")
		h.Set("X-Refreshed-Token", "leak")
		h.Set("X-Backend", "kept")
		h.Set("Connection", "X-Backend-Hop")
		h.Set("X-Backend-Hop", "hop")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":1}`)
	}}
	gw, api := newAPITest(t, rec, func(o *APIOptions) {
		o.ReservedCookies = []string{"userAuthToken", "guestAuthToken", "__csrf"}
		o.DropHeaders = []string{"x-csrf-token"}
		o.ClientInfo = func(*http.Request) (netip.Addr, string, string) {
			return netip.MustParseAddr("203.0.113.7"), "https", "app.example"
		}
	})
	req := apiRequest(t, "POST", gw.URL+"/api/things", strings.NewReader(`{"a":1}`))
	for k, v := range map[string]string{
		"Authorization":           "Bearer effective",
		"Cookie":                  "userAuthToken=secret; other=1",
		"Connection":              "X-Client-Hop",
		"X-Client-Hop":            "hop",
		"Keep-Alive":              "timeout=5",
		"Proxy-Authorization":     "Basic eA==",
		"Proxy-Custom":            "x",
		"Te":                      "trailers",
		"X-Auth-User":             "forged",
		"X-Auth-Token-Type":       "admin",
		"X-Refreshed-Token":       "forged",
		"X-Locale":                "xx",
		"X-Middleware-Subrequest": "middleware",
		"X-Skip-Auth":             "true",
		"X-Csrf-Token":            "csrf",
		"X-Forwarded-For":         "6.6.6.6",
		"X-Forwarded-Host":        "evil.example",
		"Forwarded":               "for=6.6.6.6",
		"X-Real-Ip":               "6.6.6.6",
		"Cf-Connecting-Ip":        "6.6.6.6",
		"X-Request-Id":            "req-123",
		"Content-Type":            "application/json",
		"Accept":                  "application/json",
		"Accept-Language":         "tr-TR",
		"X-Custom":                "kept",
	} {
		req.Header.Set(k, v)
	}
	req.Host = "app.example"
	res, body := apiDo(t, req)
	if res.StatusCode != http.StatusCreated || string(body) != `{"id":1}` {
		t.Fatalf("answer %d %s, want 201 from the backend", res.StatusCode, body)
	}
	got := rec.last(t)

	t.Run("request", func(t *testing.T) {
		for _, k := range []string{"Cookie", "X-Client-Hop", "Keep-Alive", "Proxy-Authorization", "Proxy-Custom",
			"Te", "X-Auth-User", "X-Auth-Token-Type", "X-Refreshed-Token", "X-Locale", "X-Middleware-Subrequest",
			"X-Skip-Auth", "X-Csrf-Token", "Forwarded", "Cf-Connecting-Ip"} {
			if v, ok := got.Header[k]; ok {
				t.Errorf("%s forwarded (%q)", k, v)
			}
		}
		for k, want := range map[string]string{
			"Authorization":     "Bearer effective",
			"X-Forwarded-For":   "203.0.113.7",
			"X-Real-Ip":         "203.0.113.7",
			"X-Forwarded-Proto": "https",
			"X-Forwarded-Host":  "app.example",
			"X-Request-Id":      "req-123",
			"Content-Type":      "application/json",
			"Accept":            "application/json",
			"Accept-Language":   "tr-TR",
			"X-Custom":          "kept",
		} {
			if v := got.Header.Values(k); len(v) != 1 || v[0] != want {
				t.Errorf("%s = %q, want %q", k, v, want)
			}
		}
		if c := got.Header.Get("Connection"); c != "" && !strings.EqualFold(c, "keep-alive") {
			t.Errorf("Connection = %q forwarded", c)
		}
		if got.Host != api.base.Host {
			t.Errorf("Host = %q, want the backend's %q", got.Host, api.base.Host)
		}
		if string(got.Body) != `{"a":1}` {
			t.Errorf("body = %q", got.Body)
		}
	})
	t.Run("response", func(t *testing.T) {
		wantCookies := []string{"theme=dark; Path=/", "lang=tr; Path=/"}
		if c := res.Header.Values("Set-Cookie"); strings.Join(c, "|") != strings.Join(wantCookies, "|") {
			t.Errorf("Set-Cookie = %q, want %q", c, wantCookies)
		}
		for _, k := range []string{"X-Auth-User", "X-Refreshed-Token", "X-Backend-Hop"} {
			if v, ok := res.Header[k]; ok {
				t.Errorf("%s reached the client (%q)", k, v)
			}
		}
		if v := res.Header.Get("X-Backend"); v != "kept" {
			t.Errorf("X-Backend = %q, want kept", v)
		}
	})
}

func TestAPIBackendUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	var logs bytes.Buffer
	api, err := NewAPI(APIOptions{
		Backend: "http://" + closed + "/api/", Prefix: "/api",
		Logger: slog.New(slog.NewJSONHandler(&apiSyncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	gw := httptest.NewServer(api)
	defer gw.Close()

	req := apiRequest(t, "GET", gw.URL+"/api/me?token=query-secret", nil)
	req.Header.Set("Authorization", "Bearer header-secret")
	res, body := apiDo(t, req)
	apiWantJSONError(t, res, body, http.StatusBadGateway, "Proxy error: Unable to connect to backend.")
	if strings.Contains(string(body), closed) {
		t.Fatalf("body leaks the backend address: %s", body)
	}
	out := logs.String()
	if !strings.Contains(out, "backend unreachable") || !strings.Contains(out, `"status":502`) {
		t.Fatalf("log = %s, want the failure", out)
	}
	if strings.Contains(out, "secret") {
		t.Fatalf("log leaks a secret: %s", out)
	}
}

// apiSyncWriter serializes writes from the handler goroutines.
type apiSyncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *apiSyncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// apiBlockingBackend answers nothing until the test ends; arrived
// receives each request's context when it reaches the backend.
func apiBlockingBackend(t *testing.T) (http.Handler, <-chan context.Context) {
	release := make(chan struct{})
	arrived := make(chan context.Context, 4)
	t.Cleanup(func() { close(release) }) // runs before the backend's Close
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Context()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), arrived
}

func TestAPIBackendTimeout(t *testing.T) {
	t.Run("real clock", func(t *testing.T) {
		h, arrived := apiBlockingBackend(t)
		gw, _ := newAPITest(t, h, func(o *APIOptions) { o.Timeout = 20 * time.Millisecond })
		res, body := apiDo(t, apiRequest(t, "GET", gw.URL+"/api/slow", nil))
		apiWantJSONError(t, res, body, http.StatusGatewayTimeout, "Backend timed out.")
		// The gateway gave up on the backend request.
		<-(<-arrived).Done()
	})
	t.Run("injected clock", func(t *testing.T) {
		h, arrived := apiBlockingBackend(t)
		clock := &apiFakeClock{}
		// A caller's transport: the header timeout wrapper, whose clock a
		// test can set, bounds it.
		gw, api := newAPITest(t, h, func(o *APIOptions) { o.Timeout = time.Hour; o.Transport = callerTransport(t) })
		api.rp.Transport.(*headerTimeout).afterFunc = clock.AfterFunc
		done := make(chan struct{})
		go func() {
			defer close(done)
			ctx := <-arrived
			clock.Fire() // api.timeout elapses while the backend thinks
			<-ctx.Done()
		}()
		res, body := apiDo(t, apiRequest(t, "GET", gw.URL+"/api/slow", nil))
		apiWantJSONError(t, res, body, http.StatusGatewayTimeout, "Backend timed out.")
		<-done
	})
}

func TestAPIClientGone(t *testing.T) {
	h, arrived := apiBlockingBackend(t)
	var logs bytes.Buffer
	gw, _ := newAPITest(t, h, func(o *APIOptions) {
		o.Logger = slog.New(slog.NewJSONHandler(&apiSyncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx, cancel := context.WithCancel(context.Background())
	req := apiRequest(t, "GET", gw.URL+"/api/slow", nil).WithContext(ctx)
	errc := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	backendCtx := <-arrived
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client error = %v, want context.Canceled", err)
	}
	// The cancellation reaches the backend request.
	<-backendCtx.Done()
	gw.Close() // waits for the handler, so the log line is written
	if out := logs.String(); !strings.Contains(out, "client gone") || !strings.Contains(out, `"status":499`) {
		t.Fatalf("log = %s, want a 499 client gone line", out)
	}
}

// apiFakeClock is an injected clock for the header timeout: its timers
// fire when the test says so.
type apiFakeClock struct {
	mu     sync.Mutex
	timers []*apiFakeTimer
}

type apiFakeTimer struct {
	mu             sync.Mutex
	f              func()
	stopped, fired bool
}

func (t *apiFakeTimer) Stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.fired {
		return false
	}
	t.stopped = true
	return true
}

func (c *apiFakeClock) AfterFunc(_ time.Duration, f func()) stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &apiFakeTimer{f: f}
	c.timers = append(c.timers, t)
	return t
}

// Fire runs every timer that was not stopped, as if its time had come.
func (c *apiFakeClock) Fire() {
	c.mu.Lock()
	timers := append([]*apiFakeTimer(nil), c.timers...)
	c.mu.Unlock()
	for _, t := range timers {
		t.mu.Lock()
		run := !t.stopped && !t.fired
		t.fired = true
		t.mu.Unlock()
		if run {
			t.f()
		}
	}
}

func TestAPIBodyTooLarge(t *testing.T) {
	const limit = 64 << 10
	t.Run("declared length", func(t *testing.T) {
		rec := &apiRecorder{}
		gw, _ := newAPITest(t, rec, func(o *APIOptions) { o.MaxBodySize = limit })
		res, body := apiDo(t, apiRequest(t, "POST", gw.URL+"/api/upload", bytes.NewReader(make([]byte, limit+1))))
		apiWantJSONError(t, res, body, http.StatusRequestEntityTooLarge, "Request body too large.")
		if n := len(rec.requests()); n != 0 {
			t.Fatalf("backend saw %d requests, want none", n)
		}
	})
	t.Run("at the limit", func(t *testing.T) {
		rec := &apiRecorder{}
		gw, _ := newAPITest(t, rec, func(o *APIOptions) { o.MaxBodySize = limit })
		res, _ := apiDo(t, apiRequest(t, "POST", gw.URL+"/api/upload", bytes.NewReader(make([]byte, limit))))
		if res.StatusCode != http.StatusOK || len(rec.last(t).Body) != limit {
			t.Fatalf("status %d, want the whole body forwarded", res.StatusCode)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		type result struct {
			n   int64
			err error
		}
		got := make(chan result, 1)
		backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, err := io.Copy(io.Discard, r.Body)
			got <- result{n, err}
		})
		gw, _ := newAPITest(t, backend, func(o *APIOptions) { o.MaxBodySize = limit })
		// No Content-Length: the body is streamed chunked and cut off.
		body := struct{ io.Reader }{bytes.NewReader(make([]byte, 4*limit))}
		req := apiRequest(t, "POST", gw.URL+"/api/upload", body)
		res, resBody := apiDo(t, req)
		apiWantJSONError(t, res, resBody, http.StatusRequestEntityTooLarge, "Request body too large.")
		r := <-got
		if r.err == nil || r.n > limit {
			t.Fatalf("backend read %d bytes (err %v), want a body cut off at %d", r.n, r.err, limit)
		}
	})
}

func TestAPIWebSocket(t *testing.T) {
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Header.Get("Cookie") != "" {
			http.Error(w, "not a clean upgrade", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Set-Cookie: userAuthToken=forged\r\nSet-Cookie: ws=1\r\n\r\n")
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString("echo " + line)
			brw.Flush()
		}
	})
	gw, _ := newAPITest(t, backend, func(o *APIOptions) {
		o.Timeout = time.Second
		o.ReservedCookies = []string{"userAuthToken"}
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(gw.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /api/ws HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Cookie: userAuthToken=secret\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status = %d, want 101", res.StatusCode)
	}
	if c := res.Header.Values("Set-Cookie"); len(c) != 1 || c[0] != "ws=1" {
		t.Fatalf("Set-Cookie = %q, want only ws=1", c)
	}
	for _, msg := range []string{"hello", "world"} {
		io.WriteString(conn, msg+"\n")
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line != "echo "+msg+"\n" {
			t.Fatalf("got %q, want echo %s", line, msg)
		}
	}
}

func TestAPIServerSentEvents(t *testing.T) {
	next := make(chan string)
	gone := make(chan struct{}) // closed if the gateway drops the stream
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		for {
			select {
			case ev, ok := <-next:
				if !ok {
					return
				}
				io.WriteString(w, "data: "+ev+"\n\n")
				http.NewResponseController(w).Flush()
			case <-r.Context().Done():
				close(gone)
				return
			}
		}
	})
	clock := &apiFakeClock{}
	gw, api := newAPITest(t, backend, func(o *APIOptions) { o.Timeout = time.Hour; o.Transport = callerTransport(t) })
	api.rp.Transport.(*headerTimeout).afterFunc = clock.AfterFunc
	res, err := http.Get(gw.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	for i, ev := range []string{"one", "two", "three"} {
		if i == 1 {
			// api.timeout elapses mid-stream: it bounds the headers only.
			clock.Fire()
		}
		select {
		case next <- ev: // the backend sends one event; the test waits for it
		case <-gone:
			t.Fatalf("event %d: the gateway canceled the stream", i)
		}
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if line != "data: "+ev+"\n" {
			t.Fatalf("event %d = %q", i, line)
		}
		br.ReadString('\n')
	}
	close(next)
	if rest, _ := io.ReadAll(br); len(rest) != 0 {
		t.Fatalf("trailing data %q", rest)
	}
}

func TestAPIForwardedDefaults(t *testing.T) {
	rec := &apiRecorder{}
	gw, _ := newAPITest(t, rec, nil)
	req := apiRequest(t, "GET", gw.URL+"/api/x", nil)
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	req.Header.Set("X-Forwarded-Proto", "https")
	apiDo(t, req)
	got := rec.last(t)
	for k, want := range map[string]string{
		"X-Forwarded-For":   "127.0.0.1",
		"X-Forwarded-Proto": "http",
		"X-Forwarded-Host":  strings.TrimPrefix(gw.URL, "http://"),
	} {
		if v := got.Header.Values(k); len(v) != 1 || v[0] != want {
			t.Errorf("%s = %q, want %q from the connection", k, v, want)
		}
	}
}

func TestAPIUpgradeOnlyWebSocket(t *testing.T) {
	rec := &apiRecorder{}
	gw, _ := newAPITest(t, rec, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(gw.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /api/x HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 from a plain request", res.StatusCode)
	}
	got := rec.last(t)
	for _, k := range []string{"Upgrade", "Connection", "Http2-Settings"} {
		if v, ok := got.Header[k]; ok {
			t.Errorf("%s forwarded (%q)", k, v)
		}
	}
}
