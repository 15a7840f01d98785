package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

const testSecret = "0123456789abcdef0123456789abcdef"

// clock is an injectable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// refresher is a Refresher that records its calls.
type refresher struct {
	mu    sync.Mutex
	calls []refreshRequest // Credential, Client
	a     Answer
	err   error
}

func (r *refresher) Relayed(_ context.Context, cred, client string) (Answer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, refreshRequest{Credential: cred, Client: client})
	return r.a, r.err
}

func (r *refresher) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// fleet is n Sets, each behind its own test server, listing all n; the
// rounds are run by the test (newSet: no loop).
type fleet struct {
	sets []*Set
	srvs []*httptest.Server
	refs []*refresher
	urls []string
}

func newFleet(t *testing.T, n int, c *clock) *fleet {
	t.Helper()
	f := &fleet{}
	for range n {
		srv := httptest.NewUnstartedServer(nil)
		f.srvs = append(f.srvs, srv)
		f.urls = append(f.urls, "http://"+srv.Listener.Addr().String())
	}
	for i := range n {
		s, err := newSet(Options{Peers: f.urls, Secret: []byte(testSecret), Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		r := &refresher{a: Answer{Sealed: []byte("sealed-by-" + strconv.Itoa(i))}}
		f.srvs[i].Config.Handler = s.Handler(r)
		f.srvs[i].Start()
		t.Cleanup(func() {
			f.srvs[i].Close()
			s.Close()
		})
		f.sets, f.refs = append(f.sets, s), append(f.refs, r)
	}
	return f
}

// round runs one round of pings on every Set.
func (f *fleet) round() {
	for _, s := range f.sets {
		s.round(context.Background())
	}
}

func TestRendezvousStableWhenAPeerLeaves(t *testing.T) {
	ids := []string{"a1", "b2", "c3", "d4", "e5"}
	const keys = 10000
	before := make([]string, keys)
	counts := map[string]int{}
	for k := range keys {
		before[k] = ids[owner(ids, fmt.Sprint(k))]
		counts[before[k]]++
	}
	// Spread: each of 5 owns about a fifth.
	for _, id := range ids {
		if counts[id] < keys/5*8/10 || counts[id] > keys/5*12/10 {
			t.Errorf("%s owns %d of %d keys, want about %d", id, counts[id], keys, keys/5)
		}
	}
	left := []string{"a1", "b2", "d4", "e5"} // c3 leaves
	moved := map[string]int{}
	for k := range keys {
		got := left[owner(left, fmt.Sprint(k))]
		switch {
		case before[k] != "c3" && got != before[k]:
			t.Fatalf("key %d moved from %s to %s, though %s is still live", k, before[k], got, before[k])
		case before[k] == "c3":
			moved[got]++
		}
	}
	// c3's keys went to every other peer, not to one.
	if len(moved) != len(left) {
		t.Errorf("c3's keys went to %v, want all of %v", moved, left)
	}
	// The order of the list does not matter.
	for k := range 100 {
		if ids[owner(ids, fmt.Sprint(k))] != before[k] {
			t.Fatal("not deterministic")
		}
		rev := []string{"e5", "d4", "c3", "b2", "a1"}
		if rev[owner(rev, fmt.Sprint(k))] != before[k] {
			t.Fatalf("key %d: the owner depends on the order of the peers", k)
		}
	}
	if owner(nil, "k") != -1 {
		t.Fatal("an owner among no peers")
	}
}

func TestMembership(t *testing.T) {
	c := newClock()
	f := newFleet(t, 3, c)
	// Before any ping nobody is live: nobody to ask.
	if _, _, ok := f.sets[0].Owner("k"); ok {
		t.Fatal("an owner before any ping")
	}
	f.round()
	for i, s := range f.sets {
		ms := s.Members()
		live, self := 0, 0
		for _, m := range ms {
			if m.Live {
				live++
			}
			if m.Self {
				self++
				if m.URL != f.urls[i] {
					t.Errorf("instance %d recognised itself at %s, want %s", i, m.URL, f.urls[i])
				}
			}
		}
		if len(ms) != 3 || live != 3 || self != 1 {
			t.Errorf("instance %d: %+v, want 3 live members, itself among them", i, ms)
		}
	}
	// Every instance names the same owner for every key, and exactly one
	// instance is that owner.
	for k := range 200 {
		key := fmt.Sprintf("%064x", k)
		u0, _, _ := f.sets[0].Owner(key)
		selves := 0
		for i, s := range f.sets {
			u, self, ok := s.Owner(key)
			if !ok || u != u0 {
				t.Fatalf("key %d: instance %d names %s (ok %v), instance 0 names %s", k, i, u, ok, u0)
			}
			if self {
				selves++
				if u != f.urls[i] {
					t.Fatalf("key %d: instance %d owns it at %s", k, i, u)
				}
			}
		}
		if selves != 1 {
			t.Fatalf("key %d: %d instances think they own it", k, selves)
		}
	}

	// Instance 2 stops answering: within LiveFor it still counts, after
	// it nobody names it any more.
	f.srvs[2].Close()
	c.Advance(LiveFor)
	f.sets[0].round(context.Background())
	if m := f.sets[0].Members()[memberIndex(f, 0, 2)]; !m.Live {
		t.Fatalf("instance 2 not live %v after its last answer: %+v", LiveFor, m)
	}
	c.Advance(time.Second)
	f.sets[0].round(context.Background())
	f.sets[1].round(context.Background())
	for k := range 200 {
		key := fmt.Sprintf("%064x", k)
		u, _, ok := f.sets[0].Owner(key)
		u1, _, _ := f.sets[1].Owner(key)
		if !ok || u == f.urls[2] || u != u1 {
			t.Fatalf("key %d: owner %s (%v) and %s after instance 2 left", k, u, ok, u1)
		}
	}
	// Nobody answers any more (all pings fail): no owner.
	c.Advance(LiveFor + time.Second)
	if _, _, ok := f.sets[0].Owner("k"); ok {
		t.Fatal("an owner though no ping was answered for longer than LiveFor")
	}
}

// memberIndex returns the index of instance j in instance i's Members.
func memberIndex(f *fleet, i, j int) int {
	for k, m := range f.sets[i].Members() {
		if m.URL == f.urls[j] {
			return k
		}
	}
	return -1
}

func TestNotAmongPeers(t *testing.T) {
	c := newClock()
	f := newFleet(t, 2, c)
	// An instance whose own URL is not listed: it sees the others, never
	// itself, so it owns nothing and asks the owners.
	outsider, err := newSet(Options{Peers: f.urls, Secret: []byte(testSecret), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer outsider.Close()
	outsider.round(context.Background())
	for k := range 50 {
		if _, self, ok := outsider.Owner(fmt.Sprintf("%064x", k)); !ok || self {
			t.Fatalf("key %d: self %v, ok %v; want another instance as the owner", k, self, ok)
		}
	}
}

func TestDNSTargets(t *testing.T) {
	c := newClock()
	srv := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	var lookups atomic.Int64
	s, err := newSet(Options{
		Peers: []string{"dns:///gateway.test:" + port}, Secret: []byte(testSecret), Now: c.Now,
		LookupHost: func(_ context.Context, host string) ([]string, error) {
			lookups.Add(1)
			if host != "gateway.test" {
				return nil, fmt.Errorf("unknown host %q", host)
			}
			return []string{"127.0.0.1"}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.Handler(nil)
	srv.Start()
	defer srv.Close()
	defer s.Close()
	s.round(context.Background())
	ms := s.Members()
	if len(ms) != 1 || ms[0].URL != "http://127.0.0.1:"+port || !ms[0].Live || !ms[0].Self {
		t.Fatalf("members %+v, want itself at http://127.0.0.1:%s", ms, port)
	}
	c.Advance(ResolveInterval - time.Second)
	s.round(context.Background())
	if got := lookups.Load(); got != 1 {
		t.Fatalf("%d lookups within %v, want 1", got, ResolveInterval)
	}
	c.Advance(time.Second)
	s.round(context.Background())
	if got := lookups.Load(); got != 2 {
		t.Fatalf("%d lookups after %v, want 2", got, ResolveInterval)
	}
}

// signedRequest builds a request to path signed with secret at time at,
// with nonce (random if "").
func signedRequest(t *testing.T, base, method, path, secret string, at time.Time, nonce string, body []byte) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sg := &signer{key: []byte(secret), now: func() time.Time { return at }}
	sg.sign(r, body)
	if nonce != "" {
		r.Header.Set(HeaderNonce, nonce)
		r.Header.Set(HeaderSignature, sg.requestMAC(method, path, r.Header.Get(HeaderTime), nonce, body))
	}
	return r
}

func TestHandlerRefusesUnsigned(t *testing.T) {
	c := newClock()
	f := newFleet(t, 1, c)
	base := f.urls[0]
	body := []byte(`{"from":"00000000000000000000000000000000","credential":"TOKEN","client":"ua|ip"}`)
	replayed := signedRequest(t, base, http.MethodPost, RefreshPath, testSecret, c.Now(), "", body)
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"signed ping", func() *http.Request {
			return signedRequest(t, base, http.MethodGet, PingPath, testSecret, c.Now(), "", nil)
		}, http.StatusOK},
		{"signed refresh", func() *http.Request {
			r := replayed.Clone(context.Background())
			r.Body = io.NopCloser(bytes.NewReader(body))
			return r
		}, http.StatusOK},
		{"the same request again (replay)", func() *http.Request {
			r := replayed.Clone(context.Background())
			r.Body = io.NopCloser(bytes.NewReader(body))
			return r
		}, http.StatusForbidden},
		{"no signature", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, base+RefreshPath, bytes.NewReader(body))
			return r
		}, http.StatusForbidden},
		{"wrong secret", func() *http.Request {
			return signedRequest(t, base, http.MethodPost, RefreshPath, strings.Repeat("x", 32), c.Now(), "", body)
		}, http.StatusForbidden},
		{"old timestamp", func() *http.Request {
			return signedRequest(t, base, http.MethodPost, RefreshPath, testSecret, c.Now().Add(-MaxSkew-time.Second), "", body)
		}, http.StatusForbidden},
		{"timestamp in the future", func() *http.Request {
			return signedRequest(t, base, http.MethodPost, RefreshPath, testSecret, c.Now().Add(MaxSkew+time.Second), "", body)
		}, http.StatusForbidden},
		{"timestamp changed after signing", func() *http.Request {
			r := signedRequest(t, base, http.MethodPost, RefreshPath, testSecret, c.Now().Add(-time.Hour), "", body)
			r.Header.Set(HeaderTime, strconv.FormatInt(c.Now().Unix(), 10))
			return r
		}, http.StatusForbidden},
		{"tampered body", func() *http.Request {
			r := signedRequest(t, base, http.MethodPost, RefreshPath, testSecret, c.Now(), "", body)
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte("TOKEN"), []byte("OTHER"), 1)))
			return r
		}, http.StatusForbidden},
		{"signed for ping, sent to refresh", func() *http.Request {
			r := signedRequest(t, base, http.MethodGet, PingPath, testSecret, c.Now(), "", nil)
			r2, _ := http.NewRequest(http.MethodPost, base+RefreshPath, nil)
			r2.Header = r.Header
			return r2
		}, http.StatusForbidden},
		{"wrong method", func() *http.Request {
			return signedRequest(t, base, http.MethodGet, RefreshPath, testSecret, c.Now(), "", nil)
		}, http.StatusForbidden},
		{"another path under the prefix", func() *http.Request {
			return signedRequest(t, base, http.MethodGet, "/_apilayer/peer/other", testSecret, c.Now(), "", nil)
		}, http.StatusForbidden},
		{"another spelling of the path", func() *http.Request {
			return signedRequest(t, base, http.MethodGet, "/_apilayer//peer/ping", testSecret, c.Now(), "", nil)
		}, http.StatusForbidden},
		{"short nonce", func() *http.Request {
			return signedRequest(t, base, http.MethodGet, PingPath, testSecret, c.Now(), "abc", nil)
		}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.refs[0].count()
			res, err := http.DefaultClient.Do(tt.req())
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", res.StatusCode, got, tt.status)
			}
			if tt.status == http.StatusForbidden {
				if n := f.refs[0].count(); n != before {
					t.Fatal("a refused request reached the refresher")
				}
				if res.Header.Get(HeaderSignature) != "" || bytes.Contains(got, []byte(f.sets[0].ID())) {
					t.Fatalf("a refused request got a signed answer or the id: %s", got)
				}
			}
		})
	}
	// The relayed refresh reached the refresher once, with what was sent.
	f.refs[0].mu.Lock()
	calls := f.refs[0].calls
	f.refs[0].mu.Unlock()
	if len(calls) != 1 || calls[0].Credential != "TOKEN" || calls[0].Client != "ua|ip" {
		t.Fatalf("refresher calls %+v, want the one signed refresh", calls)
	}
}

