package csrf

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	trusted = "https://trusted.example"
	corsApp = "https://app.example"
	gwHost  = "gw.example"
)

func mustNew(t testing.TB, o Options) *Protection {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func newRequest(method, site, origin string) *http.Request {
	r := httptest.NewRequest(method, "https://"+gwHost+"/x", nil)
	if site != "" {
		r.Header.Set("Sec-Fetch-Site", site)
	}
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	return r
}

func TestCheckOrigin(t *testing.T) {
	base := Options{Secret: []byte("k"), TrustedOrigins: []string{trusted}, CORSOrigins: []string{corsApp}}
	with := func(f func(*Options)) Options { o := base; f(&o); return o }
	protections := map[string]*Protection{
		"both":           mustNew(t, base),
		"both+samesite":  mustNew(t, with(func(o *Options) { o.TrustSameSite = true })),
		"both+lower":     mustNew(t, with(func(o *Options) { o.IgnoreMethods = []string{"get", "Head", " options "} })),
		"fm":             mustNew(t, with(func(o *Options) { o.Strategy = StrategyFetchMetadata })),
		"fm+samesite":    mustNew(t, with(func(o *Options) { o.Strategy = StrategyFetchMetadata; o.TrustSameSite = true })),
		"fm+plain":       mustNew(t, Options{Strategy: StrategyFetchMetadata}),
		"fm+optionsonly": mustNew(t, Options{Strategy: StrategyFetchMetadata, IgnoreMethods: []string{"OPTIONS"}}),
		"fm+none":        mustNew(t, Options{Strategy: StrategyFetchMetadata, IgnoreMethods: []string{}}),
		"ds":             mustNew(t, with(func(o *Options) { o.Strategy = StrategyDoubleSubmit })),
	}

	tests := []struct {
		name   string
		p      string
		method string
		site   string
		origin string
		want   Outcome
		reason Reason
	}{
		// Ignored methods.
		{"both GET cross-site ignored", "both", "GET", "cross-site", "https://evil.example", Pass, ""},
		{"both HEAD cross-site ignored", "both", "HEAD", "cross-site", "", Pass, ""},
		{"both OPTIONS cross-site ignored", "both", "OPTIONS", "cross-site", "", Pass, ""},
		{"both lower-case request method ignored", "both", "get", "cross-site", "", Pass, ""},
		{"lower-case config GET ignored", "both+lower", "GET", "cross-site", "", Pass, ""},
		{"lower-case config HEAD ignored", "both+lower", "HEAD", "cross-site", "", Pass, ""},
		{"lower-case config OPTIONS ignored", "both+lower", "OPTIONS", "cross-site", "", Pass, ""},
		{"lower-case config POST still checked", "both+lower", "POST", "cross-site", "", Fail, ReasonCrossSite},
		{"GET not in ignoreMethods is checked", "fm+optionsonly", "GET", "cross-site", "", Fail, ReasonCrossSite},
		{"HEAD not in ignoreMethods is checked", "fm+optionsonly", "HEAD", "", "https://evil.example", Fail, ReasonOriginMismatch},
		{"OPTIONS in ignoreMethods passes", "fm+optionsonly", "OPTIONS", "cross-site", "", Pass, ""},
		{"empty ignoreMethods checks GET", "fm+none", "GET", "same-site", "", Fail, ReasonSameSite},
		{"empty ignoreMethods same-origin GET passes", "fm+none", "GET", "same-origin", "", Pass, ""},

		// Strategy both.
		{"both same-origin", "both", "POST", "same-origin", "", Pass, ""},
		{"both same-origin with foreign origin header", "both", "POST", "same-origin", "https://evil.example", Pass, ""},
		{"both cross-site", "both", "POST", "cross-site", "https://evil.example", Fail, ReasonCrossSite},
		{"both cross-site no origin", "both", "DELETE", "cross-site", "", Fail, ReasonCrossSite},
		{"both same-site untrusted", "both", "POST", "same-site", "https://sib.gw.example", Fail, ReasonSameSite},
		{"both same-site trusted", "both+samesite", "POST", "same-site", "https://sib.gw.example", Pass, ""},
		{"both cross-site with trustSameSite still fails", "both+samesite", "POST", "cross-site", "", Fail, ReasonCrossSite},
		{"both none needs token", "both", "POST", "none", "", NeedToken, ""},
		{"both absent needs token", "both", "POST", "", "", NeedToken, ""},
		{"both absent with foreign origin needs token", "both", "POST", "", "https://evil.example", NeedToken, ""},
		{"both absent with null origin needs token", "both", "POST", "", "null", NeedToken, ""},
		{"both garbage", "both", "POST", "Cross-Site", "", Fail, ReasonUnknownSite},
		{"both garbage 2", "both", "PATCH", "same-origin, cross-site", "", Fail, ReasonUnknownSite},
		{"both trusted origin cross-site", "both", "POST", "cross-site", trusted, Pass, ""},
		{"both trusted origin same-site", "both", "POST", "same-site", trusted, Pass, ""},
		{"both trusted origin garbage site", "both", "POST", "weird", trusted, Pass, ""},
		{"both cors origin cross-site needs token", "both", "POST", "cross-site", corsApp, NeedToken, ""},
		{"both cors origin same-site needs token", "both", "PUT", "same-site", corsApp, NeedToken, ""},
		{"both null origin cross-site", "both", "POST", "cross-site", "null", Fail, ReasonCrossSite},
		{"both trusted origin prefix is not trusted", "both", "POST", "cross-site", trusted + ".evil.example", Fail, ReasonCrossSite},

		// Strategy fetch-metadata: Go's csrf_test.go cases (Host gw.example).
		{"go same-origin allowed", "fm+plain", "POST", "same-origin", "", Pass, ""},
		{"go none allowed", "fm+plain", "POST", "none", "", Pass, ""},
		{"go cross-site blocked", "fm+plain", "POST", "cross-site", "", Fail, ReasonCrossSite},
		{"go same-site blocked", "fm+plain", "POST", "same-site", "", Fail, ReasonSameSite},
		{"go no header with no origin", "fm+plain", "POST", "", "", Pass, ""},
		{"go no header with matching origin", "fm+plain", "POST", "", "https://" + gwHost, Pass, ""},
		{"go no header with mismatched origin", "fm+plain", "POST", "", "https://attacker.example", Fail, ReasonOriginMismatch},
		{"go no header with null origin", "fm+plain", "POST", "", "null", Fail, ReasonOriginMismatch},
		{"go GET allowed", "fm+plain", "GET", "cross-site", "", Pass, ""},
		{"go HEAD allowed", "fm+plain", "HEAD", "cross-site", "", Pass, ""},
		{"go OPTIONS allowed", "fm+plain", "OPTIONS", "cross-site", "", Pass, ""},
		{"go PUT blocked", "fm+plain", "PUT", "cross-site", "", Fail, ReasonCrossSite},
		{"go trusted origin without sec-fetch-site", "fm", "POST", "", trusted, Pass, ""},
		{"go trusted origin with cross-site", "fm", "POST", "cross-site", trusted, Pass, ""},
		{"go untrusted origin without sec-fetch-site", "fm", "POST", "", "https://attacker.example", Fail, ReasonOriginMismatch},
		{"go untrusted origin with cross-site", "fm", "POST", "cross-site", "https://attacker.example", Fail, ReasonCrossSite},

		// Strategy fetch-metadata: ours.
		{"fm same-site trusted", "fm+samesite", "POST", "same-site", "", Pass, ""},
		{"fm cors origin passes", "fm", "POST", "cross-site", corsApp, Pass, ""},
		{"fm cors origin without sec-fetch-site passes", "fm", "POST", "", corsApp, Pass, ""},
		{"fm garbage", "fm", "POST", "garbage", "", Fail, ReasonUnknownSite},

		// Strategy double-submit: Fetch Metadata does not count.
		{"ds same-origin needs token", "ds", "POST", "same-origin", "", NeedToken, ""},
		{"ds cross-site needs token", "ds", "POST", "cross-site", "https://evil.example", NeedToken, ""},
		{"ds trusted origin needs token", "ds", "POST", "cross-site", trusted, NeedToken, ""},
		{"ds absent needs token", "ds", "POST", "", "", NeedToken, ""},
		{"ds GET ignored", "ds", "GET", "cross-site", "", Pass, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := protections[tc.p]
			if p == nil {
				t.Fatalf("no protection %q", tc.p)
			}
			got := p.CheckOrigin(newRequest(tc.method, tc.site, tc.origin))
			if got.Outcome != tc.want || got.Reason != tc.reason {
				t.Errorf("CheckOrigin = %v %q, want %v %q", got.Outcome, got.Reason, tc.want, tc.reason)
			}
		})
	}
}

