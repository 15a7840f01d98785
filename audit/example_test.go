package audit_test

import (
	"crypto/hmac"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/apilayer/apilayer/audit"
)

func ExampleLogger() {
	l, err := audit.New(audit.Options{
		Events: []string{audit.TypeAuthFail, audit.TypeRateLimitExceeded},
		Output: "stdout",
		Stdout: os.Stdout,
		Now:    func() time.Time { return time.Date(2026, 11, 26, 20, 1, 2, 345e6, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	l.Emit(audit.Event{
		Type: audit.TypeAuthFail, IP: "192.0.2.7", Path: "/dashboard", Method: "GET",
		RequestID: "req-1", Metadata: map[string]any{"reason": "invalid-token"},
	})
	l.Emit(audit.Event{Type: audit.TypeAuthSuccess, UserID: "42"}) // not enabled: ignored
	l.Close()                                                      // flushes the queue
	// Output:
	// {"type":"auth:fail","timestamp":"2026-11-26T20:01:02.345Z","ip":"192.0.2.7","path":"/dashboard","method":"GET","success":false,"requestId":"req-1","metadata":{"reason":"invalid-token"}}
}

// A webhook receiver checks the signature before trusting a batch.
func ExampleSign() {
	secret := []byte("webhook-secret")
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ok := hmac.Equal([]byte(r.Header.Get(audit.SignatureHeader)), []byte(audit.Sign(secret, body)))
		fmt.Println("signature valid:", ok)
	}))
	defer receiver.Close()

	l, err := audit.New(audit.Options{Output: receiver.URL, WebhookSecret: string(secret)})
	if err != nil {
		panic(err)
	}
	l.Emit(audit.Event{Type: audit.TypeAuthReuse, Path: "/api/orders"})
	l.Close()
	// Output:
	// signature valid: true
}