func TestRelay(t *testing.T) {
	c := newClock()
	f := newFleet(t, 2, c)
	f.round()
	// A key instance 1 owns.
	key := ""
	for k := 0; key == ""; k++ {
		if _, self, _ := f.sets[1].Owner(fmt.Sprintf("%064x", k)); self {
			key = fmt.Sprintf("%064x", k)
		}
	}
	ctx := context.Background()
	t.Run("the owner does not ask", func(t *testing.T) {
		if _, asked, err := f.sets[1].Refresh(ctx, key, "TOKEN", "ua|ip"); asked || err != nil {
			t.Fatalf("asked %v, err %v; want nobody asked", asked, err)
		}
	})
	t.Run("answered", func(t *testing.T) {
		a, asked, err := f.sets[0].Refresh(ctx, key, "TOKEN", "ua|ip")
		if !asked || err != nil || string(a.Sealed) != "sealed-by-1" {
			t.Fatalf("answer %+v, asked %v, err %v", a, asked, err)
		}
		f.refs[1].mu.Lock()
		last := f.refs[1].calls[len(f.refs[1].calls)-1]
		f.refs[1].mu.Unlock()
		if last.Credential != "TOKEN" || last.Client != "ua|ip" {
			t.Fatalf("the owner ran %+v, want TOKEN for ua|ip", last)
		}
	})
	t.Run("failure reason", func(t *testing.T) {
		f.refs[1].mu.Lock()
		f.refs[1].a = Answer{Reason: "reuse"}
		f.refs[1].mu.Unlock()
		a, _, err := f.sets[0].Refresh(ctx, key, "TOKEN", "ua|ip")
		if err != nil || a.Reason != "reuse" || a.Sealed != nil {
			t.Fatalf("answer %+v, err %v", a, err)
		}
	})
	t.Run("the owner fails", func(t *testing.T) {
		f.refs[1].mu.Lock()
		f.refs[1].err = errors.New("closed")
		f.refs[1].mu.Unlock()
		_, asked, err := f.sets[0].Refresh(ctx, key, "TOKEN", "ua|ip")
		if !asked || err == nil {
			t.Fatalf("asked %v, err %v; want an error", asked, err)
		}
		if strings.Contains(err.Error(), "TOKEN") || strings.Contains(err.Error(), "ua|ip") {
			t.Fatalf("the error names the token or the client: %v", err)
		}
	})
	t.Run("the owner is gone", func(t *testing.T) {
		f.srvs[1].Close()
		_, asked, err := f.sets[0].Refresh(ctx, key, "TOKEN", "ua|ip")
		if !asked || err == nil {
			t.Fatalf("asked %v, err %v; want an error", asked, err)
		}
		if strings.Contains(err.Error(), "TOKEN") {
			t.Fatalf("the error names the token: %v", err)
		}
	})
}

