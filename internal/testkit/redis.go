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

// redisStartTimeout bounds the wait for a redis-server to accept
// connections.
const redisStartTimeout = 10 * time.Second

// Redis is a real redis-server on a loopback port, without persistence,
// owned by one test. It is stopped at the test's cleanup. Its methods are
// safe for concurrent use.
type Redis struct {
	t    testing.TB
	bin  string
	dir  string
	port int

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
	r := &Redis{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(r.Stop)
	// A free port may be taken between its discovery and the server's
	// bind: try a few.
	var errs []error
	for range 5 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testkit: redis: %v", err)
		}
		r.port = port
		if err := r.start(); err != nil {
			errs = append(errs, err)
			continue
		}
		return r
	}
	t.Fatalf("testkit: redis: %v", errors.Join(errs...))
	return nil
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
	cmd := exec.Command(r.bin,
		"--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", r.dir,
		"--logfile", "",
		"--daemonize", "no",
	)
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
			if !signalled && strings.Contains(line, "Ready to accept connections") {
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
		return fail(errors.New("redis-server exited at start"))
	case <-time.After(redisStartTimeout):
		return fail(fmt.Errorf("redis-server not ready after %v", redisStartTimeout))
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
