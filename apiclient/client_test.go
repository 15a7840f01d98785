package apiclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/requestid"
)

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"no base URL", Config{}, []string{"BaseURL: required"}},
		{"relative base URL", Config{BaseURL: "/api"}, []string{"BaseURL: want an absolute http or https URL"}},
		{"base URL with query", Config{BaseURL: "http://b/api?x=1"}, []string{"must not have a query"}},
		{"every problem at once", Config{
			BaseURL:         "ftp://b/",
			PublicEndpoints: []string{"/news/*", "a**b"},
			MethodSpoofing:  MethodSpoofing{Strategy: "query"},
			Retry:           Retry{Jitter: 2},
		}, []string{"BaseURL", "PublicEndpoints", "MethodSpoofing.Strategy", "Retry.Jitter"}},
		{"absolute public glob", Config{BaseURL: "http://b/", PublicEndpoints: []string{"/news/*"}}, []string{"drop the leading slash"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil {
				t.Fatal("New: no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestTokenRules(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*Config)
		token     string
		endpoint  string
		opts      []CallOption
		wantAuth  string // Authorization the backend must see; "-" for no call
		wantNoTok bool
	}{
		{name: "token sent", token: "tok-a", endpoint: "posts", wantAuth: "Bearer tok-a"},
		{name: "no token fails without a call", endpoint: "posts", wantAuth: "-", wantNoTok: true},
		{name: "SkipAuth", token: "tok-a", endpoint: "posts", opts: []CallOption{SkipAuth()}, wantAuth: ""},
		{name: "SkipAuth without token", endpoint: "posts", opts: []CallOption{SkipAuth()}, wantAuth: ""},
		{name: "public endpoint", edit: func(c *Config) { c.PublicEndpoints = []string{"news/*", "public/**"} },
			token: "tok-a", endpoint: "news/1", wantAuth: ""},
		{name: "public ** endpoint without token", edit: func(c *Config) { c.PublicEndpoints = []string{"public/**"} },
			endpoint: "public/a/b?x=1", wantAuth: ""},
		{name: "public glob is one segment", edit: func(c *Config) { c.PublicEndpoints = []string{"news/*"} },
			endpoint: "news/1/comments", wantAuth: "-", wantNoTok: true},
		{name: "public glob is literal", edit: func(c *Config) { c.PublicEndpoints = []string{"v1.0/*"} },
			endpoint: "v1x0/a", wantAuth: "-", wantNoTok: true},
		{name: "skipAuthByDefault", edit: func(c *Config) { c.SkipAuthByDefault = true },
			token: "tok-a", endpoint: "posts", wantAuth: ""},
		{name: "WithAuth beats skipAuthByDefault", edit: func(c *Config) { c.SkipAuthByDefault = true },
			token: "tok-a", endpoint: "posts", opts: []CallOption{WithAuth()}, wantAuth: "Bearer tok-a"},
		{name: "WithAuth on a public endpoint without token", edit: func(c *Config) { c.PublicEndpoints = []string{"news/*"} },
			endpoint: "news/1", opts: []CallOption{WithAuth()}, wantAuth: "-", wantNoTok: true},
		{name: "token replaces a default Authorization", edit: func(c *Config) { c.Headers = http.Header{"Authorization": {"Basic x"}} },
			token: "tok-a", endpoint: "posts", wantAuth: "Bearer tok-a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, nil)
			c, _ := newClient(t, b, tt.edit)
			ctx := withToken(t.Context(), tt.token)
			_, err := c.Get(ctx, tt.endpoint, tt.opts...)
			if tt.wantNoTok {
				var ae *AuthError
				if !errors.As(err, &ae) || ae.Reason != NoToken || !errors.Is(err, ErrNoToken) || ae.Status() != 401 {
					t.Fatalf("err = %v, want an AuthError no_token", err)
				}
			} else if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if tt.wantAuth == "-" {
				if n := b.count(); n != 0 {
					t.Fatalf("backend called %d times, want 0", n)
				}
				return
			}
			if got := b.last(t).Header.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", got, tt.wantAuth)
			}
		})
	}
}

