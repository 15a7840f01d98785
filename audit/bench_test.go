package audit_test

import (
	"io"
	"testing"

	"github.com/apilayer/apilayer/audit"
)

func BenchmarkLoggerEmit(b *testing.B) {
	l, err := audit.New(audit.Options{Stdout: io.Discard, Logger: discardLog()})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	e := audit.Event{
		Type: audit.TypeAuthFail, IP: "192.0.2.7", Path: "/dashboard", Method: "GET",
		RequestID: "req-1", Metadata: map[string]any{"reason": "invalid-token"},
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Emit(e)
		}
	})
}