// An answer that is not signed with the secret, or signed for another
// request, is not believed: someone who can answer on a peer's address
// cannot log users out or hand out tokens.
func TestAnswerMustBeSigned(t *testing.T) {
	c := newClock()
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request, sg *signer)
	}{
		{"unsigned", func(w http.ResponseWriter, r *http.Request, sg *signer) {
			io.WriteString(w, `{"reason":"reuse"}`)
		}},
		{"another secret", func(w http.ResponseWriter, r *http.Request, _ *signer) {
			body := []byte(`{"reason":"reuse"}`)
			other := &signer{key: []byte(strings.Repeat("x", 32)), now: c.Now}
			other.signAnswer(w.Header(), r.Header.Get(HeaderNonce), 200, body)
			w.Write(body)
		}},
		{"signed for another request", func(w http.ResponseWriter, r *http.Request, sg *signer) {
			body := []byte(`{"reason":"reuse"}`)
			sg.signAnswer(w.Header(), strings.Repeat("0", 32), 200, body)
			w.Write(body)
		}},
		{"body changed after signing", func(w http.ResponseWriter, r *http.Request, sg *signer) {
			sg.signAnswer(w.Header(), r.Header.Get(HeaderNonce), 200, []byte(`{"sealed":"AAAA"}`))
			io.WriteString(w, `{"reason":"reuse"}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sg := &signer{key: []byte(testSecret), now: c.Now}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.answer(w, r, sg)
			}))
			defer srv.Close()
			s, err := newSet(Options{Peers: []string{srv.URL}, Secret: []byte(testSecret), Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// The fake peer is live (it answered a ping as another
			// instance), so it owns every key.
			s.mu.Lock()
			s.members[srv.URL] = &member{id: strings.Repeat("f", 32), seen: c.Now()}
			s.mu.Unlock()
			a, asked, err := s.Refresh(context.Background(), strings.Repeat("a", 64), "TOKEN", "ua|ip")
			if !asked || err == nil {
				t.Fatalf("answer %+v believed (asked %v, err %v)", a, asked, err)
			}
		})
	}
}

func TestReserved(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/_apilayer/peer/ping", true},
		{"/_apilayer/peer/refresh", true},
		{"/_apilayer/peer/", true},
		{"/_apilayer/peer", true},
		{"/_apilayer/peer/anything/else", true},
		{"//_apilayer/peer/refresh", true},
		{"/_apilayer//peer/refresh", true},
		{"/_APILAYER/Peer/refresh", true},
		{"/%5Fapilayer/peer/refresh", true},
		{"/%5fapilayer/peer/refresh", true},
		{"/_apilayer%2Fpeer%2Frefresh", true},
		{"/x/../_apilayer/peer/refresh", true},
		{"/_apilayer/./peer/ping", true},
		{"/_apilayer/peer;x=1/refresh", true},
		{"/_apilayer;x/peer/refresh", true},
		{`/_apilayer\peer\refresh`, true},
		{"/_apilayer%5Cpeer%5Crefresh", true},
		{"/_apilayer/%70eer/refresh", true},
		{"/", false},
		{"/_apilayer/health", false},
		{"/_apilayer/peers/ping", false},
		{"/_apilayerx/peer/ping", false},
		{"/api/_apilayer/peer/ping", false},
		{"/app/peer/ping", false},
		{"/../_apilayer/peer/ping", false}, // refused (400) by the pipeline anyway
	}
	for _, tt := range tests {
		if got := Reserved(tt.path); got != tt.want {
			t.Errorf("Reserved(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestNewChecks(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no peers", Options{Secret: []byte(testSecret)}, "no peers"},
		{"short secret", Options{Peers: []string{"http://a:1"}, Secret: []byte("short")}, "at least 32 bytes (got 5)"},
		{"bad peer", Options{Peers: []string{"a:1"}, Secret: []byte(testSecret)}, `"a:1": must be a base URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.o)
			if err == nil {
				s.Close()
				t.Fatal("New accepted it")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want %q in it", err, tt.want)
			}
		})
	}
}