func TestEndpointsAndQuery(t *testing.T) {
	tests := []struct {
		name         string
		base         string
		endpoint     string
		opts         []CallOption
		locale       string
		edit         func(*Config)
		wantPath     string
		wantQuery    url.Values
		wantRawQuery string
		wantBad      bool
	}{
		{name: "plain", endpoint: "users/5", wantPath: "/api/users/5", wantQuery: url.Values{}},
		{name: "leading slash", endpoint: "/users/5?x=1", wantPath: "/api/users/5", wantQuery: url.Values{"x": {"1"}}},
		{name: "query kept as written", endpoint: "search?q=a+b&f=x;y", wantPath: "/api/search", wantRawQuery: "q=a+b&f=x;y"},
		{name: "base without slash", base: "/v1", endpoint: "users", wantPath: "/v1/users", wantQuery: url.Values{}},
		{name: "protocol-relative stays below base", endpoint: "//evil.example/x", wantPath: "/api/evil.example/x", wantQuery: url.Values{}},
		{name: "WithQuery (params)", endpoint: "posts?page=1&q=a", opts: []CallOption{WithQuery(url.Values{"page": {"2"}, "sort": {"new"}})},
			wantPath: "/api/posts", wantQuery: url.Values{"page": {"2"}, "q": {"a"}, "sort": {"new"}}},
		{name: "locale", endpoint: "posts", locale: "tr", wantPath: "/api/posts", wantQuery: url.Values{"lang": {"tr"}}},
		{name: "locale replaces a lang param", endpoint: "posts?lang=en", locale: "tr", wantPath: "/api/posts", wantQuery: url.Values{"lang": {"tr"}}},
		{name: "param name", endpoint: "posts", locale: "de", edit: func(c *Config) { c.I18n.ParamName = "locale" },
			wantPath: "/api/posts", wantQuery: url.Values{"locale": {"de"}}},
		{name: "locale not allowed falls back to default", endpoint: "posts", locale: "xx",
			edit:     func(c *Config) { c.I18n.Locales = []string{"en", "tr"}; c.I18n.DefaultLocale = "en" },
			wantPath: "/api/posts", wantQuery: url.Values{"lang": {"en"}}},
		{name: "locale not allowed, no default", endpoint: "posts", locale: "xx",
			edit:     func(c *Config) { c.I18n.Locales = []string{"en"} },
			wantPath: "/api/posts", wantQuery: url.Values{}},
		{name: "default locale without one", endpoint: "posts", edit: func(c *Config) { c.I18n.DefaultLocale = "en" },
			wantPath: "/api/posts", wantQuery: url.Values{"lang": {"en"}}},
		{name: "dot dot", endpoint: "users/../admin", wantBad: true},
		{name: "leading dot dot", endpoint: "../admin", wantBad: true},
		{name: "encoded dot dot", endpoint: "users/%2e%2e/admin", wantBad: true},
		{name: "encoded slash dot dot", endpoint: "users/..%2Fadmin", wantBad: true},
		{name: "dot", endpoint: "./posts", wantBad: true},
		{name: "absolute URL", endpoint: "http://evil.example/x", wantBad: true},
		{name: "scheme", endpoint: "javascript:alert(1)", wantBad: true},
		{name: "bad escape", endpoint: "users/%zz", wantBad: true},
		{name: "control byte", endpoint: "users/%00", wantBad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, nil)
			base := b.URL()
			if tt.base != "" {
				base = b.srv.URL + tt.base
			}
			c, _ := newClient(t, b, func(c *Config) {
				c.BaseURL = base
				c.LocaleFrom = func(context.Context) string { return tt.locale }
				if tt.edit != nil {
					tt.edit(c)
				}
			})
			_, err := c.Get(userCtx(t), tt.endpoint, tt.opts...)
			if tt.wantBad {
				if !errors.Is(err, ErrBadEndpoint) {
					t.Fatalf("err = %v, want ErrBadEndpoint", err)
				}
				if b.count() != 0 {
					t.Fatal("a bad endpoint reached the backend")
				}
				return
			}
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			got := b.last(t)
			if got.Path != tt.wantPath {
				t.Errorf("path = %q, want %q", got.Path, tt.wantPath)
			}
			if tt.wantRawQuery != "" {
				if got.RawQuery != tt.wantRawQuery {
					t.Errorf("raw query = %q, want %q", got.RawQuery, tt.wantRawQuery)
				}
			} else if got.Query.Encode() != tt.wantQuery.Encode() {
				t.Errorf("query = %q, want %q", got.Query.Encode(), tt.wantQuery.Encode())
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	b := newBackend(t, nil)
	c, _ := newClient(t, b, func(c *Config) {
		c.Headers = http.Header{"x-app": {"shop"}, "Accept": {"application/vnd.api+json"}}
	})
	if _, err := c.Get(userCtx(t), "posts", WithHeader("X-Trace", "t1"), WithHeader("x-app", "override")); err != nil {
		t.Fatal(err)
	}
	h := b.last(t).Header
	for k, want := range map[string]string{"X-App": "override", "Accept": "application/vnd.api+json", "X-Trace": "t1", "Authorization": "Bearer tok-alice"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if _, err := c.Get(userCtx(t), "posts"); err != nil {
		t.Fatal(err)
	}
	if h := b.last(t).Header; h.Get("X-App") != "shop" || h.Get("X-Trace") != "" {
		t.Errorf("per-call headers leaked into the next call: %v", h)
	}
}

func TestRequestID(t *testing.T) {
	inbound := requestid.NewContext(userCtx(t), "inbound-id-1")
	tests := []struct {
		name   string
		edit   func(*Config)
		ctx    context.Context
		opts   []CallOption
		header string
		want   string // "*" any non-empty value
	}{
		{name: "off by default", ctx: inbound, want: ""},
		{name: "enabled uses the request's ID", edit: func(c *Config) { c.RequestID.Enabled = true }, ctx: inbound, want: "inbound-id-1"},
		{name: "enabled without one generates", edit: func(c *Config) { c.RequestID.Enabled = true }, want: "*"},
		{name: "generator", edit: func(c *Config) {
			c.RequestID = RequestID{Enabled: true, Generate: func(context.Context) string { return "gen-1" }}
		}, want: "gen-1"},
		{name: "header name", edit: func(c *Config) { c.RequestID = RequestID{Enabled: true, Header: "X-Correlation-ID"} },
			ctx: inbound, header: "X-Correlation-ID", want: "inbound-id-1"},
		{name: "per-call value", opts: []CallOption{WithRequestID("call-7")}, want: "call-7"},
		{name: "per-call generated", opts: []CallOption{WithRequestID("")}, ctx: inbound, want: "inbound-id-1"},
		{name: "per-call off beats enabled", edit: func(c *Config) { c.RequestID.Enabled = true },
			opts: []CallOption{NoRequestID()}, ctx: inbound, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, nil)
			c, _ := newClient(t, b, tt.edit)
			ctx := tt.ctx
			if ctx == nil {
				ctx = userCtx(t)
			}
			if _, err := c.Get(ctx, "posts", tt.opts...); err != nil {
				t.Fatal(err)
			}
			header := tt.header
			if header == "" {
				header = "X-Request-ID"
			}
			got := b.last(t).Header.Get(header)
			if tt.want == "*" {
				if !requestid.Valid(got) {
					t.Errorf("%s = %q, want a generated ID", header, got)
				}
			} else if got != tt.want {
				t.Errorf("%s = %q, want %q", header, got, tt.want)
			}
		})
	}
}

func TestResponses(t *testing.T) {
	type user struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	tests := []struct {
		name        string
		status      int
		ctype       string
		body        string
		wantSuccess bool
		wantData    string
		wantMessage string
		wantErr     bool
	}{
		{name: "envelope", status: 200, ctype: "application/json", body: `{"success":true,"data":{"id":1,"name":"Ada"},"message":"ok"}`,
			wantSuccess: true, wantData: `{"id":1,"name":"Ada"}`, wantMessage: "ok"},
		{name: "plain JSON is the data", status: 200, ctype: "application/json; charset=utf-8", body: `{"id":2,"name":"Bo"}`,
			wantSuccess: true, wantData: `{"id":2,"name":"Bo"}`},
		{name: "JSON array", status: 200, ctype: "application/json", body: `[1,2]`, wantSuccess: true, wantData: `[1,2]`},
		{name: "204 empty", status: 204, wantSuccess: true},
		{name: "200 empty", status: 200, ctype: "application/json", wantSuccess: true},
		{name: "text", status: 200, ctype: "text/plain", body: "pong", wantSuccess: true},
		{name: "success false in a 200", status: 200, ctype: "application/json", body: `{"success":false,"message":"nope"}`, wantMessage: "nope"},
		{name: "HTML error page", status: 502, ctype: "text/html", body: "<html><body>Bad Gateway</body></html>", wantErr: true},
		{name: "JSON type but not JSON", status: 500, ctype: "application/json", body: "oops", wantErr: true},
		{name: "JSON without a type", status: 200, body: `{"success":true,"data":[1]}`, wantSuccess: true, wantData: `[1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.Header().Set("X-Backend", "b1")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			c, _ := newClient(t, b, nil)
			res, err := c.Get(userCtx(t), "thing")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if res == nil {
				t.Fatal("no Response")
			}
			if res.Status != tt.status || res.Success != tt.wantSuccess || string(res.Data) != tt.wantData || res.Message != tt.wantMessage {
				t.Errorf("got status %d success %v data %q message %q", res.Status, res.Success, res.Data, res.Message)
			}
			if string(res.Body) != tt.body {
				t.Errorf("Body = %q, want %q", res.Body, tt.body)
			}
			if res.Header.Get("X-Backend") != "b1" {
				t.Error("backend headers were dropped")
			}
			if tt.wantData == "" {
				if err := res.Decode(&user{}); !errors.Is(err, ErrNoData) {
					t.Errorf("Decode without data = %v, want ErrNoData", err)
				}
			}
		})
	}

	t.Run("Decode", func(t *testing.T) {
		b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
			writeJSON(w, 200, `{"success":true,"data":{"id":1,"name":"Ada"}}`)
		})
		c, _ := newClient(t, b, nil)
		res, err := c.Get(userCtx(t), "me")
		if err != nil {
			t.Fatal(err)
		}
		var u user
		if err := res.Decode(&u); err != nil || u != (user{1, "Ada"}) {
			t.Errorf("Decode = %+v, %v", u, err)
		}
		var wrong []int
		if err := res.Decode(&wrong); err == nil {
			t.Error("Decode into a wrong type: no error")
		}
	})
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		check     func(t *testing.T, err error)
		retryable bool
	}{
		{name: "401 invalid", status: 401, body: `{"success":false,"message":"Unauthenticated."}`, check: func(t *testing.T, err error) {
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Reason != InvalidToken || !errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrExpiredToken) {
				t.Errorf("err = %v, want invalid_token", err)
			}
			var he *HTTPError
			if !errors.As(err, &he) || he.Status != 401 || he.Response.Message != "Unauthenticated." {
				t.Errorf("AuthError does not wrap the HTTPError: %v", err)
			}
		}},
		{name: "401 expired message", status: 401, body: `{"success":false,"message":"Token has expired"}`, check: func(t *testing.T, err error) {
			if !errors.Is(err, ErrExpiredToken) {
				t.Errorf("err = %v, want expired_token", err)
			}
		}},
		{name: "401 expired code", status: 401, body: `{"success":false,"code":"TOKEN_EXPIRED"}`, check: func(t *testing.T, err error) {
			if !errors.Is(err, ErrExpiredToken) {
				t.Errorf("err = %v, want expired_token", err)
			}
		}},
		{name: "401 expired header", status: 401, header: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token", error_description="The access token expired"`},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, ErrExpiredToken) {
					t.Errorf("err = %v, want expired_token", err)
				}
			}},
		{name: "422 validation", status: 422, body: `{"success":false,"message":"The given data was invalid.","errors":{"name":["Name is required.","Name is short."],"email":"Email is taken."}}`,
			check: func(t *testing.T, err error) {
				var ve *ValidationError
				if !errors.As(err, &ve) || !errors.Is(err, ErrValidation) {
					t.Fatalf("err = %v, want a ValidationError", err)
				}
				if got := ve.FirstMessage(); got != "Name is required." {
					t.Errorf("FirstMessage = %q", got)
				}
				if got := strings.Join(ve.AllMessages(), "|"); got != "Name is required.|Name is short.|Email is taken." {
					t.Errorf("AllMessages = %q", got)
				}
				if got := ve.Fields["email"]; len(got) != 1 || got[0] != "Email is taken." {
					t.Errorf("Fields[email] = %q", got)
				}
				if !strings.Contains(err.Error(), "Name is required.") {
					t.Errorf("Error() = %q", err)
				}
			}},
		{name: "422 message only", status: 422, body: `{"message":"Invalid."}`, check: func(t *testing.T, err error) {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.FirstMessage() != "Invalid." {
				t.Errorf("err = %v", err)
			}
		}},
		{name: "400 with field errors", status: 400, body: `{"success":false,"errors":{"age":["must be a number"]}}`, check: func(t *testing.T, err error) {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.FirstMessage() != "must be a number" {
				t.Errorf("err = %v", err)
			}
		}},
		{name: "400 without field errors", status: 400, body: `{"success":false,"message":"Bad."}`, check: func(t *testing.T, err error) {
			var ve *ValidationError
			var he *HTTPError
			if errors.As(err, &ve) || !errors.As(err, &he) || !he.ClientError() || he.ServerError() {
				t.Errorf("err = %v, want a plain HTTPError", err)
			}
		}},
		{name: "429", status: 429, header: map[string]string{"Retry-After": "7", "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"},
			body: `{"success":false,"message":"Too many requests."}`, retryable: true, check: func(t *testing.T, err error) {
				var rl *RateLimitError
				if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || rl.RetryAfter.Seconds() != 7 || rl.Limit != 100 || rl.Remaining != 0 || rl.Status() != 429 {
					t.Errorf("err = %#v", err)
				}
			}},
		{name: "429 without headers", status: 429, retryable: true, check: func(t *testing.T, err error) {
			var rl *RateLimitError
			if !errors.As(err, &rl) || rl.RetryAfter != 0 || rl.Limit != -1 || rl.Remaining != -1 {
				t.Errorf("err = %#v", err)
			}
		}},
		{name: "404", status: 404, body: `{"success":false,"message":"Not found."}`, check: func(t *testing.T, err error) {
			var he *HTTPError
			if !errors.As(err, &he) || he.Status != 404 || he.Endpoint != "things/1" || he.Method != "GET" {
				t.Errorf("err = %v", err)
			}
			if want := "apiclient: GET things/1: 404 Not Found: Not found."; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err, want)
			}
		}},
		{name: "503", status: 503, retryable: true, check: func(t *testing.T, err error) {
			var he *HTTPError
			if !errors.As(err, &he) || !he.ServerError() {
				t.Errorf("err = %v", err)
			}
		}},
		{name: "501", status: 501, check: func(t *testing.T, err error) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				writeJSON(w, tt.status, tt.body)
			})
			c, _ := newClient(t, b, nil)
			res, err := c.Get(userCtx(t), "things/1?secret=s3")
			if err == nil {
				t.Fatal("no error")
			}
			if res == nil || res.Status != tt.status || res.Success {
				t.Fatalf("Response = %+v", res)
			}
			if strings.Contains(err.Error(), "s3") {
				t.Errorf("error %q shows the query", err)
			}
			tt.check(t, err)
			if got := IsRetryable(err); got != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v", got, tt.retryable)
			}
		})
	}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"timeout", &TimeoutError{}, true},
		{"network", &NetworkError{Err: io.EOF}, true},
		{"rate limit", &RateLimitError{HTTP: &HTTPError{Status: 429}}, true},
		{"auth", &AuthError{Reason: InvalidToken, HTTP: &HTTPError{Status: 401}}, false},
		{"no token", &AuthError{Reason: NoToken}, false},
		{"validation", &ValidationError{HTTP: &HTTPError{Status: 422}}, false},
		{"500", &HTTPError{Status: 500}, true},
		{"404", &HTTPError{Status: 404}, false},
		{"wrapped 502", errors.Join(errors.New("x"), &HTTPError{Status: 502}), true},
		{"context", context.Canceled, false},
		{"other", errors.New("x"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsRetryable(tt.err); got != tt.want {
				t.Errorf("IsRetryable = %v, want %v", got, tt.want)
			}
		})
	}
	for _, s := range []int{408, 429, 500, 502, 503, 504} {
		if !IsRetryableStatus(s) {
			t.Errorf("IsRetryableStatus(%d) = false", s)
		}
	}
	if IsRetryableStatus(501) || IsRetryableStatus(400) {
		t.Error("IsRetryableStatus(501 or 400) = true")
	}
}

