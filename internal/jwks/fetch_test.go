package jwks_test

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/internal/jwks"
	"github.com/apilayer/apilayer/internal/testkit"
)

// Which keys of a set are kept, and for which algorithms.
func TestKeysOfASet(t *testing.T) {
	clock := testkit.NewClock(epoch)
	ed, p256, p384 := edKey(t), ecKey(t, elliptic.P256()), ecKey(t, elliptic.P384())
	srv := newServer(t, setOf(t,
		jwkOf(t, ed, map[string]any{"kid": "ed", "use": "sig"}),
		jwkOf(t, ed, map[string]any{"kid": "ed-enc", "use": "enc"}),
		jwkOf(t, p256, map[string]any{"kid": "p256"}),
		jwkOf(t, p384, map[string]any{"kid": "p384"}), // fits no algorithm
		jwkOf(t, rsaKey(), map[string]any{"kid": "rsa"}),
		jwkOf(t, rsaKey(), map[string]any{"kid": "rsa-ps", "alg": "PS256"}),
		json.RawMessage(`{"kty":"oct","kid":"hmac","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`),
	))
	c, err := newCache(t, srv, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, alg, kid string
		want           []string // kids; nil: a miss
	}{
		{"kid and alg", "EdDSA", "ed", []string{"ed"}},
		{"a token without kid gets every key of its alg", "RS256", "", []string{"rsa"}},
		{"every algorithm a key fits", "PS256", "", []string{"rsa", "rsa-ps"}},
		{"a key that names its alg is used with it only", "RS256", "rsa-ps", nil},
		{"the alg a key names", "PS256", "rsa-ps", []string{"rsa-ps"}},
		{"use enc is ignored", "EdDSA", "ed-enc", nil},
		{"a key that fits no algorithm is ignored", "ES256", "p384", nil},
		{"a symmetric key is ignored", "HS256", "hmac", nil},
		{"the kid of another algorithm", "ES256", "ed", nil},
		{"an ECDSA key", "ES256", "p256", []string{"p256"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := c.Keys(context.Background(), tt.alg, tt.kid)
			if tt.want == nil {
				if !errors.Is(err, jwks.ErrNoKey) || errors.Is(err, jwks.ErrUnavailable) {
					t.Fatalf("Keys = %v, %v; want ErrNoKey only", kids(keys), err)
				}
				return
			}
			if err != nil || !slices.Equal(kids(keys), tt.want) {
				t.Fatalf("Keys = %v, %v; want %v", kids(keys), err, tt.want)
			}
			for _, k := range keys {
				if k.Key == nil || !slices.Contains(k.Algs, tt.alg) {
					t.Errorf("key %s: %T, algs %v", k.KID, k.Key, k.Algs)
				}
			}
		})
	}
	if n := srv.count(); n != 1 {
		t.Errorf("%d fetches, want 1 (misses within MinRefetch of the first fetch)", n)
	}
}

// A fetch that fails, for whatever reason, keeps the last good set: its
// keys keep working, and a key it lacks is "unavailable", never "no
// such key".
func TestFailedFetchKeepsTheLastGoodSet(t *testing.T) {
	manyKeys := make([]json.RawMessage, 101)
	for i := range manyKeys {
		manyKeys[i] = jwkOf(t, edKey(t), nil)
	}
	for _, tt := range []struct {
		name   string
		body   []byte
		status int
		want   string // in the error
	}{
		{"status 503", nil, http.StatusServiceUnavailable, "status 503"},
		{"not JSON", []byte("<html>"), 0, "parse"},
		{"larger than 1 MiB", append(append([]byte(`{"keys":[],"pad":"`), bytes.Repeat([]byte("x"), 1<<20)...), `"}`...), 0, "larger than 1048576 bytes"},
		{"more than 100 keys", setOf(t, manyKeys...), 0, "parse"},
		{"an empty set", []byte(`{"keys":[]}`), 0, "no key usable"},
		{"only keys it cannot use", setOf(t, json.RawMessage(`{"kty":"oct","k":"c2VjcmV0"}`), jwkOf(t, edKey(t), map[string]any{"use": "enc"})), 0, "no key usable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := testkit.NewClock(epoch)
			srv := newServer(t, setOf(t, jwkOf(t, edKey(t), map[string]any{"kid": "good"})))
			c, err := newCache(t, srv, clock, nil)
			if err != nil {
				t.Fatal(err)
			}
			srv.serve(tt.body, tt.status)
			clock.Advance(minRefetch)
			_, err = c.Keys(context.Background(), "EdDSA", "new")
			if !errors.Is(err, jwks.ErrUnavailable) || errors.Is(err, jwks.ErrNoKey) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("unknown kid after a failed fetch: %v; want ErrUnavailable with %q", err, tt.want)
			}
			if _, err := c.Keys(context.Background(), "EdDSA", "good"); err != nil {
				t.Errorf("the last good set was dropped: %v", err)
			}
			// Within MinRefetch of the failure: no fetch, still unavailable.
			if _, err := c.Keys(context.Background(), "EdDSA", "new"); !errors.Is(err, jwks.ErrUnavailable) {
				t.Errorf("rate-limited after a failure: %v, want ErrUnavailable", err)
			}
			if n := srv.count(); n != 2 {
				t.Errorf("%d fetches, want 2", n)
			}
		})
	}
}

