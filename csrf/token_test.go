package csrf

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// flip changes the hex digit at i to another hex digit.
func flip(tok string, i int) string {
	c := byte('0')
	if tok[i] == '0' {
		c = '1'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

func TestTokenFormat(t *testing.T) {
	p := mustNew(t, Options{Secret: []byte("s")})
	tok := p.Mint("u1")
	mac, random, ok := strings.Cut(tok, ".")
	var m [macLen]byte
	var r [randomLen]byte
	if !ok || !decodeLowerHex(m[:], mac) || !decodeLowerHex(r[:], random) {
		t.Fatalf("token %q is not <64 hex>.<64 hex>", tok)
	}
	if p.Mint("u1") == tok {
		t.Error("two mints gave the same token")
	}
}

// The MAC is HMAC-SHA256 over the context label, then the random value and
// the binding, each prefixed with its length as 8 big-endian bytes, so that
// no two (random, binding) pairs share a message. Computed here without the
// pool, and asked of one signer twice: a pooled HMAC must be back at its
// keyed start.
func TestSignerMAC(t *testing.T) {
	key := []byte("k")
	var random [randomLen]byte
	copy(random[:], "some random bytes")
	want := func(binding string) [macLen]byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("apilayer-csrf-v1"))
		m.Write([]byte{0, 0, 0, 0, 0, 0, 0, randomLen})
		m.Write(random[:])
		n := make([]byte, 8)
		binary.BigEndian.PutUint64(n, uint64(len(binding)))
		m.Write(n)
		m.Write([]byte(binding))
		var out [macLen]byte
		m.Sum(out[:0])
		return out
	}
	s := newSigner(key)
	for _, binding := range []string{"u1", "u1", "", "u2", strings.Repeat("x", 300)} {
		var got [macLen]byte
		s.sign(&got, &random, binding)
		if got != want(binding) {
			t.Errorf("sign(%q) = %x, want %x", binding, got, want(binding))
		}
	}
}

func TestCheckToken(t *testing.T) {
	oldSecret, newSecret := []byte("old-secret"), []byte("new-secret")
	p := mustNew(t, Options{Secret: newSecret, PreviousSecrets: [][]byte{oldSecret}})
	old := mustNew(t, Options{Secret: oldSecret})
	other := mustNew(t, Options{Secret: []byte("another-secret")})
	valid := p.Mint("u1")

	tests := []struct {
		name    string
		cookies []string // values of __csrf cookies; nil = none
		header  string
		binding string
		want    error
	}{
		{"valid", []string{valid}, valid, "u1", nil},
		{"previous secret passes", []string{old.Mint("u1")}, "", "u1", nil},
		{"tampered hmac", []string{flip(valid, 0)}, "", "u1", ReasonBadSignature},
		{"tampered hmac last digit", []string{flip(valid, 63)}, "", "u1", ReasonBadSignature},
		{"tampered random", []string{flip(valid, 65)}, "", "u1", ReasonBadSignature},
		{"tampered random last digit", []string{flip(valid, len(valid)-1)}, "", "u1", ReasonBadSignature},
		{"other user's token", []string{p.Mint("u2")}, "", "u1", ReasonBadSignature},
		{"guest token for a user", []string{p.Mint("")}, "", "u1", ReasonBadSignature},
		{"user token for a guest", []string{valid}, valid, "", ReasonBadSignature},
		{"binding is exact", []string{p.Mint("u1 ")}, "", "u1", ReasonBadSignature},
		{"another secret", []string{other.Mint("u1")}, "", "u1", ReasonBadSignature},
		{"no cookie", nil, valid, "u1", ReasonMissingCookie},
		{"empty cookie", []string{""}, valid, "u1", ReasonMissingCookie},
		{"no header", []string{valid}, "-", "u1", ReasonMissingHeader},
		{"no cookie no header", nil, "-", "u1", ReasonMissingCookie},
		{"cookie header mismatch", []string{valid}, p.Mint("u1"), "u1", ReasonMismatch},
		{"mismatch by length", []string{valid}, valid + "0", "u1", ReasonMismatch},
		{"3 parts", []string{"ab.cd.ef"}, "", "u1", ReasonBadFormat},
		{"1 part", []string{strings.Repeat("a", 129)}, "", "u1", ReasonBadFormat},
		{"dot misplaced", []string{valid[:63] + "." + valid[63:64] + valid[65:]}, "", "u1", ReasonBadFormat},
		{"non-hex", []string{strings.Repeat("g", 64) + "." + strings.Repeat("a", 64)}, "", "u1", ReasonBadFormat},
		{"upper-case hex", []string{strings.ToUpper(valid)}, "", "u1", ReasonBadFormat},
		{"short random", []string{valid[:len(valid)-2]}, "", "u1", ReasonBadFormat},
		{"empty parts", []string{"."}, "", "u1", ReasonBadFormat},
		{"tossed cookie first, header repeats the real one", []string{other.Mint("u1"), valid}, valid, "u1", nil},
		{"tossed cookie repeated by the header", []string{valid, other.Mint("u1")}, "tossed", "u1", ReasonBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			for _, v := range tc.cookies {
				r.Header.Add("Cookie", "__csrf="+v)
			}
			switch tc.header {
			case "": // repeat the first cookie
				r.Header.Set("X-CSRF-Token", tc.cookies[0])
			case "-": // none
			case "tossed":
				r.Header.Set("X-CSRF-Token", tc.cookies[1])
			default:
				r.Header.Set("X-CSRF-Token", tc.header)
			}
			if err := p.CheckToken(r, tc.binding); err != tc.want {
				t.Errorf("CheckToken = %v, want %v", err, tc.want)
			}
			// Valid agrees with CheckToken on the token itself.
			if len(tc.cookies) == 1 && tc.header == "" {
				if got := p.Valid(tc.cookies[0], tc.binding); got != (tc.want == nil) {
					t.Errorf("Valid = %v, want %v", got, tc.want == nil)
				}
			}
		})
	}
}

