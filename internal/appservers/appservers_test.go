package appservers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// report is what a testdata app answers: the identity it believes it
// received, once per way its framework's users read headers (Django:
// request.headers and request.META; Express: req.get; Rack: env).
type report struct {
	Software string             `json:"software"`
	Method   string             `json:"method"`
	Path     string             `json:"path"`
	Readings map[string]reading `json:"readings"`
}

// reading is the identity as one way of reading headers sees it.
type reading struct {
	// Values holds the headers the gateway decides, by canonical name; a
	// null is an absent header.
	Values map[string]*string `json:"values"`
	// User is X-Auth-User decoded by the app: null when absent, the string
	// "undecodable" when it is not base64 JSON.
	User json.RawMessage `json:"user"`
	// Middleware holds every X-Middleware-* header.
	Middleware map[string]json.RawMessage `json:"middleware"`
}

// TestAppServersBelieveOnlyTheGateway sends every forgery of the table,
// as each persona, to each page, over HTTP/1.1 and HTTP/2, through a
// gateway in front of each app server, and checks that the app believes
// exactly the identity the gateway verified: never a forged user, token
// type, locale, request ID or client IP, and never less than the gateway
// set (a Connection header cannot remove the gateway's headers).
func TestAppServersBelieveOnlyTheGateway(t *testing.T) {
	be := testkit.NewBackend(t, demo.BackendOptions{})
	personas := newPersonas(t, be)
	h1Rows := forgeries()
	h2Rows := http2Forgeries(h1Rows)
	sum := &summary{}

	t.Run("server", func(t *testing.T) {
		for _, s := range servers {
			t.Run(s.name, func(t *testing.T) {
				t.Parallel()
				app := start(t, s)
				t.Logf("%s: %s", s.name, app.software)
				checkAppReads(t, app)
				gw := newGateway(t, be.URL(), app.url)
				for _, proto := range []struct {
					name string
					to   sender
					rows []forgery
				}{{"http1", gw.h1, h1Rows}, {"http2", gw.h2, h2Rows}} {
					t.Run(proto.name, func(t *testing.T) {
						for _, f := range proto.rows {
							t.Run(f.name, func(t *testing.T) {
								runRow(t, proto.to, f, personas, func(pg page, p *persona, ok bool) {
									sum.add(cell{s.name, proto.name, f.name, pg.name, p.name}, ok)
								})
							})
						}
					})
				}
			})
		}
	})
	sum.log(t, h1Rows, h2Rows)
}

// runRow sends the forgery f as every persona to every page, one subtest
// each, concurrency at a time (the app servers, not the test, are the
// bottleneck), and tells done the outcome of each.
func runRow(t *testing.T, to sender, f forgery, personas []*persona, done func(page, *persona, bool)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, concurrency)
	for _, pg := range pages {
		for _, p := range personas {
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				t.Run(pg.name+"/"+p.name, func(t *testing.T) {
					done(pg, p, sendAndCheck(t, to, pg, p, f))
				})
			})
		}
	}
	wg.Wait()
}

// checkAppReads proves the harness can see a forgery: sent straight to the
// app (no gateway), a canonical X-Auth-User and X-Auth-Token-Type are
// believed. It also logs whether the server itself reads X_Auth_User as
// X-Auth-User, which is why the gateway must remove that spelling.
func checkAppReads(t *testing.T, app running) {
	t.Helper()
	visitor := &persona{name: "direct"}
	direct := rawHTTP1{addr: strings.TrimPrefix(app.url, "http://")}
	for _, c := range []struct {
		header   string
		mustRead bool
	}{
		{"X-Auth-User", true},
		{"X_Auth_User", false},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		ans, err := direct.send(ctx, "/direct", []field{{c.header, forgedUser}, {"X-Auth-Token-Type", forgedTokenType(visitor)}})
		cancel()
		if err != nil {
			t.Fatalf("direct request to the app: %v", err)
		}
		var rep report
		if err := json.Unmarshal(ans.body, &rep); err != nil || ans.status != http.StatusOK {
			t.Fatalf("direct request to the app: status %d, %v", ans.status, err)
		}
		for _, name := range slices.Sorted(maps.Keys(rep.Readings)) {
			r := rep.Readings[name]
			read := describeUser(r.User) == "the forged admin"
			if c.mustRead && (!read || value(r.Values["X-Auth-Token-Type"]) != "user") {
				t.Fatalf("sent straight to the app, %s and X-Auth-Token-Type are not reported by %s (user %s): the app cannot show a forgery", c.header, name, r.User)
			}
			if !c.mustRead {
				t.Logf("%s reads %s as X-Auth-User (%s): %v", name, c.header, rep.Software, read)
			}
		}
	}
}

