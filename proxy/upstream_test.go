package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// seen is what the test web app reports about the request it received.
type seen struct {
	RequestURI string
	Host       string
	Header     http.Header
}

// echoApp answers every request with the JSON of what it received.
func echoApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(seen{RequestURI: r.RequestURI, Host: r.Host, Header: r.Header})
	})
}

// startUpstream starts app as the web app and a gateway front server that
// serves an Upstream pointing at app.URL+base. Everything is closed at the
// end of the test.
func startUpstream(t testing.TB, app http.Handler, base string, opts UpstreamOptions) (*Upstream, *httptest.Server, *httptest.Server) {
	t.Helper()
	appSrv := httptest.NewServer(app)
	t.Cleanup(appSrv.Close)
	opts.URL = appSrv.URL + base
	u, err := NewUpstream(opts)
	if err != nil {
		t.Fatalf("NewUpstream: %v", err)
	}
	t.Cleanup(func() { u.Close() })
	front := httptest.NewServer(u)
	t.Cleanup(front.Close)
	return u, front, appSrv
}

func getSeen(t *testing.T, req *http.Request) (seen, *http.Response) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	defer res.Body.Close()
	var s seen
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		t.Fatalf("decode what the app saw: %v", err)
	}
	return s, res
}

func TestUpstreamPathMapping(t *testing.T) {
	tests := []struct {
		name    string
		base    string
		path    string
		wantURI string
	}{
		{"root", "", "/", "/"},
		{"path and query", "", "/dashboard?tab=2&q=a%20b", "/dashboard?tab=2&q=a%20b"},
		{"base path", "/app", "/dashboard?x=1", "/app/dashboard?x=1"},
		{"base path with trailing slash", "/app/", "/a/b", "/app/a/b"},
		{"root under base path", "/app", "/", "/app/"},
		{"trailing slash kept", "/app", "/docs/", "/app/docs/"},
		{"escaped slash kept", "", "/files/a%2Fb", "/files/a%2Fb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, front, _ := startUpstream(t, echoApp(), tc.base, UpstreamOptions{})
			req, _ := http.NewRequest(http.MethodGet, front.URL+tc.path, nil)
			s, res := getSeen(t, req)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", res.StatusCode)
			}
			if s.RequestURI != tc.wantURI {
				t.Errorf("web app got %q, want %q", s.RequestURI, tc.wantURI)
			}
		})
	}
}

func TestUpstreamRequestHeaders(t *testing.T) {
	custom := func(*http.Request) (netip.Addr, string, string) {
		return netip.MustParseAddr("203.0.113.7"), "https", "app.example.com"
	}
	tests := []struct {
		name       string
		clientInfo func(*http.Request) (netip.Addr, string, string)
		wantFor    string
		wantProto  string
		wantHost   string // "" = the front server's host
	}{
		{"from the connection", nil, "127.0.0.1", "http", ""},
		{"from ClientInfo", custom, "203.0.113.7", "https", "app.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, front, appSrv := startUpstream(t, echoApp(), "", UpstreamOptions{ClientInfo: tc.clientInfo})
			req, _ := http.NewRequest(http.MethodGet, front.URL+"/page", nil)
			// What a client may forge about where it comes from.
			req.Header.Set("X-Forwarded-For", "1.2.3.4")
			req.Header.Set("X-Forwarded-Proto", "gopher")
			req.Header.Set("X-Forwarded-Host", "evil.example")
			req.Header.Set("Forwarded", "for=1.2.3.4")
			req.Header.Set("X-Real-IP", "1.2.3.4")
			req.Header.Set("CF-Connecting-IP", "1.2.3.4")
			req.Header.Set("True-Client-IP", "1.2.3.4")
			req.Header.Set("X-Middleware-Subrequest", "middleware")
			// What the pipeline verified and set: passed on unchanged.
			req.Header.Set("X-Auth-User", "eyJpZCI6MX0=")
			req.Header.Set("X-Auth-Token-Type", "user")
			req.Header.Set("X-Request-ID", "req-1")
			req.Header.Set("Cookie", "userAuthToken=fresh")

			s, _ := getSeen(t, req)
			wantHost := tc.wantHost
			if wantHost == "" {
				wantHost = strings.TrimPrefix(front.URL, "http://")
			}
			want := map[string]string{
				"X-Forwarded-For":         tc.wantFor,
				"X-Real-Ip":               tc.wantFor,
				"X-Forwarded-Proto":       tc.wantProto,
				"X-Forwarded-Host":        wantHost,
				"Forwarded":               "",
				"Cf-Connecting-Ip":        "",
				"True-Client-Ip":          "",
				"X-Middleware-Subrequest": "",
				"X-Auth-User":             "eyJpZCI6MX0=",
				"X-Auth-Token-Type":       "user",
				"X-Request-Id":            "req-1",
				"Cookie":                  "userAuthToken=fresh",
			}
			for k, v := range want {
				if got := strings.Join(s.Header.Values(k), ", "); got != v {
					t.Errorf("web app got %s %q, want %q", k, got, v)
				}
			}
			if appHost := strings.TrimPrefix(appSrv.URL, "http://"); s.Host != appHost {
				t.Errorf("web app got Host %q, want its own %q", s.Host, appHost)
			}
		})
	}
}

