package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/session"
)

// start is the suite clock's first instant, with a fractional second.
var start = time.Date(2026, 11, 26, 20, 1, 2, 345_678_000, time.UTC)

// key returns the store key of a made-up token, as the session computes it.
func key(name string) string { return session.Key("token-" + name) }

// Cache runs the conformance suite of session.Cache. newCache returns a
// fresh, empty cache on the clock now; it may register cleanups.
func Cache(t *testing.T, newCache func(t *testing.T, now func() time.Time) session.Cache) {
	t.Helper()
	setup := func(t *testing.T) (*testkit.Clock, session.Cache) {
		c := testkit.NewClock(start)
		return c, newCache(t, c.Now)
	}
	user := func() *session.Identity {
		return &session.Identity{
			Type: "user",
			User: map[string]any{
				"id":    json.Number("42"),
				"email": "ada@example.com",
				"name":  "<Ada> & \"Lovelace\" é",
				"roles": []any{"admin", "editor"},
				"meta":  map[string]any{"score": json.Number("1.5e3"), "active": true, "none": nil},
			},
			// Exact bytes, spaces and escapes included, as the backend sent them.
			UserJSON: json.RawMessage(`{"id": 42, "name":"<Ada> & \"Lovelace\" \u00e9", "roles":["admin","editor"]}`),
			Exp:      start.Add(time.Hour),
		}
	}
	get := func(t *testing.T, c session.Cache, k string) (session.Entry, bool) {
		t.Helper()
		e, ok, err := c.Get(t.Context(), k)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		return e, ok
	}
	set := func(t *testing.T, c session.Cache, k string, e session.Entry) {
		t.Helper()
		if err := c.Set(t.Context(), k, e); err != nil {
			t.Fatalf("Set: %v", err)
		}
	}

	t.Run("unknown key is a miss", func(t *testing.T) {
		_, c := setup(t)
		if _, ok := get(t, c, key("unknown")); ok {
			t.Fatal("hit on an empty cache")
		}
	})

	roundTrips := []struct {
		name  string
		entry session.Entry
	}{
		{"valid entry with identity", session.Entry{
			Valid: true, Identity: user(),
			Fresh: start.Add(time.Minute), Stale: start.Add(10 * time.Minute),
		}},
		{"invalid entry without identity", session.Entry{
			Valid: false, Fresh: start.Add(time.Minute),
		}},
		{"identity whose user JSON was reduced", session.Entry{
			Valid: true, Identity: &session.Identity{Type: "user", User: map[string]any{"id": "7", "bio": "long"},
				UserJSON: json.RawMessage(`{"id":"7"}`), Truncated: true},
			Fresh: start.Add(time.Second),
		}},
		{"identity without exp or user JSON", session.Entry{
			Valid: true, Identity: &session.Identity{Type: "guest", User: map[string]any{"id": "g-1"}},
			Fresh: start.Add(time.Second),
		}},
	}
	for _, tc := range roundTrips {
		t.Run("round trip/"+tc.name, func(t *testing.T) {
			_, c := setup(t)
			set(t, c, key("a"), tc.entry)
			got, ok := get(t, c, key("a"))
			if !ok {
				t.Fatal("miss after Set")
			}
			if err := sameEntry(got, tc.entry); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("set replaces", func(t *testing.T) {
		_, c := setup(t)
		set(t, c, key("a"), session.Entry{Valid: true, Identity: user(), Fresh: start.Add(time.Minute)})
		want := session.Entry{Valid: false, Fresh: start.Add(2 * time.Minute)}
		set(t, c, key("a"), want)
		got, ok := get(t, c, key("a"))
		if !ok {
			t.Fatal("miss after second Set")
		}
		if err := sameEntry(got, want); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		_, c := setup(t)
		set(t, c, key("a"), session.Entry{Valid: true, Fresh: start.Add(time.Minute)})
		set(t, c, key("b"), session.Entry{Valid: true, Fresh: start.Add(time.Minute)})
		if err := c.Delete(t.Context(), key("a")); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, ok := get(t, c, key("a")); ok {
			t.Fatal("hit after Delete")
		}
		if _, ok := get(t, c, key("b")); !ok {
			t.Fatal("Delete removed another key")
		}
		if err := c.Delete(t.Context(), key("never-set")); err != nil {
			t.Fatalf("Delete of an absent key: %v", err)
		}
	})

	expiries := []struct {
		name         string
		fresh, stale time.Duration // from start
		until        time.Duration // the later of both
	}{
		{"fresh only", time.Minute, 0, time.Minute},
		{"stale after fresh", time.Minute, 10 * time.Minute, 10 * time.Minute},
		{"stale before fresh", time.Minute, 30 * time.Second, time.Minute},
	}
	for _, tc := range expiries {
		t.Run("kept until the later of fresh and stale/"+tc.name, func(t *testing.T) {
			clock, c := setup(t)
			e := session.Entry{Valid: true, Fresh: start.Add(tc.fresh)}
			if tc.stale > 0 {
				e.Stale = start.Add(tc.stale)
			}
			set(t, c, key("a"), e)
			clock.Set(start.Add(tc.until - time.Microsecond))
			if _, ok := get(t, c, key("a")); !ok {
				t.Fatal("miss a microsecond before Until")
			}
			clock.Set(start.Add(tc.until))
			if _, ok := get(t, c, key("a")); ok {
				t.Fatal("hit at Until")
			}
		})
	}

	t.Run("entry already expired is not stored", func(t *testing.T) {
		_, c := setup(t)
		set(t, c, key("a"), session.Entry{Valid: true, Fresh: start.Add(time.Minute)})
		set(t, c, key("a"), session.Entry{Valid: true, Fresh: start.Add(-time.Second)})
		if _, ok := get(t, c, key("a")); ok {
			t.Fatal("hit on an entry set past its Until")
		}
	})

	t.Run("concurrent use", func(t *testing.T) {
		_, c := setup(t)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 20 {
					k := key(fmt.Sprintf("%d-%d", g, i%4))
					want := session.Entry{Valid: true, Fresh: start.Add(time.Duration(g+1) * time.Minute)}
					if err := c.Set(t.Context(), k, want); err != nil {
						t.Error(err)
						return
					}
					got, ok, err := c.Get(t.Context(), k)
					if err != nil || !ok {
						t.Errorf("Get after Set: ok %v, err %v", ok, err)
						return
					}
					if err := sameEntry(got, want); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

// sameEntry compares two entries by value (times with Equal, the user
// JSON byte for byte).
func sameEntry(got, want session.Entry) error {
	if got.Valid != want.Valid || !got.Fresh.Equal(want.Fresh) || !got.Stale.Equal(want.Stale) {
		return fmt.Errorf("entry = {Valid:%v Fresh:%v Stale:%v}, want {Valid:%v Fresh:%v Stale:%v}",
			got.Valid, got.Fresh, got.Stale, want.Valid, want.Fresh, want.Stale)
	}
	g, w := got.Identity, want.Identity
	switch {
	case g == nil && w == nil:
		return nil
	case g == nil || w == nil:
		return fmt.Errorf("identity = %v, want %v", g, w)
	}
	if g.Type != w.Type || !g.Exp.Equal(w.Exp) || g.Truncated != w.Truncated {
		return fmt.Errorf("identity type %q exp %v truncated %v, want %q %v %v", g.Type, g.Exp, g.Truncated, w.Type, w.Exp, w.Truncated)
	}
	if !reflect.DeepEqual(g.User, w.User) {
		return fmt.Errorf("identity user = %#v, want %#v", g.User, w.User)
	}
	if !bytes.Equal(g.UserJSON, w.UserJSON) {
		return fmt.Errorf("identity user JSON = %s, want %s", g.UserJSON, w.UserJSON)
	}
	return nil
}

// Failures runs the conformance suite of session.Failures.
func Failures(t *testing.T, newFailures func(t *testing.T, now func() time.Time) session.Failures) {
	t.Helper()
	setup := func(t *testing.T) (*testkit.Clock, session.Failures) {
		c := testkit.NewClock(start)
		return c, newFailures(t, c.Now)
	}
	failed := func(t *testing.T, f session.Failures, k string) (session.Failure, bool) {
		t.Helper()
		r, ok, err := f.Failed(t.Context(), k)
		if err != nil {
			t.Fatalf("Failed: %v", err)
		}
		return r, ok
	}
	fail := func(t *testing.T, f session.Failures, k string, r session.Failure, until time.Time) {
		t.Helper()
		if err := f.Fail(t.Context(), k, r, until); err != nil {
			t.Fatalf("Fail: %v", err)
		}
	}
	reason := func(r session.Reason) session.Failure { return session.Failure{Reason: r} }
	// unavailable is the memory of a refresh that failed as unavailable
	// at start with a backoff of d.
	unavailable := func(d time.Duration) session.Failure {
		return session.Failure{Reason: "network", Retry: start.Add(d), Backoff: d}
	}
	same := func(got, want session.Failure) bool {
		return got.Reason == want.Reason && got.Retry.Equal(want.Retry) && got.Backoff == want.Backoff
	}

	t.Run("unknown key has not failed", func(t *testing.T) {
		_, f := setup(t)
		if r, ok := failed(t, f, key("x")); ok {
			t.Fatalf("Failed = %+v, true on an empty store", r)
		}
	})

	for _, r := range []session.Reason{"reuse", "expired", "revoked", "network", "unknown"} {
		t.Run("remembers reason/"+string(r), func(t *testing.T) {
			_, f := setup(t)
			fail(t, f, key("a"), reason(r), start.Add(time.Minute))
			got, ok := failed(t, f, key("a"))
			if !ok || !same(got, reason(r)) {
				t.Fatalf("Failed = %+v, %v; want %q without retry, true", got, ok, r)
			}
			if _, ok := failed(t, f, key("b")); ok {
				t.Fatal("another key has failed too")
			}
		})
	}

	t.Run("until", func(t *testing.T) {
		clock, f := setup(t)
		fail(t, f, key("a"), reason("expired"), start.Add(30*time.Second))
		clock.Advance(30*time.Second - time.Microsecond)
		if _, ok := failed(t, f, key("a")); !ok {
			t.Fatal("forgotten before until")
		}
		clock.Advance(time.Microsecond)
		if _, ok := failed(t, f, key("a")); ok {
			t.Fatal("remembered at until")
		}
	})

	t.Run("fail replaces", func(t *testing.T) {
		_, f := setup(t)
		fail(t, f, key("a"), reason("network"), start.Add(time.Minute))
		fail(t, f, key("a"), reason("revoked"), start.Add(time.Minute))
		if got, ok := failed(t, f, key("a")); !ok || !same(got, reason("revoked")) {
			t.Fatalf("Failed = %+v, %v; want revoked, true", got, ok)
		}
	})

	t.Run("until in the past forgets", func(t *testing.T) {
		_, f := setup(t)
		fail(t, f, key("a"), reason("network"), start.Add(time.Minute))
		fail(t, f, key("a"), reason("network"), start.Add(-time.Second))
		if _, ok := failed(t, f, key("a")); ok {
			t.Fatal("remembered past until")
		}
	})

	// The backoff of unavailable refreshes: Retry and Backoff are kept
	// exactly, past Retry, until the record's own expiry.
	t.Run("unavailable backoff kept past retry", func(t *testing.T) {
		clock, f := setup(t)
		want := unavailable(4 * time.Second)
		fail(t, f, key("a"), want, start.Add(34*time.Second))
		for _, at := range []time.Duration{0, 4*time.Second - time.Microsecond, 4 * time.Second, 34*time.Second - time.Microsecond} {
			clock.Set(start.Add(at))
			got, ok := failed(t, f, key("a"))
			if !ok || !same(got, want) {
				t.Fatalf("at +%v: Failed = %+v, %v; want %+v, true", at, got, ok, want)
			}
			if blocks := got.Blocks(clock.Now()); blocks != (at < 4*time.Second) {
				t.Fatalf("at +%v: Blocks = %v", at, blocks)
			}
		}
		clock.Set(start.Add(34 * time.Second))
		if got, ok := failed(t, f, key("a")); ok {
			t.Fatalf("at until: Failed = %+v, true; want forgotten", got)
		}
	})

	t.Run("unavailable backoff replaced", func(t *testing.T) {
		_, f := setup(t)
		fail(t, f, key("a"), unavailable(time.Second), start.Add(time.Minute))
		fail(t, f, key("a"), unavailable(2*time.Second), start.Add(time.Minute))
		if got, ok := failed(t, f, key("a")); !ok || !same(got, unavailable(2*time.Second)) {
			t.Fatalf("Failed = %+v, %v; want the doubled backoff", got, ok)
		}
		// An answer of the backend replaces the backoff.
		fail(t, f, key("a"), reason("expired"), start.Add(time.Minute))
		if got, ok := failed(t, f, key("a")); !ok || !same(got, reason("expired")) {
			t.Fatalf("Failed = %+v, %v; want expired without retry", got, ok)
		}
		fail(t, f, key("b"), reason("expired"), start.Add(time.Minute))
		fail(t, f, key("b"), unavailable(time.Second), start.Add(time.Minute))
		if got, ok := failed(t, f, key("b")); !ok || !same(got, unavailable(time.Second)) {
			t.Fatalf("Failed = %+v, %v; want the backoff", got, ok)
		}
	})

	t.Run("unavailable backoff forgotten", func(t *testing.T) {
		_, f := setup(t)
		fail(t, f, key("a"), unavailable(time.Second), start.Add(time.Minute))
		fail(t, f, key("a"), session.Failure{}, start.Add(-time.Second))
		if got, ok := failed(t, f, key("a")); ok {
			t.Fatalf("Failed = %+v, true after forgetting", got)
		}
	})
}

// Limiter runs the conformance suite of session.Limiter (the guest-mint
// cap): perMinute actions per key at once, then one more every
// minute/perMinute. newLimiter returns a fresh limiter of perMinute per
// key and minute on the clock now.
func Limiter(t *testing.T, newLimiter func(t *testing.T, perMinute int, now func() time.Time) session.Limiter) {
	t.Helper()
	setup := func(t *testing.T, perMinute int) (*testkit.Clock, session.Limiter) {
		c := testkit.NewClock(start)
		return c, newLimiter(t, perMinute, c.Now)
	}
	allowN := func(t *testing.T, l session.Limiter, k string, n int) int {
		t.Helper()
		allowed := 0
		for range n {
			if l.Allow(t.Context(), k) {
				allowed++
			}
		}
		return allowed
	}

	t.Run("burst then blocked", func(t *testing.T) {
		_, l := setup(t, 3)
		if n := allowN(t, l, "192.0.2.1", 5); n != 3 {
			t.Fatalf("%d of 5 allowed, want 3", n)
		}
	})

	t.Run("refills one every minute over N", func(t *testing.T) {
		clock, l := setup(t, 3)
		allowN(t, l, "c", 3)
		clock.Advance(10 * time.Second)
		if l.Allow(t.Context(), "c") {
			t.Fatal("allowed after half an interval")
		}
		clock.Advance(10 * time.Second) // exactly one interval: GCRA is exact
		if n := allowN(t, l, "c", 2); n != 1 {
			t.Fatalf("%d of 2 allowed after one interval, want 1", n)
		}
		clock.Advance(time.Minute)
		if n := allowN(t, l, "c", 4); n != 3 {
			t.Fatalf("%d of 4 allowed after a minute, want 3", n)
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		_, l := setup(t, 2)
		allowN(t, l, "192.0.2.1", 2)
		if l.Allow(t.Context(), "192.0.2.1") {
			t.Fatal("third allowed")
		}
		if n := allowN(t, l, "192.0.2.2", 2); n != 2 {
			t.Fatalf("%d of 2 allowed for another key, want 2", n)
		}
	})

	t.Run("zero per minute is no cap", func(t *testing.T) {
		_, l := setup(t, 0)
		if n := allowN(t, l, "c", 100); n != 100 {
			t.Fatalf("%d of 100 allowed, want all", n)
		}
	})

	t.Run("concurrent calls count exactly", func(t *testing.T) {
		_, l := setup(t, 20)
		var (
			mu      sync.Mutex
			allowed int
			wg      sync.WaitGroup
		)
		for range 8 {
			wg.Go(func() {
				n := allowN(t, l, "shared", 10)
				mu.Lock()
				allowed += n
				mu.Unlock()
			})
		}
		wg.Wait()
		if allowed != 20 {
			t.Fatalf("%d of 80 allowed, want 20", allowed)
		}
	})
}

// Successors runs the conformance suite of session.Successors.
func Successors(t *testing.T, newSuccessors func(t *testing.T, now func() time.Time) session.Successors) {
	t.Helper()
	setup := func(t *testing.T) (*testkit.Clock, session.Successors) {
		c := testkit.NewClock(start)
		return c, newSuccessors(t, c.Now)
	}
	get := func(t *testing.T, s session.Successors, k string) ([]byte, bool) {
		t.Helper()
		b, ok, err := s.Get(t.Context(), k)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		return b, ok
	}
	set := func(t *testing.T, s session.Successors, k string, b []byte, ttl time.Duration) {
		t.Helper()
		if err := s.Set(t.Context(), k, b, ttl); err != nil {
			t.Fatalf("Set: %v", err)
		}
	}
	sealed := []byte{0, 1, 2, 0xff, 0xfe, 'x', 0, 0x80} // arbitrary bytes, NULs included

	t.Run("unknown key", func(t *testing.T) {
		_, s := setup(t)
		if _, ok := get(t, s, key("x")); ok {
			t.Fatal("hit on an empty store")
		}
	})

	t.Run("round trip until ttl", func(t *testing.T) {
		clock, s := setup(t)
		set(t, s, key("old"), sealed, 10*time.Second)
		got, ok := get(t, s, key("old"))
		if !ok || !bytes.Equal(got, sealed) {
			t.Fatalf("Get = %x, %v; want %x, true", got, ok, sealed)
		}
		if _, ok := get(t, s, key("other")); ok {
			t.Fatal("hit on another key")
		}
		clock.Advance(10*time.Second - time.Microsecond)
		if _, ok := get(t, s, key("old")); !ok {
			t.Fatal("miss before ttl")
		}
		clock.Advance(time.Microsecond)
		if _, ok := get(t, s, key("old")); ok {
			t.Fatal("hit at ttl")
		}
	})

	t.Run("set replaces", func(t *testing.T) {
		_, s := setup(t)
		set(t, s, key("old"), sealed, time.Minute)
		set(t, s, key("old"), []byte("second"), time.Minute)
		if got, ok := get(t, s, key("old")); !ok || string(got) != "second" {
			t.Fatalf("Get = %q, %v; want second, true", got, ok)
		}
	})
}

// Revalidations runs the conformance suite of session.Revalidations.
func Revalidations(t *testing.T, newRevalidations func(t *testing.T, now func() time.Time) session.Revalidations) {
	t.Helper()
	setup := func(t *testing.T) (*testkit.Clock, session.Revalidations) {
		c := testkit.NewClock(start)
		return c, newRevalidations(t, c.Now)
	}
	confirmed := func(t *testing.T, r session.Revalidations, k string) (valid, ok bool) {
		t.Helper()
		valid, ok, err := r.Confirmed(t.Context(), k)
		if err != nil {
			t.Fatalf("Confirmed: %v", err)
		}
		return valid, ok
	}

	t.Run("unknown key is due", func(t *testing.T) {
		_, r := setup(t)
		if _, ok := confirmed(t, r, key("x")); ok {
			t.Fatal("confirmed on an empty store")
		}
	})

	for _, valid := range []bool{true, false} {
		t.Run(fmt.Sprintf("verdict %v until", valid), func(t *testing.T) {
			clock, r := setup(t)
			if err := r.Confirm(t.Context(), key("a"), valid, start.Add(time.Minute)); err != nil {
				t.Fatalf("Confirm: %v", err)
			}
			if got, ok := confirmed(t, r, key("a")); !ok || got != valid {
				t.Fatalf("Confirmed = %v, %v; want %v, true", got, ok, valid)
			}
			clock.Advance(time.Minute - time.Microsecond)
			if _, ok := confirmed(t, r, key("a")); !ok {
				t.Fatal("due before until")
			}
			clock.Advance(time.Microsecond)
			if _, ok := confirmed(t, r, key("a")); ok {
				t.Fatal("not due at until")
			}
		})
	}
}
