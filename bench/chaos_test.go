package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apilayer/apilayer/config"
)

func TestChaosLine(t *testing.T) {
	r := chaosResult{requests: 25720, failed: 1, logouts: 2, duplicates: 3, outageCalls: 359,
		fdStart: 20, fdEnd: 25, grStart: 28, grEnd: 28, rssGrowth: 23.34, instances: 2}
	want := "CHAOS requests=25720 failed=1 logouts=2 duplicate_refreshes=3 backend_calls_during_outage=359 fd_end_vs_start=1.25 goroutines_end_vs_start=1.00 rss_growth_mb=23.3"
	if got := r.line(); got != want {
		t.Errorf("line:\n got %s\nwant %s", got, want)
	}
	if got := (chaosResult{}).line(); !strings.Contains(got, "fd_end_vs_start=0.00 goroutines_end_vs_start=0.00") {
		t.Errorf("without a baseline the ratios are 0: %s", got)
	}
}

func TestChaosGoals(t *testing.T) {
	ok := chaosResult{requests: 10, fdStart: 20, fdEnd: 22, grStart: 30, grEnd: 33, instances: 2}
	for _, tc := range []struct {
		name   string
		change func(*chaosResult)
		want   string // in the one missed goal; "" for none
	}{
		{"all met", func(*chaosResult) {}, ""},
		{"a failed request", func(r *chaosResult) { r.failed = 1 }, "1 failed requests"},
		{"a logout", func(r *chaosResult) { r.logouts = 1 }, "1 logouts"},
		{"a duplicate refresh", func(r *chaosResult) { r.duplicates = 2 }, "2 duplicate refreshes"},
		{"calls past the breaker", func(r *chaosResult) {
			r.outages = []outageFinding{{kind: "503", breaches: []string{"gw1 validate: 9 calls"}}}
		}, "backend 503: gw1 validate: 9 calls"},
		{"fds at the slack", func(r *chaosResult) { r.fdEnd = 20 + 2 + 10 }, ""},
		{"fds past the slack", func(r *chaosResult) { r.fdEnd = 20 + 2 + 10 + 1 }, "fds 33 at the end, 20 at the start"},
		{"goroutines past the slack", func(r *chaosResult) { r.grEnd = 30 + 3 + 10 + 1 }, "goroutines 44 at the end, 30 at the start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.change(&r)
			missed := r.missed()
			switch {
			case tc.want == "" && len(missed) > 0:
				t.Errorf("missed %q, want none", missed)
			case tc.want != "" && (len(missed) != 1 || !strings.Contains(missed[0], tc.want)):
				t.Errorf("missed %q, want one goal with %q", missed, tc.want)
			}
		})
	}
}

