package testkit

import (
	"context"
	"log"
	"log/slog"
	"sync"
	"testing"
)

// DefaultLog makes the default slog.Logger record the messages logged to
// it, until the test ends, and returns the messages recorded so far. It
// restores the default logger and the log package's output and flags
// (which slog.SetDefault changes). A test that calls it must not run in
// parallel with others.
func DefaultLog(t testing.TB) func() []string {
	t.Helper()
	prev, out, flags := slog.Default(), log.Writer(), log.Flags()
	h := &messages{}
	slog.SetDefault(slog.New(h))
	t.Cleanup(func() {
		slog.SetDefault(prev)
		log.SetOutput(out)
		log.SetFlags(flags)
	})
	return h.list
}

// messages is a slog.Handler that keeps the message of every record.
type messages struct {
	mu   sync.Mutex
	msgs []string // guarded by mu
}

func (h *messages) Enabled(context.Context, slog.Level) bool { return true }
func (h *messages) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *messages) WithGroup(string) slog.Handler            { return h }

func (h *messages) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.msgs = append(h.msgs, r.Message)
	h.mu.Unlock()
	return nil
}

func (h *messages) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.msgs...)
}
