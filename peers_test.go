package apilayer_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
	"github.com/apilayer/apilayer/redisstore"
)

// peerPaths are spellings of the peer endpoints (docs/distributed.md,
// "Peers") that a web app or backend could read as /_apilayer/peer/...
var peerPaths = []string{
	"/_apilayer/peer/ping",
	"/_apilayer/peer/refresh",
	"/_apilayer/peer",
	"/_apilayer/peer/",
	"/_apilayer/peer/other",
	"//_apilayer/peer/refresh",
	"/_apilayer//peer/refresh",
	"/_APILAYER/Peer/refresh",
	"/%5Fapilayer/peer/refresh",
	"/_apilayer%2Fpeer%2Frefresh",
	"/x/../_apilayer/peer/refresh",
	"/_apilayer/./peer/ping",
	"/_apilayer/peer;x=1/refresh",
	"/_apilayer%5Cpeer%5Crefresh",
	"/_apilayer/%70eer/ping",
}

// The peer endpoints are answered by the gateway before its pipeline:
// without a valid signature, in any spelling, with or without peers, with
// or without a session, they get 403 and reach neither the web app nor
// the backend (nor, as Middleware, the next handler).
func TestPeerPathsNeverForwarded(t *testing.T) {
	redisstore.SetDriverLogger(nil)
	rs := testkit.StartRedis(t)
	tests := []struct {
		name  string
		edit  func(*config.Config)
		mware bool
	}{
		{"no peers", nil, false},
		{"peers", func(c *config.Config) {
			c.Store = config.Store{Driver: "redis", Redis: config.Redis{URL: rs.URL(), Timeout: 2 * time.Second},
				Peers: []string{"http://127.0.0.1:1"}, PeerSecret: peerSecret}
		}, false},
		{"peers, as middleware", func(c *config.Config) {
			c.Store = config.Store{Driver: "redis", Redis: config.Redis{URL: rs.URL(), Timeout: 2 * time.Second},
				Peers: []string{"http://127.0.0.1:1"}, PeerSecret: peerSecret}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := testkit.NewBackend(t, demo.BackendOptions{})
			up := testkit.NewUpstream(t)
			cfg := config.Config{
				Backend:  config.Backend{URL: be.URL()},
				Upstream: config.Upstream{URL: up.URL()},
				Guest:    config.Guest{Enabled: true, Credentials: demo.GuestCredentials()},
				// Everything public: the pipeline would forward these paths.
				Access: config.Access{ProtectedRoutes: []string{"/dashboard"}},
			}
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			gw, err := apilayer.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer gw.Close()
			h := gw.Handler()
			var nextCalls atomic.Int64
			if tt.mware {
				h = gw.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nextCalls.Add(1) }))
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			tok, err := be.Demo().Issue("alice", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			// The gateway forwards an ordinary page: the setup would show
			// a forwarded peer path.
			if res, err := srv.Client().Get(srv.URL + "/about"); err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("/about: %v %v", res, err)
			}
			pages, calls, nexts := len(up.Requests()), len(be.Requests()), nextCalls.Load()
			for _, p := range peerPaths {
				for _, method := range []string{http.MethodGet, http.MethodPost} {
					for _, cookie := range []bool{false, true} {
						r, err := http.NewRequest(method, srv.URL+p, strings.NewReader(`{"credential":"x"}`))
						if err != nil {
							t.Fatal(err)
						}
						if cookie {
							r.AddCookie(&http.Cookie{Name: "userAuthToken", Value: tok})
						}
						res, err := srv.Client().Do(r)
						if err != nil {
							t.Fatal(err)
						}
						body, _ := io.ReadAll(res.Body)
						res.Body.Close()
						if res.StatusCode != http.StatusForbidden || len(res.Cookies()) != 0 {
							t.Errorf("%s %s (cookie %v): %d %s, %d cookies set; want 403 and none", method, p, cookie, res.StatusCode, body, len(res.Cookies()))
						}
					}
				}
			}
			if got := len(up.Requests()) - pages + int(nextCalls.Load()-nexts); got != 0 {
				t.Errorf("the web app (or next) received %d peer requests, want none", got)
			}
			if got := len(be.Requests()) - calls; got != 0 {
				t.Errorf("the backend received %d calls, want none", got)
			}
		})
	}
}

// An instance that lists itself among its peers answers its own signed
// ping through the gateway's handler and recognises itself.
func TestPeerRecognisesItself(t *testing.T) {
	redisstore.SetDriverLogger(nil)
	rs := testkit.StartRedis(t)
	be := testkit.NewBackend(t, demo.BackendOptions{})
	srv := httptest.NewUnstartedServer(nil)
	self := "http://" + srv.Listener.Addr().String()
	logs := &syncBuffer{}
	gw, err := apilayer.New(config.Config{
		Backend: config.Backend{URL: be.URL()},
		Store: config.Store{Driver: "redis", Redis: config.Redis{URL: rs.URL(), Timeout: 2 * time.Second},
			Peers: []string{self}, PeerSecret: peerSecret},
	}, apilayer.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	srv.Config.Handler = gw.Handler()
	srv.Start()
	defer srv.Close()
	if !waitFor(10*time.Second, func() bool {
		return strings.Contains(logs.String(), `msg="peer: answering" component=peer peer=`+self+" self=true")
	}) {
		t.Fatalf("the instance did not recognise itself at %s:\n%s", self, logs.String())
	}
}

// Gateway.Close stops the peers' pings: no goroutine is left.
func TestGatewayWithPeersCloseLeavesNoGoroutine(t *testing.T) {
	redisstore.SetDriverLogger(nil)
	rs := testkit.StartRedis(t)
	be := testkit.NewBackend(t, demo.BackendOptions{})
	peerSrv := httptest.NewUnstartedServer(nil)
	before := goleak.IgnoreCurrent()
	gw, err := apilayer.New(config.Config{
		Backend: config.Backend{URL: be.URL()},
		Store: config.Store{Driver: "redis", Redis: config.Redis{URL: rs.URL(), Timeout: 2 * time.Second},
			Peers: []string{"http://" + peerSrv.Listener.Addr().String()}, PeerSecret: peerSecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	pinged := make(chan struct{}, 1)
	h := gw.Handler()
	peerSrv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case pinged <- struct{}{}:
		default:
		}
		h.ServeHTTP(w, r)
	})
	peerSrv.Start()
	<-pinged // the pings run
	peerSrv.Close()
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, before)
}
