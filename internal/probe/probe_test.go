package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/apilayer/apilayer/config"
)

func TestLoginBody(t *testing.T) {
	tests := []struct {
		name, login string
		want        map[string]any
		who, err    string
	}{
		{"user and password", "alice:pa:ss", map[string]any{"username": "alice", "email": "alice", "password": "pa:ss"}, `as "alice"`, ""},
		{"JSON body", ` {"login":"bob","pw":"x"}`, map[string]any{"login": "bob", "pw": "x"}, "with the given JSON body", ""},
		{"no colon", "alice", nil, "", `the login must be "user:password" or a JSON object`},
		{"empty password", "alice:", nil, "", `the login must be "user:password" or a JSON object`},
		{"empty user", ":pw", nil, "", `the login must be "user:password" or a JSON object`},
		{"bad JSON", `{"login":`, nil, "", "the login is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, who, err := loginBody(tt.login)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("loginBody error = %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "pa:ss") {
					t.Errorf("the error shows the password")
				}
				return
			}
			var got map[string]any
			if err != nil || json.Unmarshal(body, &got) != nil || who != tt.who {
				t.Fatalf("loginBody = %s, %q, %v", body, who, err)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("body[%s] = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestTokenPointers(t *testing.T) {
	var doc any
	json.Unmarshal([]byte(`{"access_token":"a","data":{"token":"b","refresh":"r","user":{"id":1,"jwt":""}},
		"items":[{"accessToken":"c"}],"a/b":{"refresh_token":"d"},"name":"token"}`), &doc)
	if got, want := tokenPointers(doc, false), []string{"/access_token", "/data/token", "/items/0/accessToken"}; !slices.Equal(got, want) {
		t.Errorf("access tokens at %v, want %v", got, want)
	}
	if got, want := tokenPointers(doc, true), []string{"/a~1b/refresh_token", "/data/refresh"}; !slices.Equal(got, want) {
		t.Errorf("refresh tokens at %v, want %v", got, want)
	}
}

// fakeBackend answers each endpoint with a fixed status and body.
func fakeBackend(t *testing.T, answers map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/api/")
		if r.Header.Get("Authorization") != "" {
			key += " bearer"
		}
		a, ok := answers[key]
		if !ok {
			http.Error(w, "no route "+key, http.StatusNotFound)
			return
		}
		status, body, _ := strings.Cut(a, " ")
		w.Header().Set("Content-Type", "application/json")
		code := map[string]int{"200": 200, "401": 401, "404": 404, "500": 500, "302": 302}[status]
		if code == 302 {
			w.Header().Set("Location", "/login")
		}
		w.WriteHeader(code)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRun(t *testing.T) {
	const token = "eyJhbGciOiJIUzI1NiJ9.secret-token-value.sig"
	tests := []struct {
		name     string
		answers  map[string]string
		guest    bool
		login    string
		problems []string // substrings, one per problem
		report   []string // substrings of the report
	}{
		{
			name:     "500 is reachable",
			answers:  map[string]string{"GET auth/me": `500 {"message":"boom"}`},
			report:   []string{"answer: 500 Internal Server Error, JSON object, message \"boom\"", "the gateway counts 5xx answers as the backend being unavailable"},
			problems: nil,
		},
		{
			name:    "404 hints at the URL",
			answers: map[string]string{},
			report:  []string{"answer: 404 Not Found, not JSON (text/plain; charset=utf-8, 21 bytes)", "404 may mean backend.url or backend.endpoints.validate is wrong"},
		},
		{
			name:     "a guest token that validates as a user",
			guest:    true,
			answers:  map[string]string{"GET auth/me": `401 {}`, "POST auth/guest": `200 {"data":{"accessToken":"` + token + `"}}`, "GET auth/me bearer": `200 {"data":{"id":"g1","type":"user"}}`},
			problems: []string{`validate the guest token: its type reads "user" (backend.mapping.tokenType /data/type), not "guest"`},
		},
		{
			name:     "guest credentials refused",
			guest:    true,
			answers:  map[string]string{"GET auth/me": `401 {}`, "POST auth/guest": `401 {"success":false,"message":"Invalid credentials."}`},
			problems: []string{"guest: the backend refused the guest credentials (401)"},
		},
		{
			name:     "user is not an object",
			login:    "alice:pw",
			answers:  map[string]string{"GET auth/me": `401 {}`, "POST auth/login": `200 {"data":{"accessToken":"` + token + `"}}`, "GET auth/me bearer": `200 {"data":"alice"}`, "POST auth/logout bearer": `200 {}`},
			report:   []string{"backend.mapping.user      /data       matched a string (the user must be an object)"},
			problems: []string{"validate the login's access token: backend.mapping.user /data is not an object in the answer: the gateway reads every token as invalid"},
		},
		{
			name:     "a token elsewhere",
			login:    "alice:pw",
			answers:  map[string]string{"GET auth/me": `401 {}`, "POST auth/login": `200 {"token":"` + token + `","user":{"id":1}}`},
			report:   []string{"top-level keys: token, user", "backend.mapping.accessToken  /data/accessToken   did not match"},
			problems: []string{"login: backend.mapping.accessToken /data/accessToken matched nothing: the gateway answers every successful login 502 (no token to put in the cookie); the answer has one at /token: set backend.mapping.accessToken: /token"},
		},
		{
			name:     "success false on a 200",
			login:    "alice:pw",
			answers:  map[string]string{"GET auth/me": `401 {}`, "POST auth/login": `200 {"success":false,"message":"Locked."}`},
			problems: []string{"login: the backend refused the login (200)"},
		},
		{
			name:     "a redirect is an answer",
			login:    "alice:pw",
			answers:  map[string]string{"GET auth/me": `302 {}`, "POST auth/login": `302 {}`},
			report:   []string{"answer: 302 Found, JSON object"},
			problems: []string{"login: the backend refused the login (302)"},
		},
		{
			name:     "a token that does not validate",
			login:    "alice:pw",
			answers:  map[string]string{"GET auth/me": `401 {}`, "POST auth/login": `200 {"data":{"accessToken":"` + token + `"}}`, "GET auth/me bearer": `401 {"message":"Unauthenticated."}`, "POST auth/logout bearer": `200 {}`},
			problems: []string{"validate the login's access token: the backend answered 401"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeBackend(t, tt.answers)
			c := &config.Config{Backend: config.Backend{URL: srv.URL + "/api/"}, Guest: config.Guest{Enabled: tt.guest}}
			c.Defaults()
			var out bytes.Buffer
			problems := Run(context.Background(), c, Options{Login: tt.login}, &out)
			if len(problems) != len(tt.problems) {
				t.Errorf("problems = %q, want %d like %q\n%s", problems, len(tt.problems), tt.problems, out.String())
			}
			for i, want := range tt.problems {
				if i < len(problems) && !strings.Contains(problems[i], want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, problems[i], want)
				}
			}
			for _, want := range tt.report {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
			if strings.Contains(out.String(), "secret-token-value") || strings.Contains(out.String(), ":pw") {
				t.Errorf("the report shows a secret:\n%s", out.String())
			}
		})
	}
}