func TestCookie(t *testing.T) {
	p := mustNew(t, Options{CookieName: "xsrf"})
	tests := []struct {
		name   string
		secure bool
		domain string
		want   string
	}{
		{"plain", false, "", "xsrf=TOKEN; Path=/; SameSite=Strict"},
		{"secure with domain", true, "example.com", "xsrf=TOKEN; Path=/; Domain=example.com; Secure; SameSite=Strict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := p.Cookie("TOKEN", tc.secure, tc.domain)
			if c.HttpOnly {
				t.Error("the token cookie must be readable by script")
			}
			if got := c.String(); got != tc.want {
				t.Errorf("cookie = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEnsure(t *testing.T) {
	oldSecret := []byte("old")
	p := mustNew(t, Options{Secret: []byte("new"), PreviousSecrets: [][]byte{oldSecret}})
	old := mustNew(t, Options{Secret: oldSecret})
	user := p.Mint("u1")
	tests := []struct {
		name    string
		cookies []string
		binding string
		reissue bool
	}{
		{"no cookie", nil, "u1", true},
		{"valid token kept (no rotation)", []string{user}, "u1", false},
		{"valid token among others", []string{"junk", user}, "u1", false},
		{"binding changed at login", []string{p.Mint("")}, "u1", true},
		{"binding changed at logout", []string{user}, "", true},
		{"tampered token", []string{flip(user, 3)}, "u1", true},
		{"previous secret re-signed", []string{old.Mint("u1")}, "u1", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for _, v := range tc.cookies {
				r.AddCookie(&http.Cookie{Name: "__csrf", Value: v})
			}
			w := httptest.NewRecorder()
			got := p.Ensure(w, r, tc.binding, true, "example.com")
			set := w.Result().Cookies()
			if !tc.reissue {
				if len(set) != 0 {
					t.Errorf("Ensure set %d cookies, want none", len(set))
				}
				if got != user {
					t.Errorf("Ensure returned %q, want the existing token", got)
				}
				return
			}
			if len(set) != 1 {
				t.Fatalf("Ensure set %d cookies, want 1", len(set))
			}
			c := set[0]
			if c.Value != got || !p.Valid(got, tc.binding) {
				t.Errorf("issued %q, returned %q; want one token valid for %q", c.Value, got, tc.binding)
			}
			if c.Name != "__csrf" || c.Path != "/" || c.Domain != "example.com" || !c.Secure || c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("cookie attributes = %+v", c)
			}
			// Idempotent within the request: a second call reuses it.
			if again := p.Ensure(w, r, tc.binding, true, "example.com"); again != got || len(w.Result().Cookies()) != 1 {
				t.Errorf("second Ensure minted again (%q, %d cookies)", again, len(w.Result().Cookies()))
			}
		})
	}
}

// A browser-like flow against a real server: a page issues the cookie, the
// script repeats it in the header, login and logout change the binding, a
// refresh does not.
func TestBrowserFlow(t *testing.T) {
	p := mustNew(t, Options{Secret: []byte("flow-secret")})
	binding := func(r *http.Request) string {
		if c, err := r.Cookie("session"); err == nil {
			user, _, _ := strings.Cut(c.Value, ":") // "<user>:<token generation>"
			return user
		}
		return ""
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		p.Ensure(w, r, binding(r), false, "")
		io.WriteString(w, "page")
	})
	guarded := func(next func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := p.Check(r, binding(r)); err != nil {
				w.Header().Set("X-Test-Reason", err.(Reason).Error())
				http.Error(w, "refused", http.StatusForbidden)
				return
			}
			next(w, r)
		}
	}
	mux.HandleFunc("POST /action", guarded(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "done")
	}))
	mux.HandleFunc("POST /login", guarded(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "u1:1", Path: "/"})
		p.Ensure(w, r, "u1", false, "") // the request's token is the anonymous one
	}))
	mux.HandleFunc("POST /refresh", guarded(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: binding(r) + ":2", Path: "/"})
		p.Ensure(w, r, binding(r), false, "")
	}))
	mux.HandleFunc("POST /logout", guarded(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Path: "/", MaxAge: -1})
		p.Ensure(w, r, "", false, "")
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := srv.Client()
	client.Jar = jar
	base, _ := url.Parse(srv.URL)
	token := func() string {
		for _, c := range jar.Cookies(base) {
			if c.Name == "__csrf" {
				return c.Value
			}
		}
		return ""
	}
	do := func(method, path, header string, extra ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if header != "" {
			req.Header.Set("X-Csrf-Token", header)
		}
		for i := 0; i+1 < len(extra); i += 2 {
			req.Header.Set(extra[i], extra[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Test-Reason")
	}
	expect := func(step string, gotStatus int, gotReason string, wantStatus int, wantReason Reason) {
		t.Helper()
		if gotStatus != wantStatus {
			t.Fatalf("%s: status %d, want %d (reason %q)", step, gotStatus, wantStatus, gotReason)
		}
		if wantReason != "" && gotReason != wantReason.Error() {
			t.Fatalf("%s: reason %q, want %q", step, gotReason, wantReason)
		}
	}

	st, why := do("POST", "/action", "")
	expect("POST before any page", st, why, 403, ReasonMissingCookie)

	st, why = do("GET", "/page", "")
	expect("GET page", st, why, 200, "")
	anon := token()
	if !p.Valid(anon, "") {
		t.Fatalf("anonymous visitor got no valid token (%q)", anon)
	}
	st, why = do("GET", "/page", "")
	expect("GET page again", st, why, 200, "")
	if token() != anon {
		t.Fatal("the token was rotated on a second page view")
	}

	st, why = do("POST", "/action", anon)
	expect("POST with header", st, why, 200, "")
	st, why = do("POST", "/action", "")
	expect("POST without header", st, why, 403, ReasonMissingHeader)
	st, why = do("POST", "/action", anon, "Sec-Fetch-Site", "cross-site")
	expect("cross-site POST with the token", st, why, 403, ReasonCrossSite)
	st, why = do("POST", "/action", "", "Sec-Fetch-Site", "same-origin")
	expect("same-origin POST without the token", st, why, 200, "")

	st, why = do("POST", "/login", anon)
	expect("login", st, why, 200, "")
	userTok := token()
	if userTok == anon || !p.Valid(userTok, "u1") {
		t.Fatal("login did not re-issue a token bound to the user")
	}
	st, why = do("POST", "/action", anon)
	expect("anonymous token after login", st, why, 403, ReasonMismatch)
	st, why = do("POST", "/action", userTok)
	expect("user token after login", st, why, 200, "")

	st, why = do("POST", "/refresh", userTok)
	expect("refresh", st, why, 200, "")
	if token() != userTok {
		t.Fatal("a refresh (same binding) changed the token")
	}
	st, why = do("POST", "/action", userTok)
	expect("user token after refresh", st, why, 200, "")

	st, why = do("POST", "/logout", userTok)
	expect("logout", st, why, 200, "")
	if token() == userTok || !p.Valid(token(), "") {
		t.Fatal("logout did not re-issue an anonymous token")
	}
	// The user's token, even replayed in both places, no longer fits.
	jar.SetCookies(base, []*http.Cookie{{Name: "__csrf", Value: userTok, Path: "/"}})
	st, why = do("POST", "/action", userTok)
	expect("user token after logout", st, why, 403, ReasonBadSignature)
}
