package cors

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apilayer/apilayer/respond"
)

const app = "https://app.example.com"

func mustNew(t testing.TB, o Options) *Policy {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		origins []string
		want    []string // normalized, sorted
		errs    []string
	}{
		{"exact origins", []string{app, "http://localhost:5173"}, []string{app, "http://localhost:5173"}, nil},
		{"case and default port", []string{"HTTPS://App.Example.COM:443", "http://x.example:80"}, []string{app, "http://x.example"}, nil},
		{"non-default port kept", []string{"https://app.example.com:8443"}, []string{"https://app.example.com:8443"}, nil},
		{"ipv6", []string{"http://[::1]:3000"}, []string{"http://[::1]:3000"}, nil},
		{"wildcard refused", []string{"*"}, nil, []string{`cors: allowedOrigins[0]: "*" is not allowed`}},
		{"trailing slash", []string{app + "/"}, nil, []string{"cors: allowedOrigins[0]: invalid origin"}},
		{"path", []string{app + "/x"}, nil, []string{"without user, path, query or fragment"}},
		{"query", []string{app + "?a=1"}, nil, []string{"allowedOrigins[0]"}},
		{"empty query", []string{app + "?"}, nil, []string{"allowedOrigins[0]"}},
		{"fragment", []string{app + "#f"}, nil, []string{"allowedOrigins[0]"}},
		{"user", []string{"https://u@app.example.com"}, nil, []string{"allowedOrigins[0]"}},
		{"no scheme", []string{"app.example.com"}, nil, []string{"allowedOrigins[0]"}},
		{"other scheme", []string{"ftp://app.example.com"}, nil, []string{"with scheme http or https"}},
		{"no host", []string{"https://"}, nil, []string{"host is required"}},
		{"empty port", []string{"https://app.example.com:"}, nil, []string{"host is required"}},
		{"null", []string{"null"}, nil, []string{"allowedOrigins[0]"}},
		{"empty", []string{""}, nil, []string{"allowedOrigins[0]"}},
		{"every error", []string{app, "*", "x"}, nil, []string{"allowedOrigins[1]", "allowedOrigins[2]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(Options{AllowedOrigins: tc.origins})
			if tc.errs == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if got := p.Origins(); !reflect.DeepEqual(got, slices.Sorted(slices.Values(tc.want))) {
					t.Errorf("Origins() = %q, want %q", got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatal("New accepted invalid origins")
			}
			for _, w := range tc.errs {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewHeadersAndMaxAge(t *testing.T) {
	tests := []struct {
		name        string
		o           Options
		wantHeaders string
		wantMaxAge  string
		wantErr     string
	}{
		{"defaults", Options{}, "content-type, x-csrf-token, x-requested-with", "600", ""},
		{"custom", Options{AllowedHeaders: []string{"X-Custom", " Authorization "}, MaxAge: time.Hour}, "x-custom, authorization", "3600", ""},
		{"none", Options{AllowedHeaders: []string{}, MaxAge: -1}, "", "", ""},
		{"wildcard header", Options{AllowedHeaders: []string{"*"}}, "", "", "cors: allowedHeaders[0]: not a header name"},
		{"bad header", Options{AllowedHeaders: []string{"a b"}}, "", "", "cors: allowedHeaders[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.AllowedOrigins = []string{app}
			p, err := New(tc.o)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			p.Apply(w, preflight(app))
			if got := w.Header().Get("Access-Control-Allow-Headers"); got != tc.wantHeaders {
				t.Errorf("Allow-Headers = %q, want %q", got, tc.wantHeaders)
			}
			if got := w.Header().Get("Access-Control-Max-Age"); got != tc.wantMaxAge {
				t.Errorf("Max-Age = %q, want %q", got, tc.wantMaxAge)
			}
			if _, ok := w.Header()["Access-Control-Max-Age"]; !ok && tc.wantMaxAge != "" {
				t.Error("Max-Age missing")
			}
		})
	}
}

func preflight(origin string) *http.Request {
	r := httptest.NewRequest("OPTIONS", "https://gw.example/api/cart", nil)
	r.Header.Set("Origin", origin)
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "content-type, x-csrf-token")
	return r
}

func TestApply(t *testing.T) {
	p := mustNew(t, Options{AllowedOrigins: []string{app, "http://localhost:5173"}})
	simple := func(method, origin string) *http.Request {
		r := httptest.NewRequest(method, "https://gw.example/api/cart", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return r
	}
	optionsNoACRM := httptest.NewRequest("OPTIONS", "https://gw.example/", nil)
	optionsNoACRM.Header.Set("Origin", app)
	acrmNoOrigin := httptest.NewRequest("OPTIONS", "https://gw.example/", nil)
	acrmNoOrigin.Header.Set("Access-Control-Request-Method", "POST")

	all := map[string]string{
		"Access-Control-Allow-Origin":      "",
		"Access-Control-Allow-Credentials": "",
		"Access-Control-Allow-Methods":     "",
		"Access-Control-Allow-Headers":     "",
		"Access-Control-Max-Age":           "",
		"Access-Control-Expose-Headers":    "",
	}
	with := func(kv ...string) map[string]string {
		m := make(map[string]string, len(all))
		for k := range all {
			m[k] = ""
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	const expose = "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, X-Request-ID"

	tests := []struct {
		name        string
		r           *http.Request
		handled     bool
		status      int // when handled
		vary        []string
		wantHeaders map[string]string
	}{
		{"preflight allowed", preflight(app), true, 204,
			[]string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"},
			with("Access-Control-Allow-Origin", app,
				"Access-Control-Allow-Credentials", "true",
				"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS",
				"Access-Control-Allow-Headers", "content-type, x-csrf-token, x-requested-with",
				"Access-Control-Max-Age", "600")},
		{"preflight second origin", preflight("http://localhost:5173"), true, 204,
			[]string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"},
			with("Access-Control-Allow-Origin", "http://localhost:5173",
				"Access-Control-Allow-Credentials", "true",
				"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS",
				"Access-Control-Allow-Headers", "content-type, x-csrf-token, x-requested-with",
				"Access-Control-Max-Age", "600")},
		{"preflight foreign origin", preflight("https://evil.example"), true, 204,
			[]string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}, with()},
		{"preflight null origin", preflight("null"), true, 204,
			[]string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}, with()},
		{"preflight origin differs in case", preflight("https://APP.example.com"), true, 204,
			[]string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}, with()},
		{"credentialed simple request", simple("POST", app), false, 0, []string{"Origin"},
			with("Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "true",
				"Access-Control-Expose-Headers", expose)},
		{"allowed GET", simple("GET", app), false, 0, []string{"Origin"},
			with("Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "true",
				"Access-Control-Expose-Headers", expose)},
		{"foreign simple request", simple("POST", "https://evil.example"), false, 0, []string{"Origin"}, with()},
		{"origin prefix is not the origin", simple("POST", app+".evil.example"), false, 0, []string{"Origin"}, with()},
		{"no origin", simple("GET", ""), false, 0, []string{"Origin"}, with()},
		{"plain OPTIONS is not a preflight", optionsNoACRM, false, 0, []string{"Origin"},
			with("Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "true",
				"Access-Control-Expose-Headers", expose)},
		{"OPTIONS without origin is not a preflight", acrmNoOrigin, false, 0, []string{"Origin"}, with()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			handled := p.Apply(w, tc.r)
			if handled != tc.handled {
				t.Fatalf("handled = %v, want %v", handled, tc.handled)
			}
			if handled && w.Code != tc.status {
				t.Errorf("status = %d, want %d", w.Code, tc.status)
			}
			if !handled && w.Code != 200 { // the recorder's default: nothing written
				t.Errorf("Apply wrote a status (%d) for a request it did not handle", w.Code)
			}
			if got := w.Header().Values("Vary"); !reflect.DeepEqual(got, tc.vary) {
				t.Errorf("Vary = %q, want %q", got, tc.vary)
			}
			for k, want := range tc.wantHeaders {
				if got := w.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// With Apply first, a refusal later in the pipeline still carries the CORS
// headers, over a real connection.
func TestRefusalsCarryHeaders(t *testing.T) {
	p := mustNew(t, Options{AllowedOrigins: []string{app}})
	pipeline := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/csrf":
			respond.Error(w, http.StatusForbidden, respond.MsgCSRF)
		case "/limited":
			w.Header().Set("Retry-After", "7")
			respond.Error(w, http.StatusTooManyRequests, respond.MsgTooManyRequests)
		case "/anon":
			respond.Error(w, http.StatusUnauthorized, respond.MsgTokenNotFound)
		default:
			w.Write([]byte("ok"))
		}
	}))
	srv := httptest.NewServer(pipeline)
	defer srv.Close()

	tests := []struct {
		name       string
		method     string
		path       string
		origin     string
		preflight  bool
		wantStatus int
		wantACAO   string
	}{
		{"403 csrf", "POST", "/csrf", app, false, 403, app},
		{"429 limited", "GET", "/limited", app, false, 429, app},
		{"401 anonymous", "GET", "/anon", app, false, 401, app},
		{"200 ok", "GET", "/", app, false, 200, app},
		{"403 to a foreign origin has none", "POST", "/csrf", "https://evil.example", false, 403, ""},
		{"preflight never reaches the pipeline", "OPTIONS", "/csrf", app, true, 204, app},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			req.Header.Set("Origin", tc.origin)
			if tc.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.wantACAO {
				t.Errorf("Allow-Origin = %q, want %q", got, tc.wantACAO)
			}
			wantCred := ""
			if tc.wantACAO != "" {
				wantCred = "true"
			}
			if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != wantCred {
				t.Errorf("Allow-Credentials = %q, want %q", got, wantCred)
			}
			if !slices.Contains(resp.Header.Values("Vary"), "Origin") {
				t.Errorf("Vary = %q, want Origin", resp.Header.Values("Vary"))
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	p := mustNew(t, Options{AllowedOrigins: []string{"HTTPS://App.Example.com:443"}})
	for origin, want := range map[string]bool{
		app:                         true,
		"https://app.example.com/":  false,
		"http://app.example.com":    false,
		"https://app.example.com:1": false,
		"null":                      false,
		"":                          false,
	} {
		t.Run(origin, func(t *testing.T) {
			if got := p.Allowed(origin); got != want {
				t.Errorf("Allowed(%q) = %v, want %v", origin, got, want)
			}
		})
	}
}

func TestZeroOriginsAllowsNone(t *testing.T) {
	p := mustNew(t, Options{})
	w := httptest.NewRecorder()
	if !p.Apply(w, preflight(app)) || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a policy without origins allowed %s", app)
	}
}
