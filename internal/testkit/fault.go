package testkit

import (
	"fmt"
	"net/http"
	"time"
)

// Fault is how the test backend misbehaves on an endpoint. Use the values
// None, Hang, NotJSON and WrongShape, or Status and Delay.
type Fault struct {
	kind    faultKind
	status  int
	delay   time.Duration
	release <-chan struct{}
}

type faultKind int

const (
	faultNone faultKind = iota
	faultStatus
	faultHang
	faultNotJSON
	faultWrongShape
	faultDelay
	faultBlock
)

var (
	// None answers normally.
	None = Fault{}
	// Hang never answers: the handler blocks until the request's context
	// ends (the client gave up) or the test ends, then drops the connection.
	Hang = Fault{kind: faultHang}
	// NotJSON answers 200 with an HTML body.
	NotJSON = Fault{kind: faultNotJSON}
	// WrongShape answers 200 with JSON that matches none of the default
	// mappings: no success, no data, no token.
	WrongShape = Fault{kind: faultWrongShape}
)

// Status answers code with {"success":false,"message":"Injected fault."}.
func Status(code int) Fault { return Fault{kind: faultStatus, status: code} }

// Delay waits d (or until the request's context ends, or the test ends),
// then answers normally.
func Delay(d time.Duration) Fault { return Fault{kind: faultDelay, delay: d} }

// Block holds each request until release is closed (or the request's
// context ends, or the test ends), then answers normally. It lets a test
// gather concurrent requests at the backend before any is answered.
func Block(release <-chan struct{}) Fault { return Fault{kind: faultBlock, release: release} }

// String describes f, for test names.
func (f Fault) String() string {
	switch f.kind {
	case faultStatus:
		return fmt.Sprintf("Status(%d)", f.status)
	case faultHang:
		return "Hang"
	case faultNotJSON:
		return "NotJSON"
	case faultWrongShape:
		return "WrongShape"
	case faultDelay:
		return fmt.Sprintf("Delay(%s)", f.delay)
	case faultBlock:
		return "Block"
	default:
		return "None"
	}
}

// apply carries out f. It reports whether the request was answered (or
// abandoned) and must not reach the demo backend. done is closed when the
// test ends.
func (f Fault) apply(w http.ResponseWriter, r *http.Request, done <-chan struct{}) bool {
	switch f.kind {
	case faultStatus:
		if f.status == http.StatusTooManyRequests || f.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		writeBody(w, f.status, "application/json", `{"success":false,"message":"Injected fault."}`)
		return true
	case faultHang:
		select {
		case <-r.Context().Done():
			return true
		case <-done:
			panic(http.ErrAbortHandler) // drop the connection: the test is over
		}
	case faultNotJSON:
		writeBody(w, http.StatusOK, "text/html; charset=utf-8", "<!doctype html><title>Oops</title><p>Not JSON.</p>")
		return true
	case faultWrongShape:
		writeBody(w, http.StatusOK, "application/json", `{"ok":true,"result":{"token":42,"user":"alice"}}`)
		return true
	case faultDelay:
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
			return true
		case <-done:
			panic(http.ErrAbortHandler)
		}
	case faultBlock:
		select {
		case <-f.release:
			return false
		case <-r.Context().Done():
			return true
		case <-done:
			panic(http.ErrAbortHandler)
		}
	}
	return false
}

func writeBody(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write([]byte(body + "\n"))
}