func TestUpstreamResponseHeaders(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Auth-User", "eyJpZCI6MX0=")
		h.Set("X-Refreshed-Token", "secret-token")
		h.Add("Set-Cookie", "a=1; Path=/; HttpOnly")
		h.Add("Set-Cookie", "b=2; Path=/")
		h.Set("X-App", "kept")
		io.WriteString(w, "ok")
	})
	_, front, _ := startUpstream(t, app, "", UpstreamOptions{})
	res, err := http.Get(front.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)

	for _, k := range []string{"X-Auth-User", "X-Refreshed-Token"} {
		if v, ok := res.Header[k]; ok {
			t.Errorf("browser received %s %q", k, v)
		}
	}
	if got := res.Header.Get("X-App"); got != "kept" {
		t.Errorf("X-App = %q, want kept", got)
	}
	got := res.Header.Values("Set-Cookie")
	want := []string{"a=1; Path=/; HttpOnly", "b=2; Path=/"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Set-Cookie = %q, want %q", got, want)
	}
}

func TestUpstreamTrailers(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Auth-User, X-Checksum")
		io.WriteString(w, "body")
		w.Header().Set("X-Auth-User", "eyJpZCI6MX0=")
		w.Header().Set("X-Checksum", "abc")
		w.Header().Set(http.TrailerPrefix+"X-Refreshed-Token", "secret-token") // undeclared
	})
	_, front, _ := startUpstream(t, app, "", UpstreamOptions{})
	res, err := http.Get(front.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if body, err := io.ReadAll(res.Body); err != nil || string(body) != "body" {
		t.Fatalf("body = %q, %v", body, err)
	}
	if got := res.Trailer.Get("X-Checksum"); got != "abc" {
		t.Errorf("trailer X-Checksum = %q, want abc", got)
	}
	for _, k := range []string{"X-Auth-User", "X-Refreshed-Token"} {
		if v := res.Trailer.Get(k); v != "" {
			t.Errorf("browser received trailer %s %q", k, v)
		}
	}
}

// closedURL returns the URL of a loopback port nobody listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestUpstreamFailures(t *testing.T) {
	const timeout = 50 * time.Millisecond
	tests := []struct {
		name     string
		setup    func(t *testing.T) string // returns the upstream URL
		want     int
		wantText string
	}{
		{
			name:     "closed port is 502",
			setup:    closedURL,
			want:     http.StatusBadGateway,
			wantText: msgUnreachable,
		},
		{
			name: "no response headers within Timeout is 504",
			setup: func(t *testing.T) string {
				release := make(chan struct{})
				app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-release:
					case <-r.Context().Done():
					}
				}))
				t.Cleanup(app.Close)
				t.Cleanup(func() { close(release) }) // runs before app.Close
				return app.URL
			},
			want:     http.StatusGatewayTimeout,
			wantText: msgTimeout,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := NewUpstream(UpstreamOptions{URL: tc.setup(t), Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close()
			front := httptest.NewServer(u)
			defer front.Close()

			res, err := http.Get(front.URL + "/page")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Errorf("status = %d, want %d", res.StatusCode, tc.want)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q, want an HTML page", ct)
			}
			if !strings.Contains(string(body), tc.wantText) {
				t.Errorf("body %q does not say %q", body, tc.wantText)
			}
			for _, leak := range []string{"dial", "refused", "127.0.0.1", "timeout awaiting", "net/http"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("body leaks error text %q: %s", leak, body)
				}
			}
		})
	}
}

func TestUpstreamClientGoneIs499(t *testing.T) {
	called := make(chan struct{}, 1)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called <- struct{}{} })
	u, _, _ := startUpstream(t, app, "", UpstreamOptions{})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/page", nil)
	rec := httptest.NewRecorder()
	u.ServeHTTP(rec, req)

	if rec.Code != StatusClientClosedRequest {
		t.Errorf("status = %d, want %d", rec.Code, StatusClientClosedRequest)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("body = %q, want none", rec.Body.String())
	}
	select {
	case <-called:
		t.Error("the web app was called for a client that had gone")
	default:
	}
}

