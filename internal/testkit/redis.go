package testkit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// redisNotFound is the message of StartRedis when redis-server is missing.
const redisNotFound = "redis-server not found: install it with `apt-get install redis-server` (make test does this when run as root)"

// sentinelNotFound is the message of StartSentinel when redis-sentinel is
// missing.
const sentinelNotFound = "redis-sentinel not found: install it with `apt-get install redis-sentinel` (make test does this when run as root)"

// redisStartTimeout bounds the wait for a redis-server to accept
// connections.
const redisStartTimeout = 10 * time.Second

// Redis is a real redis-server on a loopback port, without persistence,
// owned by one test. It is stopped at the test's cleanup. Its methods are
// safe for concurrent use.
type Redis struct {
	t     testing.TB
	bin   string
	dir   string
	port  int
	conf  string   // a config file, given first ("" = none); a sentinel needs one
	extra []string // more options, given last
	ready string   // the line of the server's log that says it is up

	mu     sync.Mutex
	cmd    *exec.Cmd     // the running server; nil when stopped; guarded by mu
	exited chan struct{} // closed when cmd has been waited for; guarded by mu
	paused bool          // guarded by mu
}

// StartRedis starts a redis-server on a free port of 127.0.0.1 with
// `--save "" --appendonly no`, waits until it answers PING and registers
// its Stop with t.Cleanup. When redis-server is not installed the test
// fails with a message saying how to install it.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(redisNotFound)
	}
	r := &Redis{t: t, bin: bin, dir: t.TempDir(), ready: "Ready to accept connections"}
	r.launch()
	return r
}

// StartRedisReplica starts a redis-server as StartRedis does, as a replica
// of primary (--replicaof). It returns once the replica answers PING, which
// may be before its first synchronisation has finished.
func StartRedisReplica(t testing.TB, primary *Redis) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(redisNotFound)
	}
	r := &Redis{t: t, bin: bin, dir: t.TempDir(), ready: "Ready to accept connections",
		extra: []string{"--replicaof", "127.0.0.1", strconv.Itoa(primary.port)}}
	r.launch()
	return r
}

// StartSentinel starts a redis-sentinel on a free port of 127.0.0.1 that
// monitors primary under the name master with the given quorum. It takes a
// primary for down after 1s without an answer and allows a failover 3s, so
// a test sees a failover within seconds. Its Addr is the sentinel's
// address; Stop and Kill stop it. When redis-sentinel is not installed the
// test fails with a message saying how to install it.
func StartSentinel(t testing.TB, master string, primary *Redis, quorum int) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-sentinel")
	if err != nil {
		t.Fatal(sentinelNotFound)
	}
	r := &Redis{t: t, bin: bin, dir: t.TempDir(), ready: "+monitor master"}
	// The sentinel rewrites its config file: it must be its own, writable.
	r.conf = r.dir + "/sentinel.conf"
	conf := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d %[3]d\n"+
		"sentinel down-after-milliseconds %[1]s 1000\n"+
		"sentinel failover-timeout %[1]s 3000\n"+
		"sentinel parallel-syncs %[1]s 1\n", master, primary.port, quorum)
	if err := os.WriteFile(r.conf, []byte(conf), 0o600); err != nil {
		t.Fatalf("testkit: sentinel: %v", err)
	}
	r.launch()
	return r
}

// launch starts r on a free port and registers its Stop with t.Cleanup.
func (r *Redis) launch() {
	r.t.Helper()
	r.t.Cleanup(r.Stop)
	// A free port may be taken between its discovery and the server's
	// bind: try a few.
	var errs []error
	for range 5 {
		port, err := freePort()
		if err != nil {
			r.t.Fatalf("testkit: redis: %v", err)
		}
		r.port = port
		if err := r.start(); err != nil {
			errs = append(errs, err)
			continue
		}
		return
	}
	r.t.Fatalf("testkit: redis: %v", errors.Join(errs...))
}

// URL returns the server's URL, redis://127.0.0.1:PORT/0.
func (r *Redis) URL() string { return "redis://" + r.Addr() + "/0" }

// Addr returns the server's host:port.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// Stop terminates the server (SIGTERM) and waits for it. Its data is lost.
// Stopping a stopped server does nothing.
func (r *Redis) Stop() { r.halt(sigTerm) }

// Kill kills the server (SIGKILL), as a crash would, and waits for it.
func (r *Redis) Kill() { r.halt(os.Kill) }

// Restart starts the server again on the same port, empty, after stopping
// it if it runs. It returns once the server answers PING.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Stop()
	if err := r.start(); err != nil {
		r.t.Fatalf("testkit: redis restart: %v", err)
	}
}

// Pause freezes the server (SIGSTOP): connections are accepted by the
// kernel but nothing is answered, as with a Redis that hangs. Resume (or
// the test's cleanup) thaws it.
func (r *Redis) Pause() { r.signalPaused(sigStop, true) }

// Resume thaws a paused server (SIGCONT).
func (r *Redis) Resume() { r.signalPaused(sigCont, false) }

func (r *Redis) signalPaused(sig os.Signal, paused bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || r.paused == paused {
		return
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Errorf("testkit: redis %v: %v", sig, err)
		return
	}
	r.paused = paused
}

func (r *Redis) halt(sig os.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	if r.paused {
		_ = r.cmd.Process.Signal(sigCont)
		r.paused = false
	}
	_ = r.cmd.Process.Signal(sig)
	select {
	case <-r.exited:
	case <-time.After(redisStartTimeout):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
	r.cmd = nil
}

// start launches the server on r.port and waits until it is ready.
func (r *Redis) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var args []string
	if r.conf != "" {
		args = append(args, r.conf)
	}
	args = append(args,
		"--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", r.dir,
		"--logfile", "",
		"--daemonize", "no",
	)
	if r.conf == "" {
		// A replica synchronises at once, not after the default 5s.
		args = append(args, "--repl-diskless-sync-delay", "0")
	}
	cmd := exec.Command(r.bin, append(args, r.extra...)...)
	cmd.SysProcAttr = redisSysProcAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", r.bin, err)
	}
	exited := make(chan struct{})
	ready := make(chan struct{})
	var (
		logMu sync.Mutex
		log   strings.Builder // the server's output, for the error message
	)
	go func() { // owned by start/halt: ends when the process's output closes
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			if log.Len() < 8<<10 {
				log.WriteString(line + "\n")
			}
			logMu.Unlock()
			if !signalled && strings.Contains(line, r.ready) {
				close(ready)
				signalled = true
			}
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(exited)
	}()
	fail := func(err error) error {
		_ = cmd.Process.Kill()
		<-exited
		logMu.Lock()
		defer logMu.Unlock()
		return fmt.Errorf("%w; output:\n%s", err, log.String())
	}
	select {
	case <-ready:
	case <-exited:
		return fail(fmt.Errorf("%s exited at start", r.bin))
	case <-time.After(redisStartTimeout):
		return fail(fmt.Errorf("%s not ready after %v", r.bin, redisStartTimeout))
	}
	if err := ping(net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port))); err != nil {
		return fail(err)
	}
	r.cmd, r.exited, r.paused = cmd, exited, false
	return nil
}

// ping sends PING in the inline protocol and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, redisStartTimeout)
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(redisStartTimeout))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("ping: answered %q", line)
	}
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// redisSysProcAttr makes the kernel kill the server if the test binary
// dies without its cleanups (a -timeout panic), on systems that can.
func redisSysProcAttr() *syscall.SysProcAttr { return sysProcAttrDeathSignal() }
