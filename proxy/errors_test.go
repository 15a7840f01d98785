package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
)

// timeoutError is a net.Error that timed out, as the transport's
// "timeout awaiting response headers".
type timeoutError struct{}

func (timeoutError) Error() string   { return "timeout awaiting response headers" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassifyError(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	<-expired.Done()

	dialTimeout := &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}
	tests := []struct {
		name   string
		ctx    context.Context
		err    error
		want   Failure
		status int
	}{
		{"connection refused", nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, FailureUnreachable, 502},
		{"dial timeout is unreachable", nil, dialTimeout, FailureUnreachable, 502},
		{"dns", nil, &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "app.internal", IsNotFound: true}}, FailureUnreachable, 502},
		{"bare dns", nil, &net.DNSError{Err: "no such host", IsTimeout: true}, FailureUnreachable, 502},
		{"reset", nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, FailureUnreachable, 502},
		{"eof", nil, errors.New("EOF"), FailureUnreachable, 502},
		{"nil error", nil, nil, FailureUnreachable, 502},
		{"response header timeout", nil, timeoutError{}, FailureTimeout, 504},
		{"wrapped header timeout", nil, fmt.Errorf("round trip: %w", timeoutError{}), FailureTimeout, 504},
		{"deadline exceeded", nil, context.DeadlineExceeded, FailureTimeout, 504},
		{"request deadline passed", expired, context.DeadlineExceeded, FailureTimeout, 504},
		{"client canceled", canceled, context.Canceled, FailureClientGone, 499},
		{"client canceled, any error", canceled, &net.OpError{Op: "read", Err: syscall.ECONNRESET}, FailureClientGone, 499},
		{"canceled error but live request", nil, context.Canceled, FailureUnreachable, 502},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
			got := ClassifyError(r, tc.err)
			if got != tc.want {
				t.Errorf("ClassifyError = %v, want %v", got, tc.want)
			}
			if got.Status() != tc.status {
				t.Errorf("Status = %d, want %d", got.Status(), tc.status)
			}
		})
	}
}

func TestFailureString(t *testing.T) {
	for f, want := range map[Failure]string{
		FailureClientGone:  "client gone",
		FailureTimeout:     "timeout",
		FailureUnreachable: "unreachable",
	} {
		if got := f.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(f), got, want)
		}
	}
}