// sendAndCheck sends f as p to pg and checks what the app believes. It
// reports whether every check passed.
func sendAndCheck(t *testing.T, to sender, pg page, p *persona, f forgery) bool {
	t.Helper()
	lines := f.fields(p)
	if p.cookie != "" {
		lines = append([]field{{"Cookie", p.cookie}}, lines...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	ans, err := to.send(ctx, pg.path, lines)
	if err != nil {
		t.Errorf("GET %s: %v", pg.path, err)
		return false
	}
	if !pg.reaches(p) {
		loc := ans.header.Get("Location")
		if ans.status != http.StatusTemporaryRedirect || !strings.HasPrefix(loc, "/login") {
			t.Errorf("GET %s: status %d, Location %q; want 307 to /login", pg.path, ans.status, loc)
			return false
		}
		return true
	}
	var rep report
	if ans.status != http.StatusOK {
		t.Errorf("GET %s: status %d (%s), want 200 from the app", pg.path, ans.status, bytes.TrimSpace(ans.body[:min(len(ans.body), 200)]))
		return false
	}
	if err := json.Unmarshal(ans.body, &rep); err != nil || len(rep.Readings) == 0 {
		t.Errorf("GET %s: not an app report: %v", pg.path, err)
		return false
	}
	problems := check(rep, expect(pg, p, ans.header.Get("X-Request-Id")))
	if len(problems) > 0 {
		t.Errorf("the app's view differs from the gateway's:\n\t%s", strings.Join(problems, "\n\t"))
		return false
	}
	return true
}

// check compares the app's report with w and returns every difference. It
// never prints a token: the Cookie, Authorization and X-Refreshed-Token
// differences are described, not shown.
func check(rep report, w want) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if rep.Method != http.MethodGet || rep.Path != w.path {
		add("request: %s %s, want GET %s", rep.Method, rep.Path, w.path)
	}
	for _, name := range slices.Sorted(maps.Keys(rep.Readings)) {
		r := rep.Readings[name]
		v := func(h string) string { return value(r.Values[h]) }
		present := func(h string) bool { return r.Values[h] != nil }

		// X-Auth-User: exactly one value, the verified user; the app's
		// own decoding agrees.
		switch raw := r.Values["X-Auth-User"]; {
		case w.user == nil && raw != nil:
			add("%s: X-Auth-User is %s, want none", name, describeRaw(*raw))
		case w.user != nil && raw == nil:
			add("%s: X-Auth-User is missing, want %s", name, describeUserObject(w.user))
		case w.user != nil && !sameUser(*raw, w.user):
			add("%s: X-Auth-User is %s, want exactly %s", name, describeRaw(*raw), describeUserObject(w.user))
		}
		if got := describeUser(r.User); got != describeUserObject(w.user) {
			add("%s: the app decodes X-Auth-User as %s, want %s", name, got, describeUserObject(w.user))
		}
		if got := v("X-Auth-Token-Type"); got != w.tokenType || present("X-Auth-Token-Type") != (w.tokenType != "") {
			add("%s: X-Auth-Token-Type is %s, want %s", name, show(r.Values["X-Auth-Token-Type"]), orNone(w.tokenType))
		}
		if got := v("X-Locale"); got != w.locale {
			add("%s: X-Locale is %s, want %q", name, show(r.Values["X-Locale"]), w.locale)
		}
		if present("X-Refreshed-Token") {
			what := "a value the gateway did not mint"
			if strings.Contains(v("X-Refreshed-Token"), forgedRefreshed) {
				what = "the forged value"
			}
			add("%s: X-Refreshed-Token is present (%s), want none", name, what)
		}
		for _, h := range []string{"X-Auth-Assertion", "X-Auth-User-Truncated"} {
			if present(h) {
				add("%s: %s is %s, want none", name, h, show(r.Values[h]))
			}
		}
		if len(r.Middleware) > 0 {
			add("%s: X-Middleware-* headers reached the app: %s", name, strings.Join(slices.Sorted(maps.Keys(r.Middleware)), ", "))
		}
		if got := v("X-Request-Id"); got != w.requestID || w.requestID == "" {
			add("%s: X-Request-Id is %s, want the gateway's %q", name, show(r.Values["X-Request-Id"]), w.requestID)
		}
		for _, h := range []string{"X-Forwarded-For", "X-Real-IP"} {
			if got := v(h); got != w.clientIP {
				add("%s: %s is %s, want %q", name, h, show(r.Values[h]), w.clientIP)
			}
		}
		if d := differs(r.Values["Cookie"], w.cookie); d != "" {
			add("%s: Cookie %s", name, d)
		}
		if d := differs(r.Values["Authorization"], w.authorization); d != "" {
			add("%s: Authorization %s", name, d)
		}
	}
	return out
}

// sameUser reports whether raw is one standard base64 value whose JSON is
// exactly user.
func sameUser(raw string, user map[string]any) bool {
	b, err := base64.StdEncoding.Strict().DecodeString(raw)
	if err != nil {
		return false
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		return false
	}
	return reflect.DeepEqual(got, user)
}

// describeRaw says what an X-Auth-User value is, without tokens (a user
// object never carries one).
func describeRaw(raw string) string {
	b, err := base64.StdEncoding.Strict().DecodeString(raw)
	if err != nil {
		if strings.Contains(raw, forgedUser) {
			return fmt.Sprintf("%d bytes that are not one base64 value and contain the forged admin", len(raw))
		}
		return fmt.Sprintf("%d bytes that are not one base64 value", len(raw))
	}
	return describeUser(b)
}

// describeUser names a decoded user object for messages: "none", "the
// forged admin", or the user's type and username.
func describeUser(raw json.RawMessage) string {
	var u map[string]any
	if err := json.Unmarshal(raw, &u); err != nil || u == nil {
		if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
			return "none"
		}
		return "not a user object: " + string(raw[:min(len(raw), 80)])
	}
	return describeUserObject(u)
}

