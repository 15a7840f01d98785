package audit_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/apilayer/apilayer/audit"
)

// roundTripper answers webhook requests in memory, so the tests below run in
// a synctest bubble (fake time, no sockets).
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func status(code int) (*http.Response, error) {
	return &http.Response{StatusCode: code, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}}, nil
}

// attemptClient records the fake time of each attempt on the returned
// channel and answers with answer.
func attemptClient(answer func(*http.Request) (*http.Response, error)) (*http.Client, <-chan time.Time) {
	at := make(chan time.Time, 100)
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		at <- time.Now()
		return answer(r)
	})}, at
}

func TestWebhookBackoffSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, attempts := attemptClient(func(*http.Request) (*http.Response, error) { return status(503) })
		l, err := audit.New(audit.Options{
			Output: "https://audit.example/hook", HTTPClient: client, BatchSize: 1,
			MaxRetries: 3, RetryBackoff: 400 * time.Millisecond, MaxBackoff: time.Second,
			Logger: discardLog(),
		})
		if err != nil {
			t.Fatal(err)
		}
		l.Emit(audit.Event{Type: audit.TypeError})
		prev := <-attempts
		// Waits double from 400ms, capped at 1s, each jittered into its upper half.
		for i, w := range []struct{ lo, hi time.Duration }{
			{200 * time.Millisecond, 400 * time.Millisecond},
			{400 * time.Millisecond, 800 * time.Millisecond},
			{500 * time.Millisecond, time.Second},
		} {
			at := <-attempts
			if gap := at.Sub(prev); gap < w.lo || gap > w.hi {
				t.Errorf("wait before retry %d = %v, want within [%v, %v]", i+1, gap, w.lo, w.hi)
			}
			prev = at
		}
		synctest.Wait() // the last answer is handled: the batch is dropped
		if l.Dropped() != 1 {
			t.Errorf("Dropped = %d, want 1", l.Dropped())
		}
		l.Close()
		if len(attempts) != 0 {
			t.Errorf("%d attempts beyond MaxRetries", len(attempts))
		}
	})
}

func TestWebhookRetryAfterHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, attempts := attemptClient(func(*http.Request) (*http.Response, error) {
			res, err := status(429)
			res.Header.Set("Retry-After", "7")
			return res, err
		})
		l, err := audit.New(audit.Options{
			Output: "https://audit.example/hook", HTTPClient: client, BatchSize: 1,
			MaxRetries: 1, RetryBackoff: time.Millisecond, Logger: discardLog(),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		l.Emit(audit.Event{Type: audit.TypeError})
		first, second := <-attempts, <-attempts
		if gap := second.Sub(first); gap != 7*time.Second {
			t.Errorf("retried after %v, want the 7s of Retry-After", gap)
		}
	})
}

func TestWebhookHungAttemptTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, attempts := attemptClient(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		})
		l, err := audit.New(audit.Options{
			Output: "https://audit.example/hook", HTTPClient: client, BatchSize: 1,
			MaxRetries: 1, RetryBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
			AttemptTimeout: 3 * time.Second, Logger: discardLog(),
		})
		if err != nil {
			t.Fatal(err)
		}
		l.Emit(audit.Event{Type: audit.TypeError})
		first, second := <-attempts, <-attempts
		if gap := second.Sub(first); gap < 3*time.Second || gap > 3*time.Second+time.Millisecond {
			t.Errorf("second attempt %v after the first, want AttemptTimeout (3s) plus at most 1ms", gap)
		}
		synctest.Wait()
		if l.Dropped() != 0 { // the second attempt is still hanging
			t.Errorf("Dropped = %d before the second attempt timed out", l.Dropped())
		}
		// Close lets the attempt in flight end (it times out within
		// CloseTimeout) and does not retry it.
		l.Close()
		if l.Dropped() != 1 || len(attempts) != 0 {
			t.Errorf("Dropped = %d and %d more attempts, want 1 and 0", l.Dropped(), len(attempts))
		}
	})
}

func TestCloseDoesNotWaitForBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, attempts := attemptClient(func(*http.Request) (*http.Response, error) { return status(502) })
		l, err := audit.New(audit.Options{
			Output: "https://audit.example/hook", HTTPClient: client, BatchSize: 1,
			RetryBackoff: time.Hour, MaxBackoff: time.Hour, Logger: discardLog(),
		})
		if err != nil {
			t.Fatal(err)
		}
		l.Emit(audit.Event{Type: audit.TypeError})
		<-attempts
		synctest.Wait() // the goroutine waits out its backoff
		start := time.Now()
		l.Close()
		if waited := time.Since(start); waited != 0 {
			t.Errorf("Close waited %v of fake time, want it to cut the backoff short", waited)
		}
		if l.Dropped() != 1 {
			t.Errorf("Dropped = %d, want 1", l.Dropped())
		}
	})
}

func TestCloseTimeoutBoundsDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, attempts := attemptClient(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done() // a receiver that never answers
			return nil, r.Context().Err()
		})
		l, err := audit.New(audit.Options{
			Output: "https://audit.example/hook", HTTPClient: client, BatchSize: 1,
			AttemptTimeout: time.Hour, CloseTimeout: 2 * time.Second, Logger: discardLog(),
		})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			l.Emit(audit.Event{Type: audit.TypeError})
		}
		<-attempts
		start := time.Now()
		l.Close()
		if waited := time.Since(start); waited != 2*time.Second {
			t.Errorf("Close took %v of fake time, want CloseTimeout (2s)", waited)
		}
		if l.Dropped() != 3 {
			t.Errorf("Dropped = %d, want 3", l.Dropped())
		}
	})
}

func TestWebhookFlushInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var bodies []string
		client, attempts := attemptClient(func(r *http.Request) (*http.Response, error) {
			b, _ := io.ReadAll(r.Body)
			bodies = append(bodies, string(b))
			return status(200)
		})
		l, err := audit.New(audit.Options{
			Output: "https://audit.example/hook", HTTPClient: client,
			BatchSize: 10, FlushInterval: 2 * time.Second, Now: fixedNow, Logger: discardLog(),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		start := time.Now()
		l.Emit(audit.Event{Type: audit.TypeError, Path: "/a"})
		time.Sleep(time.Second) // fake time
		l.Emit(audit.Event{Type: audit.TypeError, Path: "/b"})
		at := <-attempts
		if got := at.Sub(start); got != 2*time.Second {
			t.Errorf("batch sent after %v, want FlushInterval (2s) after its first event", got)
		}
		synctest.Wait()
		if len(bodies) != 1 || strings.Count(bodies[0], `"type":"error"`) != 2 {
			t.Errorf("bodies = %q, want one batch of two events", bodies)
		}
	})
}