func TestTimeoutAndNetworkErrors(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
			<-r.Context().Done() // never answers; released when the client gives up
		})
		c, _ := newClient(t, b, nil)
		res, err := c.Get(userCtx(t), "slow", WithTimeout(20e6))
		var te *TimeoutError
		if res != nil || !errors.As(err, &te) || !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("res %v err %v, want a TimeoutError", res, err)
		}
		if te.Timeout != 20e6 || te.Status() != 408 || te.Endpoint != "slow" {
			t.Errorf("TimeoutError = %+v", te)
		}
	})
	t.Run("caller context is not a timeout", func(t *testing.T) {
		arrived := make(chan struct{})
		b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
			close(arrived)
			<-r.Context().Done()
		})
		c, _ := newClient(t, b, nil)
		ctx, cancel := context.WithCancel(userCtx(t))
		go func() { <-arrived; cancel() }()
		_, err := c.Get(ctx, "slow")
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) || IsRetryable(err) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("network", func(t *testing.T) {
		b := newBackend(t, nil)
		b.srv.Close()
		c, _ := newClient(t, b, nil)
		_, err := c.Get(userCtx(t), "posts?token=s3cret")
		var ne *NetworkError
		if !errors.As(err, &ne) || !errors.Is(err, ErrNetwork) || !IsRetryable(err) {
			t.Fatalf("err = %v, want a NetworkError", err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error %q shows the query", err)
		}
	})
	t.Run("response too large", func(t *testing.T) {
		b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
			writeJSON(w, 200, `{"data":"`+strings.Repeat("x", 100)+`"}`)
		})
		c, _ := newClient(t, b, func(c *Config) { c.MaxResponseBytes = 50 })
		if _, err := c.Get(userCtx(t), "big"); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
}

