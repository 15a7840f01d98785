package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// serveProc is a real "apilayer serve" process, started by a test, whose
// JSON log is read line by line.
type serveProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []map[string]any // every line so far; guarded by mu
	more chan struct{}    // signalled on each new line
	eof  chan struct{}    // closed at the end of the log
}

// buildBinary builds cmd/apilayer into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "apilayer")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServe runs bin serve --config path until the test ends (then it is
// killed if still running).
func startServe(t *testing.T, bin, path string) *serveProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // kills a hung process
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", path)
	cmd.Env = append(os.Environ(), "APILAYER_CONFIG=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{t: t, cmd: cmd, more: make(chan struct{}, 1), eof: make(chan struct{})}
	go func() { // owned by the test: ends at the process's EOF
		defer close(p.eof)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"msg": sc.Text(), "notJSON": true}
			}
			p.mu.Lock()
			p.logs = append(p.logs, m)
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.eof
		cmd.Wait()
		cancel()
	})
	return p
}

// waitLog waits (at most 30 s: a real process) for the n-th line with
// message msg, and returns it.
func (p *serveProc) waitLog(msg string, n int) map[string]any {
	p.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		var found []map[string]any
		p.mu.Lock()
		for _, m := range p.logs {
			if m["msg"] == msg {
				found = append(found, m)
			}
		}
		p.mu.Unlock()
		if len(found) >= n {
			return found[n-1]
		}
		select {
		case <-p.more:
		case <-p.eof:
			p.t.Fatalf("the process ended its log without %d× %q:\n%s", n, msg, p.dump())
		case <-deadline:
			p.t.Fatalf("no %d× %q in 30s:\n%s", n, msg, p.dump())
		}
	}
}

// count returns the number of lines with message msg.
func (p *serveProc) count(msg string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.logs {
		if m["msg"] == msg {
			n++
		}
	}
	return n
}

func (p *serveProc) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, m := range p.logs {
		fmt.Fprintln(&b, m)
	}
	return b.String()
}

// load sends requests from workers goroutines until stop, and counts them
// and the failures: a transport error or a status other than want's.
type load struct {
	total, failed atomic.Int64
	mu            sync.Mutex
	failures      []string // the first few; guarded by mu
	slowest       atomic.Int64
	stop          chan struct{}
	wg            sync.WaitGroup
}

type loadRequest struct {
	path, cookie string
	want         int
}

func startLoad(client *http.Client, base string, workers int, reqs []loadRequest) *load {
	l := &load{stop: make(chan struct{})}
	for w := range workers {
		l.wg.Go(func() {
			for i := w; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				r := reqs[i%len(reqs)]
				req, _ := http.NewRequest(http.MethodGet, base+r.path, nil)
				if r.cookie != "" {
					req.Header.Set("Cookie", r.cookie)
				}
				start := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if err == nil && res.StatusCode != r.want {
						err = fmt.Errorf("status %d, want %d", res.StatusCode, r.want)
					}
				}
				if d := int64(time.Since(start)); d > l.slowest.Load() {
					l.slowest.Store(d) // racy max: a figure for the log
				}
				l.total.Add(1)
				if err != nil {
					l.failed.Add(1)
					l.mu.Lock()
					if len(l.failures) < 5 {
						l.failures = append(l.failures, r.path+": "+err.Error())
					}
					l.mu.Unlock()
				}
			}
		})
	}
	return l
}

func (l *load) end() {
	close(l.stop)
	l.wg.Wait()
}