// Close stops the pings and waits for them: no goroutine is left, even
// with a ping in flight to a peer that never answers.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	entered := make(chan struct{}, 1)
	peerSrv := httptest.NewUnstartedServer(nil)
	before := goleak.IgnoreCurrent()
	s, err := New(Options{Peers: []string{slow.URL, "http://" + peerSrv.Listener.Addr().String()}, Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler(nil)
	peerSrv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case entered <- struct{}{}:
		default:
		}
		h.ServeHTTP(w, r)
	})
	peerSrv.Start()
	<-entered // the loop runs: a ping reached this instance
	peerSrv.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	goleak.VerifyNone(t, before)
}

// lockedLog is a log destination safe for concurrent writes.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), `msg="`+msg+`"`)
}

// One line per change of a peer's state, not one per round; a peer that
// never answers and an instance that never finds itself are said once.
func TestLogsOncePerChange(t *testing.T) {
	c := newClock()
	out := &lockedLog{}
	srv := httptest.NewUnstartedServer(nil)
	up := "http://" + srv.Listener.Addr().String()
	down := "http://" + closedAddr(t)
	other, err := newSet(Options{Peers: []string{up}, Secret: []byte(testSecret), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	srv.Config.Handler = other.Handler(nil)
	srv.Start()
	s, err := newSet(Options{Peers: []string{up, down}, Secret: []byte(testSecret), Now: c.Now,
		Logger: slog.New(slog.NewTextHandler(out, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 2 * selfWarnRounds {
		s.round(context.Background())
		c.Advance(PingInterval)
	}
	if a, n, self := out.count("peer: answering"), out.count("peer: never answered"), out.count("peer: this instance is not among store.peers (no peer answered with its id): it refreshes for itself when it must, and owns no token"); a != 1 || n != 1 || self != 1 {
		t.Fatalf("%d answering, %d never answered, %d not among peers; want 1, 1, 1:\n%s", a, n, self, out.b.String())
	}
	srv.Close()
	for range 2 * selfWarnRounds {
		s.round(context.Background())
		c.Advance(PingInterval)
	}
	if got := out.count("peer: not answering"); got != 1 {
		t.Fatalf("%d not answering lines, want 1:\n%s", got, out.b.String())
	}
	if strings.Contains(out.b.String(), testSecret) {
		t.Fatal("the secret was logged")
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Two instances asking each other about one token wait for each other's
// answer: the one with the smaller id answers 409 at once (the other then
// refreshes for both). It yields only in that cycle: not when it asks a
// third instance about the token, nor when it asks the same one about
// another token, nor when its id is the larger.
func TestYieldOnlyInACycle(t *testing.T) {
	tests := []struct {
		name      string
		waitsFor  int  // whom instance 0 (the owner asked) is asking about a key: 1, 2 or -1
		sameKey   bool // about the key it is asked about
		smallerID bool // instance 0 has the smaller id of 0 and 1
		yield     bool
	}{
		{"a cycle, smaller id", 1, true, true, true},
		{"a cycle, larger id", 1, true, false, false},
		{"asking a third instance", 2, true, true, false},
		{"asking about another token", 1, false, true, false},
		{"not asking", -1, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			f := &fleet{}
			for range 3 {
				srv := httptest.NewUnstartedServer(nil)
				f.srvs = append(f.srvs, srv)
				f.urls = append(f.urls, "http://"+srv.Listener.Addr().String())
			}
			ids := []string{strings.Repeat("1", 32), strings.Repeat("2", 32), strings.Repeat("3", 32)}
			if !tt.smallerID {
				ids[0] = strings.Repeat("9", 32)
			}
			for i := range 3 {
				s, err := newSet(Options{Peers: f.urls, Secret: []byte(testSecret), Now: c.Now})
				if err != nil {
					t.Fatal(err)
				}
				s.id = ids[i]
				r := &refresher{a: Answer{Sealed: []byte("sealed")}}
				f.srvs[i].Config.Handler = s.Handler(r)
				f.srvs[i].Start()
				t.Cleanup(func() {
					f.srvs[i].Close()
					s.Close()
				})
				f.sets, f.refs = append(f.sets, s), append(f.refs, r)
			}
			f.round()
			// A token instance 0 owns, in every view.
			key, cred := "", ""
			for k := 0; key == ""; k++ {
				cred = fmt.Sprintf("token-%d", k)
				if u, _, _ := f.sets[1].Owner(tokenKey(cred)); u == f.urls[0] {
					key = tokenKey(cred)
				}
			}
			if tt.waitsFor >= 0 {
				waitKey := key
				if !tt.sameKey {
					waitKey = tokenKey("another token")
				}
				defer f.sets[0].track(f.urls[tt.waitsFor], waitKey)()
			}
			_, asked, err := f.sets[1].Refresh(context.Background(), key, cred, "ua|ip")
			if !asked {
				t.Fatal("instance 1 did not ask instance 0")
			}
			if got := errors.Is(err, ErrYield); got != tt.yield || (!tt.yield && err != nil) {
				t.Fatalf("err %v, want yield %v", err, tt.yield)
			}
			if n := f.refs[0].count(); (n == 0) != tt.yield {
				t.Fatalf("the owner's refresher ran %d times, yield %v", n, tt.yield)
			}
		})
	}
}

// A signed answer to a relayed refresh counts as an answer to a ping: an
// owner busy answering relays stays live even when its pings are slow.
func TestRelayAnswerKeepsTheOwnerLive(t *testing.T) {
	c := newClock()
	f := newFleet(t, 2, c)
	f.round()
	key := ""
	for k := 0; key == ""; k++ {
		if u, _, _ := f.sets[0].Owner(fmt.Sprintf("%064x", k)); u == f.urls[1] {
			key = fmt.Sprintf("%064x", k)
		}
	}
	c.Advance(LiveFor - time.Second)
	if _, _, err := f.sets[0].Refresh(context.Background(), key, "TOKEN", "ua|ip"); err != nil {
		t.Fatal(err)
	}
	c.Advance(3 * time.Second) // LiveFor+2s after the last ping, 3s after the answer
	if u, _, ok := f.sets[0].Owner(key); !ok || u != f.urls[1] {
		t.Fatalf("owner %q (%v), want instance 1 still live", u, ok)
	}
}

// An owner that stops answering pings while it is asked (overloaded,
// paused) is still waited for: it completes the refresh it was asked for,
// and a refresh by the asking instance meanwhile would be a reuse. New
// relays go elsewhere once it is no longer live.
func TestRelayWaitsForAnOwnerThatStopsAnsweringPings(t *testing.T) {
	c := newClock()
	var slow atomic.Bool
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	var owner *Set
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PingPath && slow.Load() {
			w.WriteHeader(http.StatusServiceUnavailable) // its pings fail from now on
			return
		}
		if r.URL.Path == RefreshPath {
			entered <- struct{}{}
			<-release // the refresh takes its time
		}
		owner.Handler(&refresher{a: Answer{Sealed: []byte("sealed")}}).ServeHTTP(w, r)
	}))
	ownerURL := "http://" + srv.Listener.Addr().String()
	var err error
	if owner, err = newSet(Options{Peers: []string{ownerURL}, Secret: []byte(testSecret), Now: c.Now}); err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	srv.Start()
	defer srv.Close()
	asker, err := newSet(Options{Peers: []string{ownerURL}, Secret: []byte(testSecret), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer asker.Close()
	asker.round(context.Background())
	key := strings.Repeat("a", 64)
	type result struct {
		a   Answer
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, _, err := asker.Refresh(context.Background(), key, "TOKEN", "ua|ip")
		done <- result{a, err}
	}()
	<-entered // the owner has the request
	slow.Store(true)
	c.Advance(LiveFor + time.Second)
	asker.round(context.Background()) // the owner is no longer live
	if _, _, ok := asker.Owner(key); ok {
		t.Fatal("the owner is still live")
	}
	close(release)
	if r := <-done; r.err != nil || string(r.a.Sealed) != "sealed" {
		t.Fatalf("relay: %+v, %v; want the owner's answer", r.a, r.err)
	}
}
