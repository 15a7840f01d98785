package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The response header timeout of both proxies (api.timeout,
// upstream.timeout) starts once the request body has been sent: a slow
// upload is not a slow backend.

// uploadServer reads a request body to its end, reporting each read on
// got and the end on done, then answers "done" at once, or, if answer is
// false, never (until the request is canceled or the test ends).
func uploadServer(t *testing.T, answer bool) (h http.Handler, got <-chan string, done <-chan struct{}) {
	gotc := make(chan string, 16)
	donec := make(chan struct{}, 16)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				gotc <- string(buf[:n])
			}
			if err != nil {
				break
			}
		}
		donec <- struct{}{}
		if !answer {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "done")
	}), gotc, donec
}

// timeoutProxy is one proxy under test, in front of a server, with its
// header timeout and, if clock is not nil, that clock.
type timeoutProxy struct {
	name string
	url  string // a path the proxy forwards
}

// timeoutProxies starts both proxies in front of h, with timeout; with a
// non-nil clock, their header timeouts run on it.
func timeoutProxies(t *testing.T, h http.Handler, timeout time.Duration, clock *apiFakeClock) []timeoutProxy {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	// With a clock, the proxies get a caller's transport: the header
	// timeout wrapper (whose clock a test sets) bounds it. Without, their
	// own transports' ResponseHeaderTimeout does.
	var rt http.RoundTripper
	if clock != nil {
		rt = callerTransport(t)
	}
	u, err := NewUpstream(UpstreamOptions{URL: srv.URL, Timeout: timeout, Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	a, err := NewAPI(APIOptions{Backend: srv.URL, Prefix: "/api", Timeout: timeout, Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if clock != nil {
		setTimeoutClock(t, u.proxy.Transport, clock)
		setTimeoutClock(t, a.rp.Transport, clock)
	}
	up := httptest.NewServer(u)
	t.Cleanup(up.Close)
	api := httptest.NewServer(a)
	t.Cleanup(api.Close)
	return []timeoutProxy{{"upstream", up.URL + "/upload"}, {"api", api.URL + "/api/upload"}}
}

func setTimeoutClock(t *testing.T, rt http.RoundTripper, clock *apiFakeClock) {
	t.Helper()
	ht, ok := rt.(*headerTimeout)
	if !ok {
		t.Fatalf("the proxy's transport is a %T, not the header timeout", rt)
	}
	ht.afterFunc = clock.AfterFunc
}

// startUpload posts a body written through the returned pipe writer and
// returns the answer's status and body on res.
func startUpload(t *testing.T, url string) (w *io.PipeWriter, res <-chan string) {
	pr, pw := io.Pipe()
	t.Cleanup(func() { pr.CloseWithError(io.ErrClosedPipe) }) // unblocks a writer the proxy gave up on
	resc := make(chan string, 1)
	go func() {
		r, err := http.Post(url, "application/octet-stream", pr)
		if err != nil {
			resc <- err.Error()
			return
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		resc <- r.Status + " " + string(b)
	}()
	return pw, resc
}

func TestHeaderTimeoutStartsAfterTheBody(t *testing.T) {
	t.Run("injected clock", func(t *testing.T) {
		h, got, _ := uploadServer(t, true)
		clock := &apiFakeClock{}
		for _, p := range timeoutProxies(t, h, time.Hour, clock) {
			t.Run(p.name, func(t *testing.T) {
				w, res := startUpload(t, p.url)
				io.WriteString(w, "first")
				if s := <-got; s != "first" {
					t.Fatalf("server got %q", s)
				}
				clock.Fire() // the timeout elapses while the client is still uploading
				go func() {
					io.WriteString(w, "second")
					w.Close()
				}()
				if r := <-res; r != "200 OK done" {
					t.Fatalf("answer %q, want the server's 200 done", r)
				}
				for len(got) > 0 { // the server read it all before answering
					<-got
				}
			})
		}
	})
	t.Run("real clock", func(t *testing.T) {
		const timeout = 200 * time.Millisecond
		h, _, _ := uploadServer(t, true)
		for _, p := range timeoutProxies(t, h, timeout, nil) {
			t.Run(p.name, func(t *testing.T) {
				w, res := startUpload(t, p.url)
				go func() {
					defer w.Close()
					// Three bytes, with more than the timeout between two.
					for i, b := range []string{"a", "b", "c"} {
						if i > 0 {
							<-time.After(timeout + timeout/4)
						}
						if _, err := io.WriteString(w, b); err != nil {
							return
						}
					}
				}()
				if r := <-res; r != "200 OK done" {
					t.Fatalf("answer %q, want the server's 200 done", r)
				}
			})
		}
	})
}

func TestHeaderTimeoutAfterACompleteBody(t *testing.T) {
	t.Run("injected clock", func(t *testing.T) {
		h, _, done := uploadServer(t, false)
		clock := &apiFakeClock{}
		for _, p := range timeoutProxies(t, h, time.Hour, clock) {
			t.Run(p.name, func(t *testing.T) {
				w, res := startUpload(t, p.url)
				io.WriteString(w, "all of it")
				w.Close()
				<-done
				clock.Fire() // the timeout elapses: the server never answers
				if r := <-res; !strings.HasPrefix(r, "504 ") {
					t.Fatalf("answer %q, want 504", r)
				}
			})
		}
	})
	t.Run("real clock", func(t *testing.T) {
		h, _, done := uploadServer(t, false)
		for _, p := range timeoutProxies(t, h, 20*time.Millisecond, nil) {
			t.Run(p.name, func(t *testing.T) {
				w, res := startUpload(t, p.url)
				io.WriteString(w, "all of it")
				w.Close()
				<-done
				if r := <-res; !strings.HasPrefix(r, "504 ") {
					t.Fatalf("answer %q, want 504", r)
				}
			})
		}
	})
}

// A transport the caller passes gets the page proxy's Timeout too.
func TestUpstreamTimeoutWithCallerTransport(t *testing.T) {
	release := make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(app.Close)
	t.Cleanup(func() { close(release) }) // runs before app.Close
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	u, err := NewUpstream(UpstreamOptions{URL: app.URL, Timeout: 20 * time.Millisecond, Transport: transport})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(u)
	t.Cleanup(front.Close)

	client := &http.Client{Timeout: 10 * time.Second} // a failure, not a hang
	res, err := client.Get(front.URL + "/page")
	if err != nil {
		t.Fatalf("no answer from the gateway: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(body), msgTimeout) {
		t.Fatalf("answer %d %q, want 504 with %q", res.StatusCode, body, msgTimeout)
	}
}

// callerTransport is a transport the test owns, as a caller passing
// UpstreamOptions.Transport or APIOptions.Transport does.
func callerTransport(t *testing.T) *http.Transport {
	rt := newTransport()
	t.Cleanup(rt.CloseIdleConnections)
	return rt
}