// TestServeReloadUnderLoad runs the real binary under a steady load of
// concurrent requests and sends it SIGHUP: with a valid new file (a
// protected route added, then another change, several times), no request
// fails and the new config is in force; with an invalid file, the running
// config stays, one log line lists every problem, and /readyz and the
// metric say so.
func TestServeReloadUnderLoad(t *testing.T) {
	bin := buildBinary(t)
	backend := testkit.NewBackend(t, demo.BackendOptions{})
	upstream := testkit.NewUpstream(t)
	adminAddr := freeLoopback(t)
	path := filepath.Join(t.TempDir(), "apilayer.yaml")
	write := func(protected, public string) {
		t.Helper()
		cfg := fmt.Sprintf("listen: 127.0.0.1:0\nadmin:\n  listen: %s\nmetrics:\n  enabled: true\n"+
			"backend:\n  url: %s\nupstream:\n  url: %s\n"+
			"access:\n  protectedRoutes: [%s]\n  publicRoutes: [%s]\n  authRoutes: [/login]\nlog:\n  format: json\n",
			adminAddr, backend.URL(), upstream.URL(), protected, public)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("/dashboard", "/about")
	p := startServe(t, bin, path)
	addr, _ := p.waitLog("apilayer listening", 1)["addr"].(string)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatalf("no address in the listening line: %q", addr)
	}
	base, admin := "http://"+addr, "http://"+adminAddr
	p.waitLog("apilayer admin listening", 1)

	alice, err := backend.Demo().Issue("alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	defer client.CloseIdleConnections()
	statusOf := func(path string) int {
		t.Helper()
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if got := statusOf("/admin"); got != http.StatusOK {
		t.Fatalf("GET /admin before any reload = %d, want 200", got)
	}

	cookie := "userAuthToken=" + alice
	l := startLoad(client, base, 16, []loadRequest{
		{"/dashboard", cookie, http.StatusOK},
		{"/", "", http.StatusOK},
		{"/api/posts", cookie, http.StatusOK},
		{"/about", "", http.StatusOK},
	})
	loadEnded := false
	defer func() {
		if !loadEnded {
			l.end()
		}
	}()
	started := time.Now()
	time.Sleep(300 * time.Millisecond) // load before the first reload
	const reloads = 6
	for i := 1; i <= reloads; i++ {
		protected := "/dashboard, /admin"
		if i%2 == 0 {
			protected = "/dashboard, /admin, /settings"
		}
		write(protected, "/about")
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		p.waitLog("apilayer: config reloaded", i)
		time.Sleep(100 * time.Millisecond) // load between reloads
	}
	if got := statusOf("/admin"); got != http.StatusTemporaryRedirect {
		t.Errorf("GET /admin after the reloads = %d, want 307: the added protected route", got)
	}
	if got := statusOf("/settings"); got != http.StatusTemporaryRedirect {
		t.Errorf("GET /settings after the last reload = %d, want 307", got)
	}

	// An invalid file: two problems, the running config stays.
	if err := os.WriteFile(path, []byte("backend:\n  url: ftp://nowhere\n  timeout: 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	failed := p.waitLog("apilayer: reload failed, the running config stays", 1)
	time.Sleep(200 * time.Millisecond) // load after the failed reload
	l.end()
	loadEnded = true
	elapsed := time.Since(started)

	if errs, _ := failed["errors"].([]any); len(errs) != 2 || failed["level"] != "ERROR" {
		t.Errorf("the failed reload's line = %v, want one ERROR line with both problems", failed)
	}
	if got := statusOf("/admin"); got != http.StatusTemporaryRedirect {
		t.Errorf("GET /admin after the invalid file = %d, want 307: the running config", got)
	}
	t.Logf("%d requests from 16 workers in %v across %d reloads and 1 failed one: %d failed, slowest %v",
		l.total.Load(), elapsed.Round(time.Millisecond), reloads, l.failed.Load(), time.Duration(l.slowest.Load()).Round(time.Millisecond))
	if n := l.failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed during the reloads, want 0: %v", n, l.total.Load(), l.failures)
	}
	if l.total.Load() < 100 {
		t.Errorf("only %d requests were sent: no load", l.total.Load())
	}

	res, err := client.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		fmt.Sprintf(`apilayer_config_reloads_total{result="ok"} %d`, reloads),
		`apilayer_config_reloads_total{result="error"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("admin /metrics lacks %s", want)
		}
	}
	res, err = client.Get(admin + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready struct {
		Status string
		Reload struct{ Result string }
	}
	json.NewDecoder(res.Body).Decode(&ready)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || ready.Status != "ready" || ready.Reload.Result != "error" {
		t.Errorf("/readyz = %d %+v, want 200 ready with the last reload's result error", res.StatusCode, ready)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.eof
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	if n := p.count("panic serving request"); n != 0 {
		t.Errorf("%d panics logged", n)
	}
}

// freeLoopback returns a loopback address no one listens on.
func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