func describeUserObject(u map[string]any) string {
	if u == nil {
		return "none"
	}
	if u["forged"] == true {
		return "the forged admin"
	}
	if name, ok := u["username"].(string); ok {
		return fmt.Sprintf("%v %s (id %v)", u["type"], name, u["id"])
	}
	return fmt.Sprintf("%v (id %v)", u["type"], u["id"])
}

// differs compares a Cookie or Authorization header with the one the
// gateway forwards, and says how it differs without showing either.
func differs(got *string, want string) string {
	switch {
	case got == nil && want == "":
		return ""
	case got == nil:
		return "is missing, want the one the gateway forwards"
	case want == "":
		return "is present, want none"
	case *got != want:
		return "differs from the one the gateway forwards"
	}
	return ""
}

func value(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// show quotes a header value that is not a token, or says it is absent.
func show(s *string) string {
	if s == nil {
		return "absent"
	}
	return fmt.Sprintf("%q", *s)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return fmt.Sprintf("%q", s)
}

// cell is one request of the table.
type cell struct{ server, proto, forgery, page, persona string }

// summary counts the failing cells, for one log that reads as a table of
// forgeries by app server.
type summary struct {
	mu    sync.Mutex
	total int
	fails map[cell]bool // guarded by mu
}

func (s *summary) add(c cell, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	if !ok {
		if s.fails == nil {
			s.fails = make(map[cell]bool)
		}
		s.fails[c] = true
	}
}

// log writes, per protocol and forgery in table order, the app servers on
// which it succeeded and the pages and personas it succeeded for.
func (s *summary) log(t *testing.T, h1, h2 []forgery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fails) == 0 {
		if s.total > 0 {
			t.Logf("summary: all %d requests passed", s.total)
		}
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "summary: %d of %d requests failed; forgery: server[page/persona ...]\n", len(s.fails), s.total)
	for _, proto := range []struct {
		name string
		rows []forgery
	}{{"http1", h1}, {"http2", h2}} {
		for _, f := range proto.rows {
			by := map[string][]string{}
			for c := range s.fails {
				if c.proto == proto.name && c.forgery == f.name {
					by[c.server] = append(by[c.server], c.page+"/"+c.persona)
				}
			}
			if len(by) == 0 {
				continue
			}
			var parts []string
			for _, srv := range slices.Sorted(maps.Keys(by)) {
				sort.Strings(by[srv])
				parts = append(parts, fmt.Sprintf("%s[%s]", srv, strings.Join(by[srv], " ")))
			}
			fmt.Fprintf(&b, "  %s %s: %s\n", proto.name, f.name, strings.Join(parts, " "))
		}
	}
	t.Log(b.String())
}
