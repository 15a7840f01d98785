package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Cookie names the gateways of the chaos suite use (the defaults).
const (
	userCookie  = "userAuthToken"
	guestCookie = "guestAuthToken"
)

// refreshMemoryMax is the longest the gateway remembers a refresh that
// failed as unavailable (1 s doubling to 30 s, docs/how-it-works.md), plus
// a margin for the last interval in progress.
const refreshMemoryMax = 32 * time.Second

// vuser is one browser of the load: its own client IP (sent as
// X-Forwarded-For through the trusted proxy that the load plays), its own
// User-Agent and cookie jar, shared by its tabs.
type vuser struct {
	seq     int // unique among the load's users, for routing
	id      int // backend user id; 0 for a visitor
	visitor bool
	tabs    int
	think   time.Duration // mean pause between a tab's requests
	mix     [3]float64    // shares of page, protected and API requests

	mu    sync.Mutex
	ip    string            // guarded by mu (a visitor changes it when it leaves)
	ua    string            // guarded by mu
	jar   map[string]string // guarded by mu
	exp   time.Time         // guarded by mu: when the user's token expires
	ended bool              // guarded by mu: the test ended the session at the backend
	owed  *window           // guarded by mu: an outage in which the expired token's refresh failed
}

func (u *vuser) who() string {
	switch {
	case u.visitor:
		return whoVisitor
	case u.ended:
		return whoEnded
	}
	return whoUser
}

// cookieHeader is the Cookie header of the jar.
func (u *vuser) cookieHeader() string {
	var b []byte
	for _, name := range []string{userCookie, guestCookie} {
		if v := u.jar[name]; v != "" {
			if len(b) > 0 {
				b = append(b, "; "...)
			}
			b = append(b, name...)
			b = append(b, '=')
			b = append(b, v...)
		}
	}
	return string(b)
}

// apply stores the answer's auth cookies as a browser would and reports
// whether it deleted the user cookie and whether it set a new one.
func (u *vuser) apply(cookies []*http.Cookie, now time.Time) (deleted, set bool) {
	for _, c := range cookies {
		if c.Name != userCookie && c.Name != guestCookie {
			continue
		}
		gone := c.Value == "" || c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(now))
		switch {
		case gone && c.Name == userCookie && u.jar[userCookie] != "":
			deleted = true
			delete(u.jar, c.Name)
		case gone:
			delete(u.jar, c.Name)
		default:
			set = set || c.Name == userCookie
			u.jar[c.Name] = c.Value
		}
	}
	return deleted, set
}

// window is an interval of the run; end is zero while it is open.
type window struct {
	start, end time.Time
}

// windows are the outage intervals of a run, safe for concurrent use.
type windows struct {
	mu   sync.Mutex
	list []*window
}

func (w *windows) open(at time.Time) *window {
	w.mu.Lock()
	defer w.mu.Unlock()
	win := &window{start: at}
	w.list = append(w.list, win)
	return win
}

func (w *windows) close(win *window, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	win.end = at
}

// overlap returns a window that overlaps [from, to], or nil.
func (w *windows) overlap(from, to time.Time) *window {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, win := range slices.Backward(w.list) {
		if !to.Before(win.start) && (win.end.IsZero() || !from.After(win.end)) {
			return win
		}
	}
	return nil
}

// until reports whether win is open or ended less than d before at.
func (w *windows) until(win *window, d time.Duration, at time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return win.end.IsZero() || at.Before(win.end.Add(d))
}

// router plays the load balancer: each request goes to a random instance
// in rotation, or, while sticky, always to the same one per user.
type router struct {
	mu     sync.Mutex
	live   []int // indexes of the instances in rotation; guarded by mu
	sticky atomic.Bool
}

func (r *router) pick(u *vuser) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sticky.Load() {
		return r.live[u.seq%len(r.live)]
	}
	return r.live[rand.IntN(len(r.live))]
}

// remove takes instance i out of rotation.
func (r *router) remove(i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live = slices.DeleteFunc(r.live, func(v int) bool { return v == i })
}

// tally counts the answers of one phase.
type tally struct {
	requests, failed, logouts, ended, unavail int64
	statuses                                  map[string]int64 // "kind status" → n
	reasons                                   map[string]int64 // failure reason → n
}

// recorder keeps the tallies of every phase and the first failures.
type recorder struct {
	mu       sync.Mutex
	phase    string            // current phase; guarded by mu
	order    []string          // phases in order; guarded by mu
	starts   []phaseStart      // every phase change; guarded by mu
	byPhase  map[string]*tally // guarded by mu
	examples []string          // the first failures, in full; guarded by mu
}

func newRecorder() *recorder { return &recorder{byPhase: map[string]*tally{}} }

// enter starts phase name: answers to requests made from now on count in it.
func (r *recorder) enter(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phase = name
	r.starts = append(r.starts, phaseStart{name, time.Now()})
	if r.byPhase[name] == nil {
		r.byPhase[name] = &tally{statuses: map[string]int64{}, reasons: map[string]int64{}}
		r.order = append(r.order, name)
	}
}

