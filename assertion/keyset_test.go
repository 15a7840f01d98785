package assertion_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/internal/testkit"
)

// jwksVerifier returns a Verifier of srv's key set; logs go to log.
func jwksVerifier(t *testing.T, rawURL string, clock *testkit.Clock, log *bytes.Buffer) *assertion.Verifier {
	t.Helper()
	o := assertion.VerifierOptions{JWKSURL: rawURL, Audience: audience, Now: clock.Now}
	if log != nil {
		o.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	v, err := assertion.NewVerifier(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// verifyAll verifies tok from n goroutines at once and returns the errors.
func verifyAll(v *assertion.Verifier, tok string, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = v.Verify(context.Background(), tok) })
	}
	wg.Wait()
	return errs
}

// A key rotation seen from the web app: an unknown kid makes one refetch
// per burst, whatever the number of requests; more unknown kids within
// MinRefetch make none; after it, the next one refetches.
func TestJWKSRotation(t *testing.T) {
	clock := testkit.NewClock(epoch)
	a, b, c := newSigner(t, assertion.EdDSA, 0, clock), newSigner(t, assertion.ES256, 0, clock), newSigner(t, assertion.EdDSA, 1, clock)
	srv := newJWKSServer(t, a.JWKS())
	v := jwksVerifier(t, srv.URL, clock, nil)
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("NewVerifier made %d fetches, want 1", n)
	}
	for i, err := range verifyAll(v, mustSign(t, a), 10) {
		if err != nil {
			t.Fatalf("request %d with the known key: %v", i, err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("known kid: %d fetches, want 1", n)
	}

	// The gateway rotates to b: the first b token, within MinRefetch of
	// the first fetch, cannot refetch yet.
	srv.serve(jwksOf(t, b), 0)
	if _, err := v.Verify(context.Background(), mustSign(t, b)); !errors.Is(err, assertion.ErrInvalid) {
		t.Fatalf("unknown kid within MinRefetch: %v, want ErrInvalid", err)
	}
	clock.Advance(assertion.DefaultMinRefetch)
	for i, err := range verifyAll(v, mustSign(t, b), 20) {
		if err != nil {
			t.Fatalf("request %d after the rotation: %v", i, err)
		}
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("burst of 20 with a new kid: %d fetches in all, want 2", n)
	}
	// The refetched set no longer has a.
	if _, err := v.Verify(context.Background(), mustSign(t, a)); !errors.Is(err, assertion.ErrInvalid) {
		t.Errorf("the rotated-out key: %v, want ErrInvalid", err)
	}

	// Made-up kids cannot make it hammer the gateway.
	for i, err := range verifyAll(v, mustSign(t, c), 20) {
		if !errors.Is(err, assertion.ErrInvalid) {
			t.Fatalf("request %d with an unknown kid: %v, want ErrInvalid", i, err)
		}
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("unknown kids within MinRefetch: %d fetches, want still 2", n)
	}
	srv.serve(jwksOf(t, b, c), 0)
	clock.Advance(assertion.DefaultMinRefetch)
	if _, err := v.Verify(context.Background(), mustSign(t, c)); err != nil {
		t.Fatalf("after MinRefetch: %v", err)
	}
	if n := srv.fetches.Load(); n != 3 {
		t.Errorf("%d fetches, want 3", n)
	}
}

// A key set that cannot be fetched: a token whose kid is unknown is
// "unavailable" (it may be valid), known keys keep working, the gateway
// coming back is picked up; the first fetch failing is not fatal.
func TestJWKSUnavailable(t *testing.T) {
	clock := testkit.NewClock(epoch)
	a, b := newSigner(t, assertion.EdDSA, 0, clock), newSigner(t, assertion.EdDSA, 1, clock)
	srv := newJWKSServer(t, nil)
	srv.serve(nil, http.StatusBadGateway)
	v := jwksVerifier(t, srv.URL, clock, nil)
	if _, err := v.Verify(context.Background(), mustSign(t, a)); !errors.Is(err, assertion.ErrUnavailable) {
		t.Fatalf("no key set yet: %v, want ErrUnavailable", err)
	}
	srv.serve(a.JWKS(), 0)
	clock.Advance(assertion.DefaultMinRefetch)
	if _, err := v.Verify(context.Background(), mustSign(t, a)); err != nil {
		t.Fatalf("gateway back: %v", err)
	}

	// Down again, with an empty set (treated as an outage), then an error.
	for _, down := range []func(){
		func() { srv.serve([]byte(`{"keys":[]}`), 0) },
		func() { srv.serve(nil, http.StatusInternalServerError) },
		func() { srv.serve([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`), 0) },
	} {
		down()
		clock.Advance(assertion.DefaultMinRefetch)
		if _, err := v.Verify(context.Background(), mustSign(t, b)); !errors.Is(err, assertion.ErrUnavailable) {
			t.Fatalf("unknown kid while the set cannot be fetched: %v, want ErrUnavailable", err)
		}
		if _, err := v.Verify(context.Background(), mustSign(t, a)); err != nil {
			t.Fatalf("the last good set was dropped: %v", err)
		}
	}
}

// Once older than MaxAge, the set is refetched in the background on the
// next Verify, so a key the gateway dropped stops verifying.
func TestJWKSMaxAge(t *testing.T) {
	clock := testkit.NewClock(epoch)
	a, b := newSigner(t, assertion.EdDSA, 0, clock), newSigner(t, assertion.EdDSA, 1, clock)
	srv := newJWKSServer(t, jwksOf(t, a, b))
	v := jwksVerifier(t, srv.URL, clock, nil)
	srv.serve(b.JWKS(), 0)
	clock.Advance(assertion.DefaultMaxAge)
	// Served from the old set; starts the refetch.
	if _, err := v.Verify(context.Background(), mustSign(t, a)); err != nil {
		t.Fatal(err)
	}
	// An unknown kid joins the running refetch or, if it is done, is
	// rate-limited: either way it returns after the refetch.
	v.Verify(context.Background(), mustSign(t, newSigner(t, assertion.ES256, 1, clock)))
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	if _, err := v.Verify(context.Background(), mustSign(t, a)); !errors.Is(err, assertion.ErrInvalid) {
		t.Errorf("a key the gateway dropped: %v, want ErrInvalid", err)
	}
	if _, err := v.Verify(context.Background(), mustSign(t, b)); err != nil {
		t.Error(err)
	}
}

// A caller that gives up while the fetch runs gets its context's error;
// Close stops the fetch and waits for it.
func TestJWKSCancelAndClose(t *testing.T) {
	clock := testkit.NewClock(epoch)
	a := newSigner(t, assertion.EdDSA, 0, clock)
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	cancel()
	v, err := assertion.NewVerifier(ctx, assertion.VerifierOptions{JWKSURL: srv.URL, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(assertion.DefaultMinRefetch)
	ctx, cancelCause := context.WithCancelCause(context.Background())
	gone := errors.New("client gone")
	cancelCause(gone)
	if _, err := v.Verify(ctx, mustSign(t, a)); !errors.Is(err, gone) {
		t.Errorf("cancelled caller: %v, want its cause", err)
	}
	v.Close() // cancels the fetch still waiting on the server
	v.Close()
	if _, err := v.Verify(context.Background(), mustSign(t, a)); !errors.Is(err, assertion.ErrUnavailable) {
		t.Errorf("after Close: %v, want ErrUnavailable", err)
	}
}

// Logs name the URL without its password and never a key.
func TestJWKSLogs(t *testing.T) {
	clock := testkit.NewClock(epoch)
	a := newSigner(t, assertion.EdDSA, 0, clock)
	srv := newJWKSServer(t, a.JWKS())
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("app", "hunter2")
	var log bytes.Buffer
	v := jwksVerifier(t, u.String(), clock, &log)
	srv.serve(nil, http.StatusInternalServerError)
	clock.Advance(assertion.DefaultMinRefetch)
	v.Verify(context.Background(), mustSign(t, newSigner(t, assertion.EdDSA, 1, clock)))
	out := log.String()
	if !strings.Contains(out, "JWKS fetched") || !strings.Contains(out, "JWKS fetch failed") {
		t.Fatalf("logs lack the fetches:\n%s", out)
	}
	var set struct{ Keys []struct{ X string } }
	if err := json.Unmarshal(a.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", set.Keys[0].X, a.KeyID()} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
}

// The JWKS handler: the public set with use, alg and kid, cache headers,
// 304 for a matching If-None-Match, HEAD, and 405 for other methods.
func TestJWKSHandler(t *testing.T) {
	s, err := assertion.NewSigner(assertion.SignerOptions{Algorithm: assertion.RS256, KeyPEM: privatePEM(t, key(assertion.RS256, 0))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.JWKSHandler())
	defer srv.Close()
	res, body := get(t, srv.URL, nil, http.MethodGet)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/jwk-set+json" ||
		res.Header.Get("Cache-Control") != "public, max-age=300" || res.Header.Get("ETag") == "" ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET: %d %v", res.StatusCode, res.Header)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("body %s: %v", body, err)
	}
	k := set.Keys[0]
	if k["kty"] != "RSA" || k["use"] != "sig" || k["alg"] != "RS256" || k["kid"] != s.KeyID() || k["n"] == nil || k["e"] == nil {
		t.Errorf("key %v", k)
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := k[private]; ok {
			t.Errorf("the JWKS holds the private parameter %q", private)
		}
	}
	if !bytes.Equal(body, s.JWKS()) {
		t.Error("the handler and JWKS() differ")
	}
	res, _ = get(t, srv.URL, map[string]string{"If-None-Match": res.Header.Get("ETag")}, http.MethodGet)
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", res.StatusCode)
	}
	res, body = get(t, srv.URL, nil, http.MethodHead)
	if res.StatusCode != 200 || len(body) != 0 || res.ContentLength != int64(len(s.JWKS())) {
		t.Errorf("HEAD: %d, %d bytes, length %d", res.StatusCode, len(body), res.ContentLength)
	}
	res, _ = get(t, srv.URL, nil, http.MethodPost)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
}

func get(t *testing.T, u string, hdr map[string]string, method string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res, b.Bytes()
}