func TestUpstreamLongBodyOutlivesTimeout(t *testing.T) {
	const timeout = 50 * time.Millisecond
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first,")
		http.NewResponseController(w).Flush()
		// The body takes longer than Timeout: only the wait for headers
		// is bounded. (Real time must pass here: that is what is tested.)
		select {
		case <-time.After(4 * timeout):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "second")
	})
	_, front, _ := startUpstream(t, app, "", UpstreamOptions{Timeout: timeout})
	res, err := http.Get(front.URL + "/download")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	if res.StatusCode != http.StatusOK || string(body) != "first,second" {
		t.Errorf("got %d %q, want 200 %q", res.StatusCode, body, "first,second")
	}
}

func TestUpstreamServerSentEvents(t *testing.T) {
	next := make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-Refreshed-Token", "secret-token")
		rc := http.NewResponseController(w)
		for i := range 3 {
			fmt.Fprintf(w, "id: %d\ndata: event %d\n\n", i, i)
			rc.Flush()
			select {
			case <-next: // the test has received event i
			case <-r.Context().Done():
				return
			}
		}
	})
	_, front, _ := startUpstream(t, app, "", UpstreamOptions{Timeout: 50 * time.Millisecond})

	// The deadline turns a proxy that buffers (and so deadlocks with the
	// app waiting for us) into a failure instead of a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, front.URL+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, ok := res.Header["X-Refreshed-Token"]; ok {
		t.Error("browser received X-Refreshed-Token")
	}
	br := bufio.NewReader(res.Body)
	for i := range 3 {
		var event strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("event %d: %v (so far %q)", i, err, event.String())
			}
			if line == "\n" {
				break
			}
			event.WriteString(line)
		}
		if want := fmt.Sprintf("id: %d\ndata: event %d\n", i, i); event.String() != want {
			t.Fatalf("event %d = %q, want %q", i, event.String(), want)
		}
		next <- struct{}{}
	}
	if rest, _ := io.ReadAll(br); len(rest) != 0 {
		t.Errorf("unexpected data after the last event: %q", rest)
	}
}

// upgradeApp is a minimal WebSocket-like server: it switches protocols
// with net/http's Hijack and echoes lines back, prefixed with "echo: ".
func upgradeApp(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("app hijack: %v", err)
			return
		}
		defer conn.Close()
		io.WriteString(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Auth-User: eyJpZCI6MX0=\r\nX-Seen-Forwarded-For: "+r.Header.Get("X-Forwarded-For")+"\r\n\r\n")
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString("echo: " + line)
			brw.Flush()
		}
	})
}

func TestUpstreamWebSocket(t *testing.T) {
	_, front, _ := startUpstream(t, upgradeApp(t), "", UpstreamOptions{Timeout: 50 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) // a failure, not a hang

	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: gateway.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the handshake: %v", err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status = %d, want 101", res.StatusCode)
	}
	if _, ok := res.Header["X-Auth-User"]; ok {
		t.Error("browser received X-Auth-User on the 101")
	}
	if got := res.Header.Get("X-Seen-Forwarded-For"); got != "127.0.0.1" {
		t.Errorf("app saw X-Forwarded-For %q, want 127.0.0.1", got)
	}
	for _, msg := range []string{"hello\n", "world\n"} {
		io.WriteString(conn, msg)
		got, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("echo of %q: %v", msg, err)
		}
		if got != "echo: "+msg {
			t.Errorf("echo = %q, want %q", got, "echo: "+msg)
		}
	}
}

func TestUpstreamClientDisconnectMidResponse(t *testing.T) {
	started := make(chan struct{})
	appDone := make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(appDone)
		io.WriteString(w, "chunk\n")
		http.NewResponseController(w).Flush()
		close(started)
		<-r.Context().Done() // the gateway must cancel us when the client leaves
	})
	appSrv := httptest.NewServer(app)
	defer appSrv.Close()
	var logs bytes.Buffer // written under slog's lock, read after the handler returned
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	u, err := NewUpstream(UpstreamOptions{URL: appSrv.URL, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	handlerDone := make(chan any, 1)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { handlerDone <- recover() }()
		u.ServeHTTP(w, r)
	}))
	defer front.Close()

	baseline := runtime.NumGoroutine()

	conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /stream HTTP/1.1\r\nHost: gateway.test\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || line != "chunk\n" {
		t.Fatalf("first chunk = %q, %v", line, err)
	}
	<-started
	conn.Close()

	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not happen", what)
		}
	}
	wait(appDone, "the web app's request being canceled")
	select {
	case v := <-handlerDone:
		if v != nil {
			t.Fatalf("the upstream handler panicked: %v", v)
		}
		if !strings.Contains(logs.String(), "client gone mid-response") {
			t.Errorf("the abort was not recognised as a client gone; log:\n%s", logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream handler did not return")
	}

	u.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			var sb strings.Builder
			pprof.Lookup("goroutine").WriteTo(&sb, 1)
			t.Fatalf("%d goroutines remain, baseline %d:\n%s", runtime.NumGoroutine(), baseline, sb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestUpstreamAppBreaksMidBodyAborts(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "only ten b")
		http.NewResponseController(w).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close() // 90 bytes short
		}
	})
	appSrv := httptest.NewServer(app)
	defer appSrv.Close()
	u, err := NewUpstream(UpstreamOptions{URL: appSrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	recovered := make(chan any, 1)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			recovered <- v
			if v != nil {
				panic(v) // let net/http abort the connection
			}
		}()
		u.ServeHTTP(w, r)
	}))
	defer front.Close()

	// The response is cut: before its headers (they were still buffered)
	// or in its body, never completed with a short body.
	res, err := http.Get(front.URL + "/")
	if err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	if err == nil {
		t.Error("the client read a complete response from a broken one")
	}
	if v := <-recovered; v != http.ErrAbortHandler {
		t.Errorf("recovered %v, want http.ErrAbortHandler so the server aborts the response", v)
	}
}

func TestNewUpstreamErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts UpstreamOptions
		want string
	}{
		{"neither", UpstreamOptions{}, "one of url and static is required"},
		{"both", UpstreamOptions{URL: "http://127.0.0.1:3000", Static: dir}, "mutually exclusive"},
		{"bad scheme", UpstreamOptions{URL: "ftp://127.0.0.1"}, "scheme must be http or https"},
		{"relative", UpstreamOptions{URL: "/app"}, "scheme must be http or https"},
		{"no host", UpstreamOptions{URL: "http:///app"}, "host is missing"},
		{"query", UpstreamOptions{URL: "http://127.0.0.1:3000/?a=1"}, "query and fragment"},
		{"unparsable, secret not echoed", UpstreamOptions{URL: "http://user:s3cret@[::1"}, "not a valid URL"},
		{"static missing", UpstreamOptions{Static: filepath.Join(dir, "nope")}, "no such file"},
		{"static is a file", UpstreamOptions{Static: file}, "is not a folder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := NewUpstream(tc.opts)
			if err == nil {
				u.Close()
				t.Fatal("NewUpstream succeeded, want an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "proxy: upstream") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want prefix %q and %q", msg, "proxy: upstream", tc.want)
			}
			if strings.Contains(msg, "s3cret") {
				t.Errorf("error leaks the URL's password: %q", msg)
			}
		})
	}
}

func TestUpstreamCloseIsIdempotent(t *testing.T) {
	u, front, _ := startUpstream(t, echoApp(), "", UpstreamOptions{})
	res, err := http.Get(front.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	for i := range 2 {
		if err := u.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	// The pool is empty, not broken: the next request dials again.
	res, err = http.Get(front.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("status after Close = %d, want 200", res.StatusCode)
	}
}

func BenchmarkUpstream(b *testing.B) {
	page := []byte(strings.Repeat("<p>apilayer</p>\n", 128)) // 2 KiB
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	u, _, _ := startUpstream(b, app, "", UpstreamOptions{})
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/dashboard?tab=1", nil)
		rec := httptest.NewRecorder()
		u.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.Len() != len(page) {
			b.Fatalf("got %d with %d bytes", rec.Code, rec.Body.Len())
		}
	}
}

// A web app that switches to h2c whenever a request asks, without the
// HTTP2-Settings checks of careful servers: the page proxy must not let a
// client reach it over a tunnel that skips the gateway. The request is
// forwarded as plain HTTP/1.1.
func TestUpstreamUpgradeOnlyWebSocket(t *testing.T) {
	seen := make(chan http.Header, 1)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		if strings.EqualFold(r.Header.Get("Upgrade"), "h2c") {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
			brw.Flush()
			return
		}
		io.WriteString(w, "plain")
	})
	_, front, _ := startUpstream(t, app, "", UpstreamOptions{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) // a failure, not a hang
	io.WriteString(conn, "GET /admin HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "plain" {
		t.Fatalf("answer %d %q, want 200 \"plain\" from a plain request", res.StatusCode, body)
	}
	got := <-seen
	for _, k := range []string{"Upgrade", "Connection", "Http2-Settings"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s forwarded (%q)", k, v)
		}
	}
}

// closeCounter is a caller's transport that counts CloseIdleConnections.
type closeCounter struct {
	http.RoundTripper
	closed int
}

func (c *closeCounter) CloseIdleConnections() { c.closed++ }

// A Transport you pass is yours to close: Close leaves it alone, on both
// proxies.
func TestCloseLeavesTheCallersTransport(t *testing.T) {
	rt := &closeCounter{RoundTripper: http.DefaultTransport}
	u, err := NewUpstream(UpstreamOptions{URL: "http://127.0.0.1:1", Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAPI(APIOptions{Backend: "http://127.0.0.1:1/", Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	u.Close()
	a.Close()
	if rt.closed != 0 {
		t.Errorf("Close closed the caller's transport's connections %d times", rt.closed)
	}
}
