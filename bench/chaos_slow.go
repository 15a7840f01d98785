package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// A slow-body client sends its request headers and the start of an upload,
// a few more chunks each within server.bodyIdleTimeout of the last, then
// stalls. The gateway must end it (408 Request timeout., or the connection
// closed once a response has begun) about bodyIdleTimeout after its last
// byte: not before (it was alive until then), and not long after.

// slowUpload describes one slow-body client.
type slowUpload struct {
	path    string // /api/upload (proxied) or /api/auth/login (read by the gateway)
	chunked bool
	chunks  int // chunks sent, bodyIdle/2 apart, before the stall
}

// slowResult is what happened to one slow-body client.
type slowResult struct {
	up      slowUpload
	outcome string        // "408", "closed", or what went wrong
	after   time.Duration // from the last byte sent to the end
	ok      bool
	err     string
}

// slowSlack is how long past bodyIdleTimeout a stalled upload may still be
// open: the gateway checks it on a read deadline, and the machine is shared.
const slowSlack = 5 * time.Second

// slowClient runs one slow-body client against addr (host:port) with the
// cookie of a valid session, from ip.
func slowClient(ctx context.Context, addr, cookie, ip string, up slowUpload) slowResult {
	res := slowResult{up: up}
	c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		res.outcome, res.err = "dial", err.Error()
		return res
	}
	defer c.Close()
	chunk := strings.Repeat("a", 16)
	body := `{"username":"slow","password":"` + strings.Repeat("x", 1000) + `"}`
	length := len(body)
	if up.path == "/api/upload" {
		length = 100_000
	}
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: chaos-slow-client\r\nX-Forwarded-For: %s\r\nCookie: %s\r\nContent-Type: application/json\r\n",
		up.path, addr, ip, cookie)
	if up.chunked {
		head.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	} else {
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", length)
	}
	ended := make(chan string, 1)
	go func() { ended <- readEnd(c) }()
	send := func(b string) error {
		if up.chunked {
			b = fmt.Sprintf("%x\r\n%s\r\n", len(b), b)
		}
		_, err := io.WriteString(c, b)
		return err
	}
	if _, err := io.WriteString(c, head.String()); err != nil {
		res.outcome, res.err = "write", err.Error()
		return res
	}
	var last time.Time
	for i := 0; i <= up.chunks; i++ {
		if i > 0 {
			select {
			case o := <-ended:
				res.outcome, res.after = "ended early: "+o, time.Since(last)
				return res
			case <-time.After(chaosBodyIdle / 2):
			}
		}
		if err := send(chunk); err != nil {
			res.outcome, res.err = "write", err.Error()
			return res
		}
		last = time.Now()
	}
	select {
	case o := <-ended:
		res.after = time.Since(last)
		res.outcome = o
		res.ok = (o == "408" || o == "closed") && res.after >= chaosBodyIdle/2 && res.after <= chaosBodyIdle+slowSlack
	case <-time.After(chaosBodyIdle + slowSlack + time.Second):
		res.outcome, res.after = "still open", time.Since(last)
	case <-ctx.Done():
		res.outcome = "cut by the end of the run"
	}
	return res
}

// readEnd waits for the gateway's answer or the end of the connection:
// "408" for a 408 with the gateway's message, "closed" for a connection
// closed without an answer, else the status and message.
func readEnd(c net.Conn) string {
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "closed"
	}
	defer res.Body.Close()
	var v struct {
		Message string `json:"message"`
	}
	json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&v)
	if res.StatusCode == http.StatusRequestTimeout && v.Message == msgRequestTimeout {
		return "408"
	}
	return fmt.Sprintf("%d %q", res.StatusCode, v.Message)
}

// slowClients runs n slow-body clients at once over the gateways (addrs),
// with the cookies of valid sessions, and returns their results.
func slowClients(ctx context.Context, n int, addrs, cookies []string) []slowResult {
	kinds := []slowUpload{
		{path: "/api/upload", chunks: 2},
		{path: "/api/auth/login", chunks: 2},
		{path: "/api/upload", chunked: true, chunks: 1},
		{path: "/api/auth/login", chunked: true, chunks: 0},
	}
	out := make([]slowResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out[i] = slowClient(ctx, addrs[i%len(addrs)], cookies[i%len(cookies)], userIP(200, i), kinds[i%len(kinds)])
		})
	}
	wg.Wait()
	return out
}
