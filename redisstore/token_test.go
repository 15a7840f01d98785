package redisstore_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/session"
)

// The tokens of the end-to-end test: long and distinctive, so a search of
// Redis for them cannot match anything else.
const (
	oldToken   = "tok-user-old-3c9d1f7a2b"
	newToken   = "tok-user-new-8e4a6b0c5d"
	guestToken = "tok-guest-1-5f2e9a7c3b"
	deadToken  = "tok-user-dead-1a2b3c4d5e"
)

// TestRedisNeverHoldsARawToken runs a session Manager on the Redis stores
// through a validation, a refresh with a successor record, a failed
// refresh and a guest mint, then reads every key and value of the server.
func TestRedisNeverHoldsARawToken(t *testing.T) {
	r := testkit.StartRedis(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path + " " + req.Header.Get("Authorization") {
		case "/api/auth/me Bearer " + newToken:
			io.WriteString(w, `{"success":true,"data":{"id":7,"email":"ada@example.com","type":"user"}}`)
		case "/api/auth/refresh Bearer " + oldToken:
			io.WriteString(w, `{"success":true,"data":{"accessToken":"`+newToken+`"}}`)
		case "/api/auth/guest ":
			io.WriteString(w, `{"success":true,"data":{"accessToken":"`+guestToken+`"}}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	bc, err := backend.New(backend.Options{URL: srv.URL + "/api/", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bc.CloseIdleConnections)

	s := newStore(t, r, redisstore.Options{KeyPrefix: "apilayer:"})
	m, err := session.New(session.Options{
		Backend:           bc,
		CacheTTL:          time.Minute,
		StaleIfError:      time.Hour,
		SingleFlight:      true,
		GuestEnabled:      true,
		GuestFallback:     true,
		GuestMaxPerMinute: 10,
		SuccessorTTL:      time.Minute,
		Cache:             redisstore.CacheWithFallback(s.Cache(), session.NewMemoryCache(100, nil)),
		Failures:          redisstore.FailuresWithFallback(s.Failures(), session.NewMemoryFailures(100, nil)),
		Successors:        redisstore.SuccessorsWithFallback(s.Successors(), session.NewMemorySuccessors(100, nil)),
		GuestLimiter:      s.GuestLimiter(10, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	ctx := context.Background()
	client := "Mozilla/5.0|192.0.2.1"
	if o := m.Authenticate(ctx, session.Input{User: oldToken, ClientID: client, Client: "192.0.2.1"}); o.Set.User != newToken {
		t.Fatalf("refresh: cookies set %+v, want the new token", o.Set)
	}
	m.Authenticate(ctx, session.Input{User: newToken, Client: "192.0.2.1"})
	m.Authenticate(ctx, session.Input{User: deadToken, Client: "192.0.2.2"})
	if o := m.Authenticate(ctx, session.Input{Client: "192.0.2.3"}); o.Set.Guest != guestToken {
		t.Fatalf("guest: cookies set %+v, want the guest token", o.Set)
	}

	all := dump(t, rawClient(t, r))
	for _, want := range []string{
		"apilayer:cache:" + session.Key(newToken),
		"apilayer:succ:" + session.Key(oldToken),
		"apilayer:fail:" + session.Key(deadToken),
		"apilayer:guest:192.0.2.3",
	} {
		if _, ok := all[want]; !ok {
			t.Errorf("no key %q in Redis; keys: %v", want, keys(all))
		}
	}
	for k, v := range all {
		for _, tok := range []string{oldToken, newToken, guestToken, deadToken} {
			if strings.Contains(k, tok) || strings.Contains(v, tok) {
				t.Errorf("Redis key %q or its value holds the raw token %q", k, tok)
			}
		}
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestTokenStoresRefuseRawTokens: a caller that forgets to hash a token
// gets an error, and nothing reaches Redis.
func TestTokenStoresRefuseRawTokens(t *testing.T) {
	r := testkit.StartRedis(t)
	s := newStore(t, r, redisstore.Options{})
	ctx := t.Context()
	tok := "eyJhbGciOiJIUzI1NiJ9.raw.token"
	upper := strings.ToUpper(session.Key(tok)) // a digest, but not the session's spelling
	calls := []struct {
		name string
		call func(key string) error
	}{
		{"cache get", func(k string) error { _, _, err := s.Cache().Get(ctx, k); return err }},
		{"cache set", func(k string) error {
			return s.Cache().Set(ctx, k, session.Entry{Valid: true, Fresh: time.Now().Add(time.Hour)})
		}},
		{"cache delete", func(k string) error { return s.Cache().Delete(ctx, k) }},
		{"failures get", func(k string) error { _, _, err := s.Failures().Failed(ctx, k); return err }},
		{"failures set", func(k string) error {
			return s.Failures().Fail(ctx, k, session.Failure{Reason: "expired"}, time.Now().Add(time.Hour))
		}},
		{"successors get", func(k string) error { _, _, err := s.Successors().Get(ctx, k); return err }},
		{"successors set", func(k string) error { return s.Successors().Set(ctx, k, []byte("sealed"), time.Hour) }},
		{"revalidations get", func(k string) error { _, _, err := s.Revalidations().Confirmed(ctx, k); return err }},
		{"revalidations set", func(k string) error { return s.Revalidations().Confirm(ctx, k, true, time.Now().Add(time.Hour)) }},
		{"lock", func(k string) error { _, _, err := s.Locks().TryLock(ctx, k, time.Minute); return err }},
		{"lock holder", func(k string) error { _, _, err := s.Locks().Holder(ctx, k); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{tok, upper, "", session.Key(tok)[:63]} {
				if err := tc.call(k); err == nil {
					t.Errorf("key %q accepted", k)
				}
			}
		})
	}
	if all := dump(t, rawClient(t, r)); len(all) != 0 {
		t.Fatalf("Redis holds %v, want nothing", keys(all))
	}
	if !s.Healthy() {
		t.Fatal("refused keys opened the breaker")
	}
}
