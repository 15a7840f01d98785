package apilayer_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/config"
)

// signed turns identity.sign on, with the header name given ("" keeps the
// default), and returns a verifier of the gateway's JWKS.
func signedEnv(t *testing.T, header string) (*env, *assertion.Verifier) {
	t.Helper()
	e := newEnv(t, func(c *config.Config) {
		c.Identity = config.Identity{Sign: true, Header: header}
	})
	v, err := assertion.NewVerifier(t.Context(), assertion.VerifierOptions{
		JWKSURL:  e.srv.URL + assertion.JWKSPath,
		Audience: strings.TrimSuffix(e.upstream.URL(), "/"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return e, v
}

func TestSignedIdentity(t *testing.T) {
	e, v := signedEnv(t, "")
	forged := map[string]string{"X-Auth-Assertion": "forged", "X_Auth_Assertion": "forged"}

	res := e.do(req{path: "/page", header: forged, cookies: map[string]string{userCookie: e.login("alice")}})
	wantStatus(t, res, http.StatusOK)
	up := e.lastUpstream()
	if got := up.Header.Values("X-Auth-Assertion"); len(got) != 1 {
		t.Fatalf("the web app received X-Auth-Assertion %q, want the gateway's one", got)
	}
	for k := range up.Header {
		if strings.EqualFold(k, "X_Auth_Assertion") {
			t.Errorf("the web app received the client's %s", k)
		}
	}
	c, err := v.Verify(t.Context(), up.Header.Get("X-Auth-Assertion"))
	if err != nil {
		t.Fatalf("the assertion does not verify against the gateway's JWKS: %v", err)
	}
	b, _ := base64.StdEncoding.DecodeString(up.Header.Get("X-Auth-User"))
	var user map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&user); err != nil {
		t.Fatal(err)
	}
	if c.Type != "user" || c.User["username"] != "alice" || c.Subject != demoUserID(t, e, "alice") || c.Issuer != "apilayer" {
		t.Errorf("claims = %+v, want alice's", c)
	}
	if len(c.User) != len(user) {
		t.Errorf("the assertion's user %v is not X-Auth-User's %v", c.User, user)
	}

	// The same identity again: the same token (signatures are reused).
	e.do(req{path: "/page", cookies: map[string]string{userCookie: e.login("alice")}})
	if got := e.lastUpstream().Header.Get("X-Auth-Assertion"); got != up.Header.Get("X-Auth-Assertion") {
		t.Error("a second request of the same identity was signed again")
	}

	// A guest: an assertion of type guest.
	e.do(req{path: "/page", cookies: map[string]string{guestCookie: e.guestToken()}})
	if c, err := v.Verify(t.Context(), e.lastUpstream().Header.Get("X-Auth-Assertion")); err != nil || c.Type != "guest" {
		t.Errorf("guest assertion: %+v, %v", c, err)
	}

	// The API proxy's backend never receives one.
	e.do(req{path: "/api/posts", header: forged, cookies: map[string]string{userCookie: e.login("alice")}})
	for k := range e.lastBackend("/api/posts").Header {
		if strings.EqualFold(strings.ReplaceAll(k, "_", "-"), "X-Auth-Assertion") {
			t.Errorf("the backend received %s", k)
		}
	}
}

func TestSignedIdentityUnderAnotherName(t *testing.T) {
	e, v := signedEnv(t, "X-Identity")
	res := e.do(req{path: "/page",
		header:  map[string]string{"X_Identity": "forged", "x-identity": "forged", "Connection": "X-Identity"},
		cookies: map[string]string{userCookie: e.login("alice")}})
	wantStatus(t, res, http.StatusOK)
	up := e.lastUpstream()
	var got []string
	for k, vs := range up.Header {
		if strings.EqualFold(strings.ReplaceAll(k, "_", "-"), "X-Identity") {
			got = append(got, vs...)
		}
	}
	if len(got) != 1 || got[0] == "forged" {
		t.Fatalf("the web app received %q under X-Identity's spellings, want the gateway's one", got)
	}
	if _, err := v.Verify(t.Context(), got[0]); err != nil {
		t.Errorf("the assertion does not verify: %v", err)
	}
	// An anonymous forger gets nothing through.
	s := newSecEnv(t, func(c *config.Config) { c.Identity = config.Identity{Sign: true, Header: "X-Identity"} })
	s.do(req{path: "/page", header: map[string]string{"X_Identity": "forged", "X-Identity": "forged"}})
	for k := range s.lastUpstream().Header {
		if strings.EqualFold(strings.ReplaceAll(k, "_", "-"), "X-Identity") {
			t.Errorf("an anonymous visitor's %s reached the web app", k)
		}
	}
}
