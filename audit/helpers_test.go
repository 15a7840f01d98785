package audit_test

import (
	"bytes"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a writer the Logger's goroutine and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var ts = time.Date(2026, 11, 26, 20, 1, 2, 345_678_901, time.UTC)

func fixedNow() time.Time { return ts }

// within fails the test if ch does not deliver within a generous bound. It
// is a safety net against a hang, not a timing assertion.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
