package config

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "unknown key with a case-only suggestion",
			yaml: "validate:\n  cacheTtl: 5s\n",
			want: []string{"c.yaml:2: validate.cacheTtl: unknown key (did you mean cacheTTL?)"},
		},
		{
			name: "unknown key with a typo suggestion",
			yaml: "backend:\n  url: http://b/\n  timeot: 5s\n",
			want: []string{"c.yaml:3: backend.timeot: unknown key (did you mean timeout?)"},
		},
		{
			name: "unknown key without a near one",
			yaml: "listen: :8080\nfrobnicate: true\n",
			want: []string{"c.yaml:2: frobnicate: unknown key"},
		},
		{
			name: "unknown key in a list element",
			yaml: "access:\n  rules:\n    - path: /a\n      role: [x]\n",
			want: []string{"c.yaml:4: access.rules[0].role: unknown key (did you mean roles?)"},
		},
		{
			name: "list where a mapping is expected",
			yaml: "backend:\n  - url\n",
			want: []string{"c.yaml:2: backend: expected a mapping, got a list"},
		},
		{
			name: "scalar where a mapping is expected",
			yaml: "cookies: yes\n",
			want: []string{`c.yaml:1: cookies: expected a mapping, got "yes"`},
		},
		{
			name: "mapping where a list is expected",
			yaml: "access:\n  protectedRoutes:\n    a: b\n",
			want: []string{"c.yaml:3: access.protectedRoutes: expected a list, got a mapping"},
		},
		{
			name: "scalar where a list is expected",
			yaml: "access:\n  protectedRoutes: /dashboard\n",
			want: []string{`c.yaml:2: access.protectedRoutes: expected a list, got "/dashboard"`},
		},
		{
			name: "list where a string is expected",
			yaml: "listen: [a]\n",
			want: []string{"c.yaml:1: listen: expected a string, got a list"},
		},
		{
			name: "string where an int is expected",
			yaml: "validate:\n  cacheSize: lots\n",
			want: []string{`c.yaml:2: validate.cacheSize: expected an integer, got "lots"`},
		},
		{
			name: "quoted number where an int is expected",
			yaml: "validate:\n  cacheSize: \"100\"\n",
			want: []string{`c.yaml:2: validate.cacheSize: expected an integer, got "100"`},
		},
		{
			name: "float where an int is expected",
			yaml: "guest:\n  maxPerMinute: 1.5\n",
			want: []string{`c.yaml:2: guest.maxPerMinute: expected an integer, got "1.5"`},
		},
		{
			name: "integer out of range",
			yaml: "guest:\n  maxPerMinute: 99999999999999999999\n",
			want: []string{`c.yaml:2: guest.maxPerMinute: expected an integer, got "99999999999999999999"`}, // YAML reads it as a float
		},
		{
			name: "integer too large for an int",
			yaml: "guest:\n  maxPerMinute: 18446744073709551615\n",
			want: []string{`c.yaml:2: guest.maxPerMinute: integer out of range: 18446744073709551615`},
		},
		{
			name: "string where a number is expected",
			yaml: "tracing:\n  sampleRatio: \"0.5\"\n",
			want: []string{`c.yaml:2: tracing.sampleRatio: expected a number, got "0.5"`},
		},
		{
			name: "yes is not a bool",
			yaml: "guest:\n  enabled: yes\n",
			want: []string{`c.yaml:2: guest.enabled: expected true or false, got "yes"`},
		},
		{
			name: "bad bool behind a pointer",
			yaml: "refresh:\n  singleFlight: 1\n",
			want: []string{`c.yaml:2: refresh.singleFlight: expected true or false, got "1"`},
		},
		{
			name: "duration without unit",
			yaml: "backend:\n  timeout: 10\n",
			want: []string{`c.yaml:2: backend.timeout: bad duration "10" (missing unit: want a Go duration such as 2s, 1m, 168h)`},
		},
		{
			name: "duration in words",
			yaml: "cookies:\n  maxAge: 7 days\n",
			want: []string{`c.yaml:2: cookies.maxAge: bad duration "7 days" (want a Go duration such as 2s, 1m, 168h)`},
		},
		{
			name: "duration list",
			yaml: "validate:\n  cacheTTL: [2s]\n",
			want: []string{`c.yaml:2: validate.cacheTTL: expected a duration such as 2s, got a list`},
		},
		{
			name: "bad size unit",
			yaml: "api:\n  maxBodySize: 10XB\n",
			want: []string{`c.yaml:2: api.maxBodySize: bad size "10XB" (want bytes or an integer with a unit: 512KiB, 10MiB, 1MB, 1GiB)`},
		},
		{
			name: "fractional size",
			yaml: "api:\n  maxBodySize: 1.5MiB\n",
			want: []string{`c.yaml:2: api.maxBodySize: bad size "1.5MiB" (want bytes or an integer with a unit: 512KiB, 10MiB, 1MB, 1GiB)`},
		},
		{
			name: "bad secure",
			yaml: "cookies:\n  secure: sometimes\n",
			want: []string{`c.yaml:2: cookies.secure: expected auto, true or false, got "sometimes"`},
		},
		{
			name: "credentials must be a mapping",
			yaml: "guest:\n  credentials: [a, b]\n",
			want: []string{"c.yaml:2: guest.credentials: expected a mapping, got a list"},
		},
		{
			name: "duplicate key",
			yaml: "listen: :1\nlisten: :2\n",
			want: []string{"c.yaml:2: listen: duplicate key (first at line 1)"},
		},
		{
			name: "non-string key",
			yaml: "? [a]\n: b\n",
			want: []string{"c.yaml:1: a key must be a string, got a list"},
		},
		{
			name: "bad env reference",
			yaml: "backend:\n  url: ${URL\n",
			want: []string{"c.yaml:2: backend.url: unterminated ${ (write $$ for a literal $)"},
		},
		{
			name: "unset env without default, everywhere",
			yaml: "backend:\n  url: http://${HOST}/\nguest:\n  credentials:\n    password: \"${PW}\"\n    list: [\"${PW}\"]\nvalidate:\n  cacheTTL: ${TTL}\n",
			want: []string{
				"c.yaml:2: backend.url: environment variable HOST is not set (set it, or write ${HOST:-} for an empty value)",
				"c.yaml:5: guest.credentials.password: environment variable PW is not set (set it, or write ${PW:-} for an empty value)",
				"c.yaml:6: guest.credentials.list[0]: environment variable PW is not set (set it, or write ${PW:-} for an empty value)",
				"c.yaml:8: validate.cacheTTL: environment variable TTL is not set (set it, or write ${TTL:-} for an empty value)",
			},
		},
		{
			name: "alias cycle",
			yaml: "guest:\n  credentials: &a\n    self: *a\n",
			want: []string{"c.yaml:3: guest.credentials.self: alias refers to a node that contains it"},
		},
		{
			name: "merge of a scalar",
			yaml: "backend:\n  <<: x\n",
			want: []string{`c.yaml:2: backend: a merge (<<) takes a mapping or a list of mappings, got "x"`},
		},
		{
			name: "root is not a mapping",
			yaml: "- a\n",
			want: []string{"c.yaml:1: expected a mapping, got a list"},
		},
		{
			name: "syntax error",
			yaml: "backend:\n  url: x\n   timeout: 5s\n",
			want: []string{"c.yaml:3: invalid YAML: mapping values are not allowed in this context"},
		},
		{
			name: "two documents",
			yaml: "listen: :1\n---\nlisten: :2\n",
			want: []string{"c.yaml:2: more than one YAML document (the config is one document)"},
		},
		{
			name: "every error at once, in document order",
			yaml: "listen: [x]\nbackend:\n  url: http://b/\n  timeot: 1s\nvalidate:\n  cacheTTL: soon\n  cacheSize: x\napi:\n  maxBodySize: big\n",
			want: []string{
				"c.yaml:1: listen: expected a string, got a list",
				"c.yaml:4: backend.timeot: unknown key (did you mean timeout?)",
				`c.yaml:6: validate.cacheTTL: bad duration "soon" (want a Go duration such as 2s, 1m, 168h)`,
				`c.yaml:7: validate.cacheSize: expected an integer, got "x"`,
				`c.yaml:9: api.maxBodySize: bad size "big" (want bytes or an integer with a unit: 512KiB, 10MiB, 1MB, 1GiB)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tt.yaml), lookupEnv(nil))
			if c != nil {
				t.Errorf("Parse returned a Config along with errors")
			}
			if got := errorLines(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseAliasBomb(t *testing.T) {
	// Nine levels of nine aliases: 9^9 nodes if expanded naively.
	var b strings.Builder
	b.WriteString("guest:\n  credentials:\n    a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		prev := "*a" + string(rune('0'+i-1))
		b.WriteString("    a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [" +
			strings.Repeat(prev+", ", 8) + prev + "]\n")
	}
	_, err := Parse("c.yaml", []byte(b.String()), lookupEnv(nil))
	got := errorLines(t, err)
	if len(got) != 1 || !strings.Contains(got[0], "document too large (too many nodes or aliases)") {
		t.Fatalf("errors = %q, want one 'document too large'", got)
	}
}

func TestParseValues(t *testing.T) {
	env := lookupEnv(map[string]string{
		"MAX":    "25",
		"TTL":    "5s",
		"EMPTY":  "",
		"SECRET": "s3cr$t",
		"FLAG":   "true",
	})
	tests := []struct {
		name string
		yaml string
		// errs are the beginnings of the errors Parse reports, in order;
		// check then gets the Config decoded in spite of them.
		errs  []string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "empty document",
			yaml: "# nothing\n",
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(canon(c), canon(&Config{})) {
					t.Errorf("got %+v, want the zero Config", c)
				}
			},
		},
		{
			name: "env in an integer, a duration, a bool and a string",
			yaml: "guest:\n  maxPerMinute: ${MAX}\n  enabled: ${FLAG}\nvalidate:\n  cacheTTL: ${TTL}\ncsrf:\n  secret: ${SECRET}\n",
			check: func(t *testing.T, c *Config) {
				if c.Guest.MaxPerMinute != 25 || !c.Guest.Enabled || *c.Validation.CacheTTL != 5*time.Second || c.CSRF.Secret != "s3cr$t" {
					t.Errorf("got maxPerMinute %d, enabled %v, cacheTTL %v, secret %q", c.Guest.MaxPerMinute, c.Guest.Enabled, *c.Validation.CacheTTL, c.CSRF.Secret)
				}
			},
		},
		{
			name: "a number: float or integer",
			yaml: "tracing:\n  sampleRatio: 0.25\nadmin:\n  listen: 127.0.0.1:9090\n  pprof: true\n",
			check: func(t *testing.T, c *Config) {
				if c.Tracing.SampleRatio == nil || *c.Tracing.SampleRatio != 0.25 || c.Admin.Listen != "127.0.0.1:9090" || !c.Admin.Pprof {
					t.Errorf("got sampleRatio %v, admin %+v", c.Tracing.SampleRatio, c.Admin)
				}
				c2, err := Parse("c.yaml", []byte("tracing:\n  sampleRatio: 1\n"), nil)
				if err != nil || *c2.Tracing.SampleRatio != 1 {
					t.Errorf("sampleRatio: 1 = %v, %v; want 1", c2.Tracing.SampleRatio, err)
				}
			},
		},
		{
			name: "env default in an integer",
			yaml: "guest:\n  maxPerMinute: ${NOPE:-7}\n",
			check: func(t *testing.T, c *Config) {
				if c.Guest.MaxPerMinute != 7 {
					t.Errorf("maxPerMinute = %d, want 7", c.Guest.MaxPerMinute)
				}
			},
		},
		{
			name: "empty env default in a plain value leaves the field unset",
			yaml: "validate:\n  cacheTTL: ${NOPE:-}\n  cacheSize: ${EMPTY}\n",
			check: func(t *testing.T, c *Config) {
				if c.Validation.CacheTTL != nil || c.Validation.CacheSize != 0 {
					t.Errorf("cacheTTL = %v, cacheSize = %d; want unset", c.Validation.CacheTTL, c.Validation.CacheSize)
				}
			},
		},
		{
			name: "quoted values stay strings",
			yaml: "cookies:\n  user: \"${MAX}\"\n  guest: '123'\n",
			check: func(t *testing.T, c *Config) {
				if c.Cookies.User != "25" || c.Cookies.Guest != "123" {
					t.Errorf("user %q guest %q", c.Cookies.User, c.Cookies.Guest)
				}
			},
		},
		{
			name: "keys are not expanded and $$ is a dollar",
			yaml: "guest:\n  credentials:\n    ${KEY}: pa$$word\n",
			check: func(t *testing.T, c *Config) {
				if c.Guest.Credentials["${KEY}"] != "pa$word" {
					t.Errorf("credentials = %v", c.Guest.Credentials)
				}
			},
		},
		{
			name: "explicit empty list is non-nil, null and absent lists are nil",
			yaml: "refresh:\n  reuseCodes: []\n  reuseStatusCodes:\ncsrf:\n  ignoreMethods: ~\n",
			check: func(t *testing.T, c *Config) {
				if c.Refresh.ReuseCodes == nil || len(c.Refresh.ReuseCodes) != 0 {
					t.Errorf("reuseCodes = %#v, want an empty non-nil list", c.Refresh.ReuseCodes)
				}
				if c.Refresh.ReuseStatusCodes != nil || c.CSRF.IgnoreMethods != nil || c.ClientIP.Headers != nil {
					t.Errorf("null or absent lists are not nil")
				}
			},
		},
		{
			name: "explicit zero durations and false",
			yaml: "validate:\n  cacheTTL: 0s\n  staleIfError: 0\nrefresh:\n  singleFlight: false\n",
			check: func(t *testing.T, c *Config) {
				if c.Validation.CacheTTL == nil || *c.Validation.CacheTTL != 0 || c.Validation.StaleIfError == nil || *c.Validation.StaleIfError != 0 {
					t.Errorf("explicit zero durations lost: %v %v", c.Validation.CacheTTL, c.Validation.StaleIfError)
				}
				if c.Refresh.SingleFlight == nil || *c.Refresh.SingleFlight {
					t.Errorf("explicit false lost: %v", c.Refresh.SingleFlight)
				}
			},
		},
		{
			name: "secure as bools and strings",
			yaml: "cookies:\n  secure: true\n",
			check: func(t *testing.T, c *Config) {
				if c.Cookies.Secure != SecureAlways {
					t.Errorf("secure = %q", c.Cookies.Secure)
				}
			},
		},
		{
			name: "secure false and upper-case auto",
			yaml: "cookies:\n  secure: Auto\ntls:\n  certFile: x\n",
			check: func(t *testing.T, c *Config) {
				if c.Cookies.Secure != SecureAuto {
					t.Errorf("secure = %q", c.Cookies.Secure)
				}
			},
		},
		{
			name: "sizes",
			yaml: "server:\n  maxHeaderBytes: 2048\napi:\n  maxBodySize: 1 GiB\n",
			check: func(t *testing.T, c *Config) {
				if c.Server.MaxHeaderBytes != 2048 || c.API.MaxBodySize != GiB {
					t.Errorf("sizes %d %d", c.Server.MaxHeaderBytes, c.API.MaxBodySize)
				}
			},
		},
		{
			// x-limits is not a key of the config: reported, but the aliases
			// into it still decode.
			name: "anchors, aliases and merge keys",
			yaml: "x-limits: &lim {maxRequests: 5, window: 1m}\n" +
				"rateLimit:\n  rules:\n    - <<: *lim\n      path: /a\n    - <<: *lim\n      path: /b\n      maxRequests: 9\n",
			errs: []string{"c.yaml:1: x-limits: unknown key"},
			check: func(t *testing.T, c *Config) {
				r := c.RateLimit.Rules
				if len(r) != 2 || r[0] != (RateLimitRule{Path: "/a", MaxRequests: 5, Window: time.Minute}) ||
					r[1] != (RateLimitRule{Path: "/b", MaxRequests: 9, Window: time.Minute}) {
					t.Errorf("rules = %+v", r)
				}
			},
		},
		{
			name: "merge keys",
			yaml: "backend: &b\n  url: http://b/\n  timeout: 3s\nupstream:\n  timeout: 1s\ncookies:\n  <<: [{user: u, guest: g}, {user: ignored, path: /p}]\n  guest: explicit\n",
			check: func(t *testing.T, c *Config) {
				if c.Cookies.User != "u" || c.Cookies.Guest != "explicit" || c.Cookies.Path != "/p" {
					t.Errorf("cookies = %+v", c.Cookies)
				}
			},
		},
		{
			name: "credentials of any shape",
			yaml: "guest:\n  credentials:\n    user: guest\n    n: 3\n    f: 1.5\n    ok: true\n    none: ~\n    tags: [a, 1]\n    nested: {k: v}\n    date: 2024-01-02\n",
			check: func(t *testing.T, c *Config) {
				want := map[string]any{
					"user": "guest", "n": 3, "f": 1.5, "ok": true, "none": nil,
					"tags": []any{"a", 1}, "nested": map[string]any{"k": "v"}, "date": "2024-01-02",
				}
				if !reflect.DeepEqual(c.Guest.Credentials, want) {
					t.Errorf("credentials = %#v\nwant %#v", c.Guest.Credentials, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tt.yaml), env)
			if tt.errs != nil {
				got := errorLines(t, err)
				if len(got) != len(tt.errs) {
					t.Fatalf("errors = %q, want %d", got, len(tt.errs))
				}
				for i, want := range tt.errs {
					if !strings.HasPrefix(got[i], want) {
						t.Fatalf("error %d = %q, want %q...", i, got[i], want)
					}
				}
				c, _ = parse("c.yaml", []byte(tt.yaml), env)
			} else if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseNilEnvUsesProcessEnvironment(t *testing.T) {
	t.Setenv("APILAYER_TEST_LISTEN", ":9999")
	c, err := Parse("c.yaml", []byte("listen: ${APILAYER_TEST_LISTEN}\n"), nil)
	if err != nil || c.Listen != ":9999" {
		t.Fatalf("listen = %q, %v", c.Listen, err)
	}
}

func TestLoad(t *testing.T) {
	c, err := Load("testdata/check/minimal.yaml")
	if err != nil || c.Backend.URL != "http://127.0.0.1:8000/api" {
		t.Fatalf("Load = %+v, %v", c, err)
	}
	_, err = Load("testdata/check/no-such-file.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "config: open testdata/check/no-such-file.yaml") {
		t.Fatalf("Load of a missing file: %v", err)
	}
	var errs *Errors
	if errors.As(err, &errs) {
		t.Errorf("a missing file is not a *Errors")
	}
}

func TestSuggest(t *testing.T) {
	names := yamlFields(reflect.TypeFor[Validate]()).names
	tests := []struct{ key, want string }{
		{"cacheTtl", "cacheTTL"},
		{"CACHESIZE", "cacheSize"},
		{"stalIfError", "staleIfError"},
		{"mod", "mode"},
		{"lokal", "local"},
		{"x", ""},
		{"somethingElse", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := suggest(tt.key, names); got != tt.want {
				t.Errorf("suggest(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{"everything", Error{File: "a.yaml", Line: 7, Path: "validate.cacheTtl", Msg: "unknown key"}, "a.yaml:7: validate.cacheTtl: unknown key"},
		{"no line", Error{File: "a.yaml", Path: "backend.url", Msg: "required"}, "a.yaml: backend.url: required"},
		{"built in code", Error{Path: "backend.url", Msg: "required"}, "backend.url: required"},
		{"no path", Error{File: "a.yaml", Line: 2, Msg: "invalid YAML: x"}, "a.yaml:2: invalid YAML: x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	all := &Errors{List: []Error{tests[0].err, tests[1].err}}
	if got, want := all.Error(), tests[0].want+"\n"+tests[1].want; got != want {
		t.Errorf("Errors.Error() = %q, want %q", got, want)
	}
	var one Error
	if !errors.As(error(all), &one) || one != tests[0].err {
		t.Errorf("errors.As did not find the first Error: %+v", one)
	}
}