// phaseStart is when a phase began.
type phaseStart struct {
	name string
	at   time.Time
}

// phaseAt is the phase at time t ("" before the first).
func (r *recorder) phaseAt(t time.Time) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := ""
	for _, s := range r.starts {
		if s.at.After(t) {
			break
		}
		name = s.name
	}
	return name
}

func (r *recorder) current() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.phase
}

// record counts one answer in phase.
func (r *recorder) record(phase string, a answer, v verdict, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.byPhase[phase]
	t.requests++
	status := strconv.Itoa(a.status)
	if a.err != nil {
		status = "error"
	}
	t.statuses[a.kind+" "+status]++
	if v.unavail {
		t.unavail++
	}
	if v.ended {
		t.ended++
	}
	if v.logout {
		t.logouts++
	}
	if v.failed {
		t.failed++
		t.reasons[v.reason]++
		if len(r.examples) < 20 {
			r.examples = append(r.examples, fmt.Sprintf("[%s] %s; %s", phase, v.reason, detail))
		}
	}
}

// total sums the tallies of every phase.
func (r *recorder) total() tally {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s tally
	for _, t := range r.byPhase {
		s.requests += t.requests
		s.failed += t.failed
		s.logouts += t.logouts
		s.ended += t.ended
		s.unavail += t.unavail
	}
	return s
}

// load drives the users against the gateways.
type load struct {
	client  *http.Client
	urls    []string // gateway base URLs, by instance index
	backend string   // the chaos backend's base URL, for its control paths
	router  *router
	rec     *recorder
	gate    *windows // outage until the breakers closed
	fault   *windows // the backend failing
	seq     atomic.Int64
	ips     atomic.Int64 // visitors' addresses
}

func newLoad(urls []string, backend string, rec *recorder) *load {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	l := &load{
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		urls: urls, backend: backend, rec: rec, router: &router{}, gate: &windows{}, fault: &windows{},
	}
	for i := range urls {
		l.router.live = append(l.router.live, i)
	}
	return l
}

// userIP is the client address of user n: 10.x.y.z, unique per n.
func userIP(prefix byte, n int) string {
	return fmt.Sprintf("10.%d.%d.%d", prefix+byte(n>>16), byte(n>>8), byte(n))
}

// users asks the backend for n sessions expiring at exp and makes them
// users with tabs tabs (one in three with 1..extra more) and think time
// think.
func (l *load) users(ctx context.Context, n int, exp time.Time, think time.Duration, extra int) ([]*vuser, error) {
	var sessions []newSession
	u := fmt.Sprintf("%s/_chaos/users?n=%d&exp=%d", l.backend, n, exp.Unix())
	if err := l.control(ctx, u, &sessions); err != nil {
		return nil, err
	}
	out := make([]*vuser, len(sessions))
	for i, s := range sessions {
		seq := int(l.seq.Add(1))
		tabs := 1
		if extra > 0 && i%3 == 0 {
			tabs += 1 + i/3%extra
		}
		out[i] = &vuser{seq: seq, id: s.ID, tabs: tabs, think: think, mix: [3]float64{0.4, 0.2, 0.4},
			ip: userIP(0, s.ID), ua: fmt.Sprintf("Mozilla/5.0 (chaos; user %d) Gecko/20100101 Firefox/140.0", s.ID),
			jar: map[string]string{userCookie: s.Token}, exp: exp}
	}
	return out, nil
}

// visitors makes n visitors without an account.
func (l *load) visitors(n int, think time.Duration) []*vuser {
	out := make([]*vuser, n)
	for i := range out {
		out[i] = &vuser{seq: int(l.seq.Add(1)), visitor: true, tabs: 1, think: think, mix: [3]float64{0.6, 0.05, 0.35},
			jar: map[string]string{}}
		l.newVisitor(out[i])
	}
	return out
}

// newVisitor gives visitor u a new address, User-Agent and an empty jar:
// another person arrives.
func (l *load) newVisitor(u *vuser) {
	n := int(l.ips.Add(1))
	u.ip = userIP(100, n)
	u.ua = fmt.Sprintf("Mozilla/5.0 (chaos; visitor %d) AppleWebKit/537.36 Chrome/140.0", n)
	clear(u.jar)
}

