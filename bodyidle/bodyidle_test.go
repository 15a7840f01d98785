package bodyidle_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/bodyidle"
)

// limit bounds every wait of these tests on a real socket: a test that
// hangs fails after it instead of blocking the run. It is not a measured
// duration.
const limit = 20 * time.Second

// echoLen answers 200 with the number of body bytes read, or 502 (as the
// API proxy answers a failed upstream write) when the read failed. Each
// read is reported on reads, when not nil, before the next one starts;
// between reads the handler waits for pause.
func echoLen(reads chan<- int, pause <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := 0
		buf := make([]byte, 1)
		for {
			k, err := r.Body.Read(buf)
			n += k
			if k > 0 && reads != nil {
				reads <- n
				if pause != nil {
					<-pause
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, "upstream write failed: "+err.Error(), http.StatusBadGateway)
				return
			}
		}
		fmt.Fprintf(w, "read %d", n)
	}
}

// server starts h behind the middleware on a real HTTP/1.1 server.
func server(t *testing.T, o bodyidle.Options, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(bodyidle.Middleware(o)(h))
	srv.Config.ReadTimeout = o.ReadTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// dial opens a raw TCP connection to srv, closed by the test's cleanup.
func dial(t *testing.T, srv *httptest.Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(limit))
	return c
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// A body that stops arriving for longer than the timeout ends the upload:
// 408 with the JSON message, whatever the handler would have answered, and
// the connection is closed (what remains on the wire is not a request).
func TestStallAnswers408(t *testing.T) {
	srv := server(t, bodyidle.Options{Timeout: 50 * time.Millisecond}, echoLen(nil, nil))
	c := dial(t, srv)
	write(t, c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":")
	// The client stalls here, until the test ends and closes c.
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no response to a stalled upload: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d (%s), want 408", res.StatusCode, body)
	}
	var got struct {
		Success *bool  `json:"success"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &got); err != nil || got.Success == nil || *got.Success || got.Message != "Request timeout." {
		t.Fatalf("body %q, want {\"success\":false,\"message\":\"Request timeout.\"}", body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if !res.Close {
		t.Error("the connection is kept open after a cut upload")
	}
}

// The 408 keeps the cookies the handler had set (a refreshed session must
// not be lost), and 1xx responses sent before it pass through.
func TestStallKeepsCookiesAndEarlyHints(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		http.SetCookie(w, &http.Cookie{Name: "userAuthToken", Value: "new"})
		w.Header().Set("Content-Encoding", "gzip")
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}
	})
	srv := server(t, bodyidle.Options{Timeout: 50 * time.Millisecond}, h)
	c := dial(t, srv)
	write(t, c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	br := bufio.NewReader(c)
	hints, err := http.ReadResponse(br, nil)
	if err != nil || hints.StatusCode != http.StatusEarlyHints {
		t.Fatalf("first response: %v %v, want 103", hints, err)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", res.StatusCode)
	}
	if got := res.Header.Get("Set-Cookie"); got != "userAuthToken=new" {
		t.Errorf("Set-Cookie %q, want the handler's cookie kept", got)
	}
	if got := res.Header.Get("Content-Encoding"); got != "" {
		t.Errorf("Content-Encoding %q kept on the JSON 408", got)
	}
}

// A slow upload that never stops for the timeout completes, however long
// it takes in all: the client sends one byte at a time, each only after
// the handler read the previous one, and the handler pauses between reads
// for more than the whole timeout in total.
func TestSteadySlowUploadCompletes(t *testing.T) {
	const timeout = 300 * time.Millisecond
	const size = 8
	reads, pause := make(chan int), make(chan struct{})
	srv := server(t, bodyidle.Options{Timeout: timeout}, echoLen(reads, pause))
	c := dial(t, srv)
	write(t, c, fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size))
	for i := 1; i <= size; i++ {
		write(t, c, "x")
		select {
		case n := <-reads:
			if n != i {
				t.Fatalf("handler read %d bytes, want %d", n, i)
			}
		case <-time.After(limit):
			t.Fatalf("byte %d never read", i)
		}
		if i < size {
			// The next byte is written before the handler reads again, so
			// no read ever waits; together the pauses outlast the timeout,
			// which a deadline set once for the whole body would not allow.
			time.Sleep(timeout / 4)
		}
		pause <- struct{}{}
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != fmt.Sprintf("read %d", size) {
		t.Fatalf("status %d, body %q; want 200 %q", res.StatusCode, body, fmt.Sprintf("read %d", size))
	}
}

// Once the body is in, the handler may run longer than the timeout, and
// read the body again: no deadline is left to cancel its request (HTTP/1
// reads ahead on the connection to notice a client that goes away).
func TestHandlerOutlivesTheTimeoutAfterTheBody(t *testing.T) {
	const timeout = 50 * time.Millisecond
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		r.Body.Read(make([]byte, 1)) // once more, as the transport does
		select {
		case <-r.Context().Done():
			http.Error(w, "cancelled", http.StatusServiceUnavailable)
		case <-time.After(4 * timeout):
			io.WriteString(w, "done")
		}
	})
	srv := server(t, bodyidle.Options{Timeout: timeout}, h)
	res, err := srv.Client().Post(srv.URL, "text/plain", strings.NewReader("abc"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "done" {
		t.Fatalf("%d %q: the request was cancelled after its body was read", res.StatusCode, body)
	}
}

// When the response has started, a stall cannot become a 408: the
// connection is closed after the response instead.
func TestStallAfterResponseStartedClosesTheConnection(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		http.NewResponseController(w).Flush()
		if _, err := io.ReadAll(r.Body); err == nil {
			t.Error("the stalled body was read without an error")
		}
	})
	srv := server(t, bodyidle.Options{Timeout: 50 * time.Millisecond}, h)
	c := dial(t, srv)
	write(t, c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d, want the handler's 202", res.StatusCode)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the response: %v, want the connection closed (EOF)", err)
	}
}

// The same with full duplex, where net/http itself would keep the
// connection.
func TestStallFullDuplexClosesTheConnection(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
			t.Error(err)
		}
		w.WriteHeader(http.StatusAccepted)
		http.NewResponseController(w).Flush()
		if _, err := io.ReadAll(r.Body); err == nil {
			t.Error("the stalled body was read without an error")
		}
	})
	srv := server(t, bodyidle.Options{Timeout: 50 * time.Millisecond}, h)
	c := dial(t, srv)
	write(t, c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d, want the handler's 202", res.StatusCode)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the response: %v, want the connection closed (EOF)", err)
	}
}

// server.readTimeout bounds the whole upload: the idle timeout never
// pushes the read deadline past it, and its expiry is a 408 too.
func TestReadTimeoutCapsTheDeadline(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	reads, pause := make(chan int), make(chan struct{})
	srv := server(t, bodyidle.Options{Timeout: time.Hour, ReadTimeout: readTimeout}, echoLen(reads, pause))
	c := dial(t, srv)
	write(t, c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n")
	write(t, c, "x")
	<-reads
	time.Sleep(readTimeout) // more than the whole request may take
	write(t, c, "y")
	pause <- struct{}{}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408 once server.readTimeout passed", res.StatusCode)
	}
}

// With only server.readTimeout (bodyIdleTimeout 0), its expiry during the
// body is answered 408 too.
func TestReadTimeoutAloneAnswers408(t *testing.T) {
	srv := server(t, bodyidle.Options{ReadTimeout: 50 * time.Millisecond}, echoLen(nil, nil))
	c := dial(t, srv)
	write(t, c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", res.StatusCode)
	}
}

// Over HTTP/2 the deadline is the stream's: a stalled body gets its 408
// and the connection keeps serving.
func TestStallHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(bodyidle.Middleware(bodyidle.Options{Timeout: 50 * time.Millisecond})(echoLen(nil, nil)))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.Timeout = limit

	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() }) // releases the stalled body
	go pw.Write([]byte(`{"a":`))
	req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/upload", pr)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.ProtoMajor != 2 || res.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "Request timeout.") {
		t.Fatalf("HTTP/%d %d %q, want HTTP/2 408 with the JSON message", res.ProtoMajor, res.StatusCode, body)
	}
	res, err = client.Post(srv.URL+"/upload", "text/plain", strings.NewReader("abc"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "read 3" {
		t.Fatalf("next request: %d %q", res.StatusCode, body)
	}
}

// Requests without a body reach the handler untouched: the same
// ResponseWriter and Request.
func TestNoBodyUntouched(t *testing.T) {
	var inner http.ResponseWriter
	var innerReq *http.Request
	h := bodyidle.Middleware(bodyidle.Options{Timeout: time.Second})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner, innerReq = w, r
	}))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	h.ServeHTTP(w, r)
	if inner != w || innerReq != r {
		t.Error("a request without a body was wrapped")
	}
}

// A zero Options is no middleware at all.
func TestZeroOptions(t *testing.T) {
	next := http.NotFoundHandler()
	if got := bodyidle.Middleware(bodyidle.Options{})(next); fmt.Sprint(got) != fmt.Sprint(next) {
		t.Error("Middleware(Options{}) wrapped the handler")
	}
}

func BenchmarkMiddleware(b *testing.B) {
	h := bodyidle.Middleware(bodyidle.Options{Timeout: 30 * time.Second})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	w := httptest.NewRecorder()
	b.Run("no body", func(b *testing.B) {
		r := httptest.NewRequest("GET", "/", nil)
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
	b.Run("body", func(b *testing.B) {
		body := strings.NewReader(`{"a":1}`)
		r := httptest.NewRequest("POST", "/", body) // ContentLength 7
		b.ReportAllocs()
		for b.Loop() {
			body.Reset(`{"a":1}`)
			h.ServeHTTP(w, r)
		}
	})
}