func TestMaxProbes(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{999 * time.Millisecond, 0},
		{time.Second, 1},       // at 1s
		{3 * time.Second, 2},   // then at 1+2
		{6 * time.Second, 2},   //
		{7 * time.Second, 3},   // 1+2+4
		{15 * time.Second, 4},  // +8
		{31 * time.Second, 5},  // +16
		{61 * time.Second, 6},  // +30 (the cap)
		{91 * time.Second, 7},  // +30
		{120 * time.Second, 7}, //
	} {
		if got := maxProbes(tc.d, time.Second); got != tc.want {
			t.Errorf("maxProbes(%s) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func TestAnalyzeOutage(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	n := 0
	call := func(inst int, ep string, arrive, finish int) faultCall {
		n++
		return faultCall{Inst: inst, Endpoint: ep, ReqID: fmt.Sprint("req", n), Arrive: at(arrive), Finish: at(finish)}
	}
	// gw1 validate: 5 quick failures open the breaker at 50 ms; 2 calls
	// in flight before it (arrived by 50+250 ms); probes at 1.05 s and
	// 3.05 s in a 4 s outage: 2 due (+1).
	var calls []faultCall
	for i := range 5 {
		calls = append(calls, call(1, "validate", i*10, i*10+10))
	}
	calls = append(calls, call(1, "validate", 100, 101), call(1, "validate", 290, 291),
		call(1, "validate", 1050, 1051), call(1, "validate", 3050, 3051),
		// net/http's retry of the last probe on a new connection: the same call.
		faultCall{Inst: 1, Endpoint: "validate", ReqID: fmt.Sprint("req", n), Arrive: at(3052), Finish: at(3053)},
		// gw2 refresh: 3 failures, never opened: all before.
		call(2, "refresh", 0, 1), call(2, "refresh", 5, 6), call(2, "refresh", 9, 10),
		// proxied API requests are not the breaker's.
		call(2, "api", 0, 1), call(3, "api", 0, 1))
	// gw3 guest: a hang: 6 calls wait 2 s; the breaker opens when the
	// 5th ends, at 2.04 s; then 4 calls where 3 probes (+1) are due.
	for i := range 6 {
		calls = append(calls, call(3, "guest", i*10, 2000+i*10))
	}
	for _, ms := range []int{3100, 3200, 3300, 3400} {
		calls = append(calls, call(3, "guest", ms, ms+2000))
	}
	o := &outage{Kind: faultHang, Start: t0, End: at(4000), Calls: calls}
	f := analyzeOutage(o, 5, time.Second)
	if f.own != 23 || f.retries != 1 || f.api != 2 {
		t.Errorf("own %d retries %d api %d, want 23, 1 and 2", f.own, f.retries, f.api)
	}
	if f.opening != 7+3+6 || f.probes != 2+4 {
		t.Errorf("opening %d probes %d, want 16 and 6", f.opening, f.probes)
	}
	if f.allowed != 3+2 {
		t.Errorf("allowed %d, want 5 (gw1: 2+1, gw3: 1+1)", f.allowed)
	}
	if len(f.breaches) != 1 || f.breaches[0] != "gw3 guest: 4 calls after its breaker opened at +2.04s (at +3.1s +3.2s +3.3s +3.4s), at most 2 probes due" {
		t.Errorf("breaches %q, want gw3 guest's alone", f.breaches)
	}
	if f.byEp["validate"] != 10 || f.byEp["refresh"] != 3 || f.byEp["guest"] != 10 {
		t.Errorf("by endpoint %v", f.byEp)
	}
}

func TestJudge(t *testing.T) {
	user := answer{who: whoUser, userID: 7, status: http.StatusOK}
	visitor := answer{who: whoVisitor, status: http.StatusOK}
	ended := answer{who: whoEnded, userID: 9, status: http.StatusOK}
	with := func(a answer, f func(*answer)) answer { f(&a); return a }
	for _, tc := range []struct {
		name    string
		a       answer
		failed  bool
		logout  bool
		unavail bool
	}{
		{"user page with own identity", with(user, func(a *answer) { a.kind, a.ident = kindPage, "user:7" }), false, false, false},
		{"user page with another identity", with(user, func(a *answer) { a.kind, a.ident = kindPage, "user:8" }), true, false, false},
		{"user page without identity", with(user, func(a *answer) { a.kind, a.ident = kindPage, "none" }), true, false, false},
		{"user page without identity in an outage", with(user, func(a *answer) { a.kind, a.ident, a.gate = kindPage, "none", true }), false, false, true},
		{"user page without identity, refresh remembered", with(user, func(a *answer) { a.kind, a.ident, a.owed = kindPage, "none", true }), false, false, true},
		{"user page as a guest", with(user, func(a *answer) { a.kind, a.ident = kindPage, "guest" }), true, false, false},
		{"user protected page", with(user, func(a *answer) { a.kind, a.ident = kindProtected, "user:7" }), false, false, false},
		{"user protected page without identity in an outage", with(user, func(a *answer) { a.kind, a.ident, a.gate = kindProtected, "none", true }), true, false, false},
		{"user protected page 503 in an outage", with(user, func(a *answer) { a.kind, a.status, a.gate = kindProtected, 503, true }), false, false, true},
		{"user protected page 503 outside", with(user, func(a *answer) { a.kind, a.status = kindProtected, 503 }), true, false, false},
		{"user redirected to login", with(user, func(a *answer) { a.kind, a.status, a.location = kindProtected, 307, "/login?next=/account" }), true, false, false},
		{"user logged out", with(user, func(a *answer) { a.kind, a.ident, a.deleted = kindPage, "none", true }), true, true, false},
		{"user logged out in an outage", with(user, func(a *answer) { a.kind, a.status, a.deleted, a.gate = kindAPI, 503, true, true }), true, true, false},
		{"user api own data", with(user, func(a *answer) { a.kind, a.ident = kindAPI, "user:7" }), false, false, false},
		{"user api as guest", with(user, func(a *answer) { a.kind, a.ident = kindAPI, "guest" }), true, false, false},
		{"user api 401", with(user, func(a *answer) { a.kind, a.status, a.msg = kindAPI, 401, "Session expired." }), true, false, false},
		{"user api 503 unavailable in an outage", with(user, func(a *answer) { a.kind, a.status, a.msg, a.gate = kindAPI, 503, msgUnavailable, true }), false, false, true},
		{"user api 503 unavailable outside", with(user, func(a *answer) { a.kind, a.status, a.msg = kindAPI, 503, msgUnavailable }), true, false, false},
		{"user api 504 while the backend hangs", with(user, func(a *answer) {
			a.kind, a.status, a.msg, a.fault, a.gate = kindAPI, 504, msgBackendTimeout, true, true
		}), false, false, true},
		{"user api 502 after the backend recovered", with(user, func(a *answer) { a.kind, a.status, a.msg, a.gate = kindAPI, 502, msgProxyError, true }), true, false, false},
		{"user api backend's own 503 while failing", with(user, func(a *answer) { a.kind, a.status, a.msg, a.fault = kindAPI, 503, backendDown, true }), false, false, true},
		{"user api 500", with(user, func(a *answer) { a.kind, a.status = kindAPI, 500 }), true, false, false},
		{"user api 429", with(user, func(a *answer) { a.kind, a.status = kindAPI, 429 }), true, false, false},
		{"transport error", with(user, func(a *answer) { a.kind, a.err = kindAPI, syscall.ECONNREFUSED }), true, false, false},
		{"visitor page as guest", with(visitor, func(a *answer) { a.kind, a.ident = kindPage, "guest" }), false, false, false},
		{"visitor page without identity", with(visitor, func(a *answer) { a.kind, a.ident = kindPage, "none" }), true, false, false},
		{"visitor page without identity in an outage", with(visitor, func(a *answer) { a.kind, a.ident, a.gate = kindPage, "none", true }), false, false, true},
		{"visitor protected page redirected", with(visitor, func(a *answer) { a.kind, a.status, a.location = kindProtected, 307, "/login" }), false, false, false},
		{"visitor protected page 200", with(visitor, func(a *answer) { a.kind, a.ident = kindProtected, "guest" }), true, false, false},
		{"visitor api as guest", with(visitor, func(a *answer) { a.kind, a.ident = kindAPI, "guest" }), false, false, false},
		{"visitor api 401", with(visitor, func(a *answer) { a.kind, a.status, a.msg = kindAPI, 401, "Token not found." }), true, false, false},
		{"visitor api 503 owed is not a visitor's", with(visitor, func(a *answer) { a.kind, a.status, a.msg, a.owed = kindAPI, 503, msgUnavailable, true }), true, false, false},
		{"ended user's deletion is due", with(ended, func(a *answer) { a.kind, a.status, a.deleted = kindAPI, 401, true }), false, false, false},
		{"ended user api 401", with(ended, func(a *answer) { a.kind, a.status = kindAPI, 401 }), false, false, false},
		{"ended user page as guest", with(ended, func(a *answer) { a.kind, a.ident = kindPage, "guest" }), false, false, false},
		{"ended user redirected", with(ended, func(a *answer) { a.kind, a.status, a.location = kindProtected, 307, "/login" }), false, false, false},
		{"ended user 500", with(ended, func(a *answer) { a.kind, a.status = kindPage, 500 }), true, false, false},
		{"slow page in flight at SIGTERM", with(user, func(a *answer) { a.kind, a.ident = kindSlowPage, "user:7" }), false, false, false},
		{"slow api cut at SIGTERM", with(user, func(a *answer) { a.kind, a.status = kindSlowAPI, 502 }), true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := judge(tc.a)
			if v.failed != tc.failed || v.logout != tc.logout || v.unavail != tc.unavail {
				t.Errorf("judge = %+v, want failed %v logout %v unavailable %v", v, tc.failed, tc.logout, tc.unavail)
			}
			if v.failed && v.reason == "" {
				t.Error("a failure without a reason")
			}
		})
	}
}

func TestRecorderCounts(t *testing.T) {
	r := newRecorder()
	r.enter("soak")
	ok := answer{kind: kindAPI, status: 200}
	r.record("soak", ok, verdict{}, "")
	r.record("soak", answer{kind: kindAPI, status: 503}, verdict{unavail: true}, "")
	r.enter("redis paused")
	r.record("redis paused", answer{kind: kindPage, status: 200}, verdict{failed: true, logout: true, reason: "logout"}, "gw1 user page")
	r.record("soak", answer{kind: kindAPI, err: errors.New("x")}, verdict{failed: true, reason: "transport"}, "late answer")
	r.record("redis paused", ok, verdict{ended: true}, "")
	tot := r.total()
	if tot.requests != 5 || tot.failed != 2 || tot.logouts != 1 || tot.unavail != 1 || tot.ended != 1 {
		t.Errorf("total %+v", tot)
	}
	soak := r.byPhase["soak"]
	if soak.requests != 3 || soak.failed != 1 || soak.statuses["api error"] != 1 || soak.statuses["api 503"] != 1 {
		t.Errorf("soak %+v", soak)
	}
	if len(r.order) != 2 || r.current() != "redis paused" {
		t.Errorf("order %v current %q", r.order, r.current())
	}
	if len(r.examples) != 2 || !strings.Contains(r.examples[0], "[redis paused] logout; gw1 user page") {
		t.Errorf("examples %q", r.examples)
	}
}

func TestApplyCookies(t *testing.T) {
	now := time.Unix(2000, 0)
	for _, tc := range []struct {
		name        string
		jar         map[string]string
		set         []*http.Cookie
		deleted     bool
		refreshed   bool
		user, guest string
	}{
		{"refresh", map[string]string{userCookie: "a"}, []*http.Cookie{{Name: userCookie, Value: "b", MaxAge: 60}}, false, true, "b", ""},
		{"deletion by Max-Age", map[string]string{userCookie: "a"}, []*http.Cookie{{Name: userCookie, MaxAge: -1}}, true, false, "", ""},
		{"deletion by Expires", map[string]string{userCookie: "a"}, []*http.Cookie{{Name: userCookie, Value: "x", Expires: time.Unix(0, 0)}}, true, false, "", ""},
		{"deletion of an absent cookie", map[string]string{guestCookie: "g"}, []*http.Cookie{{Name: userCookie, MaxAge: -1}}, false, false, "", "g"},
		{"guest minted, guest deleted", map[string]string{userCookie: "a", guestCookie: "g"}, []*http.Cookie{{Name: guestCookie, MaxAge: -1}}, false, false, "a", ""},
		{"other cookies ignored", map[string]string{userCookie: "a"}, []*http.Cookie{{Name: "__csrf", Value: "c"}}, false, false, "a", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &vuser{jar: tc.jar}
			deleted, set := u.apply(tc.set, now)
			if deleted != tc.deleted || set != tc.refreshed || u.jar[userCookie] != tc.user || u.jar[guestCookie] != tc.guest {
				t.Errorf("deleted %v set %v jar %v", deleted, set, u.jar)
			}
		})
	}
}