// control calls one of the chaos backend's control paths and decodes the
// answer into out.
func (l *load) control(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	if out == nil {
		out = &json.RawMessage{}
	}
	res, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("bench: chaos backend: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: chaos backend: %s answered %d", url, res.StatusCode)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// getJSON GETs url and decodes its JSON answer into out.
func (l *load) getJSON(ctx context.Context, url string, out any) error {
	req, err := newGet(ctx, url)
	if err != nil {
		return err
	}
	res, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("bench: chaos: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: chaos: %s answered %d", url, res.StatusCode)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

func newGet(ctx context.Context, url string) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
}

// run runs the tabs of users until ctx is done, and waits for them.
func (l *load) run(ctx context.Context, users []*vuser) {
	var wg sync.WaitGroup
	for _, u := range users {
		for range u.tabs {
			wg.Go(func() { l.tab(ctx, u) })
		}
	}
	wg.Wait()
}

// start runs the tabs of users in the background until ctx is done; wait
// waits for them.
func (l *load) start(ctx context.Context, users []*vuser) (wait func()) {
	done := make(chan struct{})
	go func() {
		l.run(ctx, users)
		close(done)
	}()
	return func() { <-done }
}

// pause sleeps about d (exponential, capped at 4d); false when ctx ended.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(min(time.Duration(rand.ExpFloat64()*float64(d)), 4*d))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// tab is one browser tab: think, send a request, judge the answer.
func (l *load) tab(ctx context.Context, u *vuser) {
	// Tabs start spread over one think time.
	if !pause(ctx, u.think/2) {
		return
	}
	for {
		kind := kindAPI
		switch p := rand.Float64(); {
		case p < u.mix[0]:
			kind = kindPage
		case p < u.mix[0]+u.mix[1]:
			kind = kindProtected
		}
		if u.visitor && rand.IntN(20) == 0 {
			u.mu.Lock()
			l.newVisitor(u)
			u.mu.Unlock()
		}
		l.one(ctx, u, kind, l.router.pick(u), "")
		if !pause(ctx, u.think) {
			return
		}
	}
}

// one sends one request of kind for u to instance inst and judges it.
// query is added to a slow kind's path.
func (l *load) one(ctx context.Context, u *vuser, kind string, inst int, query string) {
	path, accept := "/products/"+strconv.Itoa(rand.IntN(100)), "text/html"
	switch kind {
	case kindProtected:
		path = "/account"
	case kindAPI:
		path, accept = "/api/data", "application/json"
	case kindSlowPage:
		path = "/slow?" + query
	case kindSlowAPI:
		path, accept = "/api/slow?"+query, "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.urls[inst]+path, nil)
	if err != nil {
		return
	}
	u.mu.Lock()
	who := u.who()
	req.Header.Set("X-Forwarded-For", u.ip)
	req.Header.Set("User-Agent", u.ua)
	if c := u.cookieHeader(); c != "" {
		req.Header.Set("Cookie", c)
	}
	u.mu.Unlock()
	req.Header.Set("Accept", accept)
	phase := l.rec.current()
	start := time.Now()
	res, err := l.client.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
	}
	if ctx.Err() != nil {
		return // cut by the end of the load: neither a success nor a failure
	}
	end := time.Now()
	a := answer{kind: kind, who: who, userID: u.id, err: err}
	if res != nil {
		a.status, a.location = res.StatusCode, res.Header.Get("Location")
		a.ident = res.Header.Get(identHeader)
	}
	if err == nil && (kind == kindAPI || kind == kindSlowAPI) {
		var v struct {
			Message string `json:"message"`
			Data    struct {
				User string `json:"user"`
			} `json:"data"`
		}
		json.Unmarshal(body, &v)
		a.msg = v.Message
		if v.Data.User != "" {
			a.ident = "guest"
			if v.Data.User != "guest" {
				a.ident = "user:" + v.Data.User
			}
		}
	}
	gate := l.gate.overlap(start, end)
	a.gate, a.fault = gate != nil, l.fault.overlap(start, end) != nil
	u.mu.Lock()
	if u.ended {
		// The test ended the session while the request was in flight: what
		// the gateway does to it from then on is due.
		a.who = whoEnded
	}
	var set bool
	if res != nil {
		a.deleted, set = u.apply(res.Cookies(), end)
	}
	if set {
		u.owed = nil // refreshed: nothing is remembered any more
		u.exp = end.Add(chaosRefreshTTL)
	}
	a.owed = u.owed != nil && l.gate.until(u.owed, refreshMemoryMax, end)
	v := judge(a)
	if v.unavail && gate != nil && a.who == whoUser && !u.exp.After(start) {
		// The token had expired: its refresh failed as unavailable, and the
		// gateway remembers that for a while after the outage.
		u.owed = gate
	}
	u.mu.Unlock()
	detail := fmt.Sprintf("gw%d %s %s %s → %d", inst+1, a.who, kind, path, a.status)
	if a.msg != "" {
		detail += " " + strconv.Quote(a.msg)
	}
	l.rec.record(phase, a, v, detail)
	if v.logout {
		l.relogin(ctx, u)
	}
}

// relogin logs a user back in after a logout, so that one logout is
// counted once.
func (l *load) relogin(ctx context.Context, u *vuser) {
	var s newSession
	if err := l.control(ctx, fmt.Sprintf("%s/_chaos/login?id=%d", l.backend, u.id), &s); err != nil {
		return
	}
	u.mu.Lock()
	u.jar[userCookie] = s.Token
	u.exp = time.Now().Add(chaosRefreshTTL)
	u.mu.Unlock()
}

// end ends the sessions of users at the backend (a logout elsewhere, an
// expired refresh token): their cookie deletions are then due.
func (l *load) end(ctx context.Context, users []*vuser) error {
	for _, u := range users {
		u.mu.Lock()
		u.ended = true
		u.mu.Unlock()
		if err := l.control(ctx, fmt.Sprintf("%s/_chaos/end?id=%d", l.backend, u.id), nil); err != nil {
			return err
		}
	}
	return nil
}