func TestVerdictZeroValueFails(t *testing.T) {
	var v Verdict
	if v.Outcome != Fail || v.Outcome.String() != "fail" {
		t.Errorf("zero Verdict = %v, want fail", v.Outcome)
	}
	for o, want := range map[Outcome]string{Pass: "pass", NeedToken: "need-token", Fail: "fail"} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", o, got, want)
		}
	}
}

func TestIgnored(t *testing.T) {
	tests := []struct {
		name    string
		methods []string
		method  string
		want    bool
	}{
		{"default GET", nil, "GET", true},
		{"default get", nil, "get", true},
		{"default POST", nil, "POST", false},
		{"lower-case entry", []string{"put"}, "PUT", true},
		{"mixed-case entry", []string{"Delete"}, "delete", true},
		{"empty list ignores nothing", []string{}, "GET", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustNew(t, Options{IgnoreMethods: tc.methods})
			if got := p.Ignored(tc.method); got != tc.want {
				t.Errorf("Ignored(%q) = %v, want %v", tc.method, got, tc.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	p := mustNew(t, Options{})
	if p.Strategy() != StrategyBoth || p.CookieName() != "__csrf" || p.HeaderName() != "x-csrf-token" {
		t.Errorf("defaults = %q %q %q", p.Strategy(), p.CookieName(), p.HeaderName())
	}
	// Two processes without a secret do not accept each other's tokens.
	q := mustNew(t, Options{})
	if q.Valid(p.Mint(""), "") {
		t.Error("random per-process secrets accepted each other's token")
	}
	if !p.Valid(p.Mint(""), "") {
		t.Error("random secret rejected its own token")
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{"strategy", Options{Strategy: "Both"}, []string{`csrf: strategy: must be both, fetch-metadata or double-submit (got "Both")`}},
		{"trusted origin path", Options{TrustedOrigins: []string{"https://ok.example", "https://a.example/"}}, []string{"csrf: trustedOrigins[1]: invalid origin"}},
		{"trusted origin no scheme", Options{TrustedOrigins: []string{"a.example"}}, []string{"csrf: trustedOrigins[0]"}},
		{"trusted null", Options{TrustedOrigins: []string{"null"}}, []string{"csrf: trustedOrigins[0]"}},
		{"cors origin", Options{CORSOrigins: []string{"*"}}, []string{"csrf: corsOrigins[0]"}},
		{"previous secret", Options{PreviousSecrets: [][]byte{[]byte("a"), nil}}, []string{"csrf: previousSecrets[1]: empty secret"}},
		{"cookie name", Options{CookieName: "a b"}, []string{`csrf: cookieName: not a valid cookie name (got "a b")`}},
		{"header name", Options{HeaderName: "x:y"}, []string{`csrf: headerName: not a valid header name (got "x:y")`}},
		{"method", Options{IgnoreMethods: []string{"GET", ""}}, []string{"csrf: ignoreMethods[1]: not a valid method"}},
		{"all at once", Options{Strategy: "x", CookieName: ";", TrustedOrigins: []string{""}},
			[]string{"csrf: strategy", "csrf: cookieName", "csrf: trustedOrigins[0]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.o)
			if err == nil || p != nil {
				t.Fatalf("New = %v, %v; want an error", p, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	p := mustNew(t, Options{Secret: []byte("s")})
	tok := p.Mint("u1")
	tests := []struct {
		name    string
		site    string
		token   string
		binding string
		want    error
	}{
		{"same-origin without token", "same-origin", "", "u1", nil},
		{"cross-site with valid token", "cross-site", tok, "u1", ReasonCrossSite},
		{"no metadata valid token", "", tok, "u1", nil},
		{"no metadata other binding", "", tok, "u2", ReasonBadSignature},
		{"no metadata no token", "", "", "u1", ReasonMissingCookie},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest("POST", tc.site, "")
			if tc.token != "" {
				r.AddCookie(&http.Cookie{Name: "__csrf", Value: tc.token})
				r.Header.Set("X-Csrf-Token", tc.token)
			}
			err := p.Check(r, tc.binding)
			if err != tc.want {
				t.Errorf("Check = %v, want %v", err, tc.want)
			}
			if err != nil {
				var reason Reason
				if !errors.As(err, &reason) || reason != tc.want {
					t.Errorf("errors.As reason = %q", reason)
				}
				if !strings.HasPrefix(err.Error(), "csrf: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
			}
		})
	}
}

func TestHandler(t *testing.T) {
	p := mustNew(t, Options{Secret: []byte("s")})
	var calls int
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusNoContent)
	}))
	anon := p.Mint("")
	tests := []struct {
		name       string
		method     string
		site       string
		token      string
		wantStatus int
		wantCookie bool
	}{
		{"GET issues the cookie", "GET", "", "", 204, true},
		{"GET with valid token keeps it", "GET", "", anon, 204, false},
		{"POST same-origin", "POST", "same-origin", "", 204, true},
		{"POST cross-site", "POST", "cross-site", anon, 403, false},
		{"POST no metadata valid token", "POST", "", anon, 204, false},
		{"POST no metadata no token", "POST", "", "", 403, false},
		{"POST user-bound token", "POST", "", p.Mint("u1"), 403, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls = 0
			r := newRequest(tc.method, tc.site, "")
			if tc.token != "" {
				r.AddCookie(&http.Cookie{Name: "__csrf", Value: tc.token})
				r.Header.Set("X-Csrf-Token", tc.token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			if tc.wantStatus == 403 {
				if calls != 0 {
					t.Error("next was called for a refused request")
				}
				if got := w.Body.String(); got != `{"success":false,"message":"CSRF validation failed.","code":"csrf"}`+"\n" {
					t.Errorf("body = %q", got)
				}
			}
			if got := len(w.Result().Cookies()) == 1; got != tc.wantCookie {
				t.Errorf("cookie set = %v, want %v", got, tc.wantCookie)
			}
		})
	}
}