func TestWindows(t *testing.T) {
	t0 := time.Unix(3000, 0)
	s := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	var w windows
	a := w.open(s(10))
	w.close(a, s(20))
	b := w.open(s(30))
	for _, tc := range []struct {
		from, to int
		want     *window
	}{
		{0, 9, nil}, {0, 10, a}, {15, 16, a}, {20, 25, a}, {21, 29, nil}, {29, 31, b}, {100, 101, b},
	} {
		if got := w.overlap(s(tc.from), s(tc.to)); got != tc.want {
			t.Errorf("overlap(%d, %d) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
	if !w.until(a, 5*time.Second, s(24)) || w.until(a, 5*time.Second, s(25)) || !w.until(b, 0, s(1000)) {
		t.Error("until: a closed window lasts d more, an open one forever")
	}
}

func TestParseTCP(t *testing.T) {
	const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:9C40 0100007F:18EB 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:9C41 0100007F:18EB 08 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 20 4 30 10 -1
`
	conns, err := parseTCP(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	want := []tcpConn{{8080, 0, tcpListen, "111"}, {40000, 6379, tcpEstablished, "222"}, {40001, 6379, "08", "333"}}
	if fmt.Sprint(conns) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", conns, want)
	}
	if _, err := parseTCP(strings.NewReader("head\n 0: 0100007F:1F90 00000000:ZZZZ 0A 0 0 0 0 0 9\n")); err == nil {
		t.Error("a bad port: no error")
	}
}

func TestParseMetrics(t *testing.T) {
	const text = `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 42
go_goroutines_extra 1
apilayer_config_reloads_total{result="ok"} 2
apilayer_config_reloads_total{result="error"} 1
process_open_fds 17
`
	m, err := parseMetrics(strings.NewReader(text), "go_goroutines", "apilayer_config_reloads_total")
	if err != nil {
		t.Fatal(err)
	}
	if m["go_goroutines"] != 42 || m[`apilayer_config_reloads_total{result="ok"}`] != 2 || m[`apilayer_config_reloads_total{result="error"}`] != 1 {
		t.Errorf("metrics %v", m)
	}
	if _, ok := m["process_open_fds"]; ok {
		t.Error("a metric not asked for was read")
	}
}

// The backend counts refresh calls and rotations per user: a second
// refresh of a rotated token is a duplicate (reuse), the family is then
// revoked, and a user the test ended is not counted.
func TestChaosBackendRefreshes(t *testing.T) {
	b := newChaosBackend()
	srv := httptest.NewServer(b)
	defer srv.Close()
	ctx := context.Background()
	l := newLoad([]string{srv.URL}, srv.URL, newRecorder())
	do := func(method, path, token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v map[string]any
		json.NewDecoder(res.Body).Decode(&v)
		return res.StatusCode, v
	}
	us, err := l.users(ctx, 3, time.Now().Add(-time.Second), time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob, carol := us[0], us[1], us[2]
	tok := func(u *vuser) string { return u.jar[userCookie] }

	if st, _ := do("GET", "/g1/api/auth/me", tok(alice)); st != 401 {
		t.Errorf("expired token validated: %d", st)
	}
	st, v := do("POST", "/g1/api/auth/refresh", tok(alice))
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, v)
	}
	next := v["data"].(map[string]any)["accessToken"].(string)
	if st, v := do("GET", "/g2/api/auth/me", next); st != 200 || v["data"].(map[string]any)["id"] != float64(alice.id) {
		t.Errorf("new token: %d %v", st, v)
	}
	if st, v := do("POST", "/g2/api/auth/refresh", tok(alice)); st != 409 || v["code"] != "token_reuse" {
		t.Errorf("reuse: %d %v", st, v)
	}
	if st, _ := do("GET", "/g2/api/data", next); st != 401 {
		t.Errorf("revoked family's token used: %d", st)
	}
	do("POST", "/g1/api/auth/refresh", tok(bob))
	if err := l.end(ctx, []*vuser{carol}); err != nil {
		t.Fatal(err)
	}
	do("POST", "/g1/api/auth/refresh", tok(carol))
	do("POST", "/g1/api/auth/refresh", tok(carol))
	s := b.stats(false, bob.id, carol.id)
	if s.Refreshes != 5 || s.Rotations != 2 || s.Reuses != 1 || s.Revoked != 1 || s.Duplicates != 1 {
		t.Errorf("stats %+v, want 5 calls, 2 rotations, 1 reuse, 1 duplicate (carol's are not counted)", s)
	}
	if s.RangeRotations != 1 || s.RangeCalls != 3 || fmt.Sprint(s.DupUsers) != fmt.Sprint([]int{alice.id}) {
		t.Errorf("range %d rotations %d calls, duplicates of %v", s.RangeRotations, s.RangeCalls, s.DupUsers)
	}
}

// While a failing fault is on, every call is recorded with its instance
// and endpoint, and answered as the fault says; the control paths never
// fail.
func TestChaosBackendFaults(t *testing.T) {
	b := newChaosBackend()
	srv := httptest.NewServer(b)
	defer srv.Close()
	ctx := context.Background()
	l := newLoad([]string{srv.URL}, srv.URL, newRecorder())
	get := func(path string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		res, err := srv.Client().Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	if err := l.control(ctx, srv.URL+"/_chaos/fault?kind=503", nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/g1/api/auth/me", "/g2/api/auth/refresh", "/g2/api/data"} {
		if st, err := get(p); st != 503 || err != nil {
			t.Errorf("%s: %d %v, want 503", p, st, err)
		}
	}
	if err := l.control(ctx, srv.URL+"/_chaos/fault?kind=reset", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := get("/g3/api/auth/guest"); err == nil {
		t.Error("reset: the call was answered")
	}
	if err := l.control(ctx, srv.URL+"/_chaos/fault?kind=ok", nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := get("/g1/api/auth/me"); st != 401 {
		t.Errorf("after the fault: %d, want the backend's own 401", st)
	}
	s := b.stats(true, 0, 0)
	if len(s.Outages) != 2 || s.Outages[0].Kind != fault503 || s.Outages[1].Kind != faultReset || s.Outages[1].End.IsZero() {
		t.Fatalf("outages %+v", s.Outages)
	}
	var got []string
	for _, o := range s.Outages {
		for _, c := range o.Calls {
			got = append(got, fmt.Sprintf("%s gw%d %s", o.Kind, c.Inst, c.Endpoint))
		}
	}
	want := []string{"503 gw1 validate", "503 gw2 refresh", "503 gw2 api", "reset gw3 guest"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	if err := l.control(ctx, srv.URL+"/_chaos/fault?kind=bogus", nil); err == nil {
		t.Error("an unknown fault was accepted")
	}
}

func TestParseFlagsChaos(t *testing.T) {
	s, err := parseFlags([]string{"-chaos", "-quick", "-apilayer", "/tmp/apilayer"}, new(strings.Builder))
	if err != nil {
		t.Fatal(err)
	}
	if !s.chaos || !s.quick || s.apilayer != "/tmp/apilayer" {
		t.Errorf("settings %+v", s)
	}
	q, f := chaosPlanFor(true), chaosPlanFor(false)
	if q.users >= f.users || q.soak >= f.soak || q.users < 500 {
		t.Errorf("quick plan %+v, full %+v", q, f)
	}
}

// The gateway configuration the suite writes is valid (what `apilayer
// serve` loads), with the settings the checks count on; a broken one is
// refused.
func TestChaosGatewayConfig(t *testing.T) {
	g := gwConfig{listen: "127.0.0.1:1", backend: "http://127.0.0.1:2/g1/api/", upstream: "http://127.0.0.1:3",
		redis: "redis://127.0.0.1:4/0", maxRequests: 100}
	resolve := func(g gwConfig) (*config.Config, error) {
		file := filepath.Join(t.TempDir(), "gw.yaml")
		if err := os.WriteFile(file, []byte(g.yaml()), 0o600); err != nil {
			t.Fatal(err)
		}
		return config.Resolve(file)
	}
	c, err := resolve(g)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != g.listen || c.Backend.URL != g.backend || c.Backend.Timeout != chaosBackendTimeout ||
		c.Backend.Breaker.Failures != chaosBreakerFails || c.Backend.Breaker.OpenFor != chaosBreakerOpenFor ||
		*c.Server.BodyIdleTimeout != chaosBodyIdle || c.Server.ShutdownTimeout != chaosShutdown ||
		c.Store.Driver != "redis" || c.Store.Redis.URL != g.redis || c.RateLimit.MaxRequests != 100 ||
		!c.Guest.Enabled || !c.Metrics.Enabled || c.Cookies.User != userCookie || c.Cookies.Guest != guestCookie {
		t.Errorf("resolved config %+v", c)
	}
	g.broken = true
	if _, err := resolve(g); err == nil || !strings.Contains(err.Error(), "notAKey") {
		t.Errorf("broken config: %v", err)
	}
	g.broken, g.peers, g.peerSecret = false, []string{"http://a", "http://b"}, "s"
	if y := g.yaml(); !strings.Contains(y, "  peers: [http://a, http://b]\n  peerSecret: s\n") {
		t.Errorf("config with peers:\n%s", y)
	}
}

// The report names the state changes a gateway logged outside the steps
// that cause them.
func TestUnexpected(t *testing.T) {
	t0 := time.Unix(5000, 0).UTC()
	r := newRecorder()
	r.starts = []phaseStart{{"soak", t0}, {"redis paused", t0.Add(10 * time.Second)}, {"backend 503", t0.Add(20 * time.Second)}, {"backend slow", t0.Add(30 * time.Second)}}
	line := func(s int, msg, extra string) string {
		return fmt.Sprintf(`{"time":%q,"level":"WARN","msg":%q%s}`+"\n", t0.Add(time.Duration(s)*time.Second).Format(time.RFC3339Nano), msg, extra)
	}
	log := line(5, "redisstore: redis unavailable, serving from per-instance state", `,"error":"i/o timeout"`) +
		line(11, "redisstore: redis unavailable, serving from per-instance state", "") +
		line(21, "backend: circuit open", `,"endpoint":"validate"`) +
		line(31, "backend: circuit open", `,"endpoint":"refresh"`) +
		line(32, "backend: circuit open: probe failed", `,"endpoint":"refresh"`) +
		"not json\n"
	file := filepath.Join(t.TempDir(), "gw.log")
	if err := os.WriteFile(file, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	got := unexpected(file, r.phaseAt, t0)
	want := []string{"+5.0s (soak): Redis unavailable (i/o timeout)", "+31.0s (backend slow): backend refresh breaker opened"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A connection to a gateway's listen port from another gateway's pool
// (store.peers) is pooled; one from anywhere else is the gateway's own.
func TestPeerPools(t *testing.T) {
	all := map[string]resources{
		"gw1": {goroutines: 20, peerOut: []int{50000}, pooled: 1, pooledHTTP: 1, kinds: map[string]int{}},
		"gw2": {goroutines: 20, incoming: []int{50000, 50001}, kinds: map[string]int{}},
	}
	peerPools(all)
	if g := all["gw2"]; g.pooled != 1 || g.pooledServer != 1 || g.kinds["tcp state 01 from a client"] != 1 || g.ownGoroutines() != 19 {
		t.Errorf("gw2: %+v, want one pooled connection from gw1 (one goroutine) and one from a client", g)
	}
	if g := all["gw1"]; g.pooled != 1 || g.pooledServer != 0 || g.ownGoroutines() != 18 {
		t.Errorf("gw1: %+v, want its one connection to a peer pooled (two goroutines)", g)
	}
}
