package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
)

// streamSink writes one JSON event per line to w (standard output or
// error, or a file opened for appending).
type streamSink struct {
	w   io.Writer
	c   io.Closer // the file to close, if any
	buf bytes.Buffer
}

func (s *streamSink) send(_ context.Context, _ <-chan struct{}, events [][]byte) error {
	s.buf.Reset()
	for _, e := range events {
		s.buf.Write(e)
		s.buf.WriteByte('\n')
	}
	// One write per batch: lines are never interleaved with another
	// writer's output when w is a file opened with O_APPEND.
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	return nil
}

func (s *streamSink) close() error {
	if s.c == nil {
		return nil
	}
	if err := s.c.Close(); err != nil {
		return fmt.Errorf("audit: close output: %w", err)
	}
	return nil
}