// The caller's verdicts replace the default ones, and a fetch error stays
// reachable.
func TestCallerVerdicts(t *testing.T) {
	errInvalid, errDown := errors.New("token invalid"), errors.New("try later")
	clock := testkit.NewClock(epoch)
	srv := newServer(t, setOf(t, jwkOf(t, edKey(t), map[string]any{"kid": "a"})))
	c, err := newCache(t, srv, clock, func(o *jwks.Options) { o.Invalid, o.Unavailable = errInvalid, errDown })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Keys(context.Background(), "EdDSA", "b"); !errors.Is(err, errInvalid) || errors.Is(err, errDown) || errors.Is(err, jwks.ErrNoKey) {
		t.Errorf("a kid the fetched set lacks: %v, want the caller's Invalid only", err)
	}
	srv.serve(nil, http.StatusBadGateway)
	clock.Advance(minRefetch)
	_, err = c.Keys(context.Background(), "EdDSA", "b")
	if !errors.Is(err, errDown) || errors.Is(err, errInvalid) || errors.Is(err, jwks.ErrUnavailable) || !strings.Contains(err.Error(), "status 502") {
		t.Errorf("a kid missing while the set cannot be fetched: %v, want the caller's Unavailable with the fetch error", err)
	}
}

// A first fetch that fails is not fatal: the first lookup after
// MinRefetch fetches again.
func TestFirstFetchFails(t *testing.T) {
	clock := testkit.NewClock(epoch)
	srv := newServer(t, nil)
	srv.serve(nil, http.StatusBadGateway)
	c, err := newCache(t, srv, clock, nil)
	if err == nil || !strings.Contains(err.Error(), "status 502") {
		t.Fatalf("Fetch = %v, want the status", err)
	}
	if _, err := c.Keys(context.Background(), "EdDSA", "a"); !errors.Is(err, jwks.ErrUnavailable) {
		t.Fatalf("no set yet: %v, want ErrUnavailable", err)
	}
	srv.serve(setOf(t, jwkOf(t, edKey(t), map[string]any{"kid": "a"})), 0)
	clock.Advance(minRefetch)
	if _, err := c.Keys(context.Background(), "EdDSA", "a"); err != nil {
		t.Fatalf("server back: %v", err)
	}
	if n := srv.count(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
}

// Logs name the URL without its password and never a key.
func TestLogs(t *testing.T) {
	clock := testkit.NewClock(epoch)
	ed := edKey(t)
	srv := newServer(t, setOf(t, jwkOf(t, ed, map[string]any{"kid": "a"})))
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("app", "hunter2")
	var log bytes.Buffer
	c, err := newCache(t, srv, clock, func(o *jwks.Options) {
		o.URL = u.String()
		o.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.serve(nil, http.StatusInternalServerError)
	clock.Advance(minRefetch)
	c.Keys(context.Background(), "EdDSA", "b")
	out := log.String()
	if !strings.Contains(out, "JWKS fetched") || !strings.Contains(out, "JWKS fetch failed") || !strings.Contains(out, "app:xxxxx@") {
		t.Fatalf("logs lack the fetches or the redacted URL:\n%s", out)
	}
	var k struct{ X string }
	if err := json.Unmarshal(jwkOf(t, ed, nil), &k); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", k.X} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
}
