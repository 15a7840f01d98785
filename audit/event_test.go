package audit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/apilayer/apilayer/audit"
)

func TestEventJSON(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name string
		e    audit.Event
		want string
	}{
		{
			name: "every field",
			e: audit.Event{
				Type: audit.TypeAuthSuccess, Timestamp: ts, IP: "192.0.2.7", UserID: "42",
				Path: "/dashboard", Method: "GET", Success: true, RequestID: "req-1",
				Metadata: map[string]any{"tokenType": "user"},
			},
			want: `{"type":"auth:success","timestamp":"2026-11-26T20:01:02.345Z","ip":"192.0.2.7","userId":"42","path":"/dashboard","method":"GET","success":true,"requestId":"req-1","metadata":{"tokenType":"user"}}`,
		},
		{
			name: "empty optional fields left out",
			e:    audit.Event{Type: audit.TypeAuthFail, Timestamp: ts, Path: "/", Method: "POST"},
			want: `{"type":"auth:fail","timestamp":"2026-11-26T20:01:02.345Z","ip":"","path":"/","method":"POST","success":false}`,
		},
		{
			name: "timestamp in UTC with milliseconds",
			e:    audit.Event{Type: audit.TypeError, Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, paris)},
			want: `{"type":"error","timestamp":"2026-01-02T02:04:05.000Z","ip":"","path":"","method":"","success":false}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
			var back audit.Event
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !back.Timestamp.Equal(tc.e.Timestamp.Truncate(time.Millisecond)) || back.Type != tc.e.Type || back.UserID != tc.e.UserID {
				t.Errorf("round trip: %+v", back)
			}
		})
	}
}

func TestSign(t *testing.T) {
	// RFC 4231 test case 2.
	got := audit.Sign([]byte("Jefe"), []byte("what do ya want for nothing?"))
	want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}