func TestClose(t *testing.T) {
	b := newBackend(t, nil)
	c, _ := newClient(t, b, nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.Get(userCtx(t), "posts"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}

func TestMethodHelpers(t *testing.T) {
	b := newBackend(t, nil)
	c, _ := newClient(t, b, nil)
	ctx := userCtx(t)
	body := map[string]int{"a": 1}
	calls := []struct {
		method string
		call   func() (*Response, error)
		body   string
	}{
		{"GET", func() (*Response, error) { return c.Get(ctx, "r") }, ""},
		{"DELETE", func() (*Response, error) { return c.Delete(ctx, "r") }, ""},
		{"POST", func() (*Response, error) { return c.Post(ctx, "r", body) }, `{"a":1}`},
		{"PUT", func() (*Response, error) { return c.Put(ctx, "r", body) }, `{"a":1}`},
		{"PATCH", func() (*Response, error) { return c.Patch(ctx, "r", body) }, `{"a":1}`},
		{"OPTIONS", func() (*Response, error) { return c.Do(ctx, "options", "r", nil) }, ""},
	}
	for _, cl := range calls {
		t.Run(cl.method, func(t *testing.T) {
			if _, err := cl.call(); err != nil {
				t.Fatal(err)
			}
			got := b.last(t)
			if got.Method != cl.method || string(got.Body) != cl.body {
				t.Errorf("got %s %q, want %s %q", got.Method, got.Body, cl.method, cl.body)
			}
			if cl.body == "" && got.Header.Get("Content-Type") != "" {
				t.Errorf("Content-Type %q without a body", got.Header.Get("Content-Type"))
			}
		})
	}
}

func TestErrorsShapes(t *testing.T) {
	tests := []struct {
		name   string
		errors string
		want   map[string][]string
	}{
		{"list", `["a","b"]`, map[string][]string{"": {"a", "b"}}},
		{"non-string messages", `{"n":[1,{"x":2}],"m":true}`, map[string][]string{"n": {"1", `{"x":2}`}, "m": {"true"}}},
		{"empty object", `{}`, nil},
		{"empty list", `[]`, nil},
		{"scalar", `"oops"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResponse(422, http.Header{"Content-Type": {"application/json"}}, []byte(`{"errors":`+tt.errors+`}`))
			if fmt.Sprint(r.Errors) != fmt.Sprint(tt.want) {
				t.Errorf("Errors = %q, want %q", r.Errors, tt.want)
			}
		})
	}
}
