package appservers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The bounds of a real process's life in these tests.
const (
	// readyTimeout bounds the wait for an app server to answer its first
	// request.
	readyTimeout = 20 * time.Second
	// readyPoll is the pause between two readiness probes.
	readyPoll = 50 * time.Millisecond
	// stopTimeout bounds the wait for a killed app server to be reaped.
	stopTimeout = 10 * time.Second
)

// concurrency is how many requests the tests send one app server at
// once. More than a server's listen backlog would only wait for the kernel
// to retry dropped connections.
const concurrency = 4

// debianPython is the interpreter the Debian packages python3-django,
// gunicorn and python3-uvicorn install into. A python3 found first in PATH
// (pyenv, a virtualenv) would not see them.
const debianPython = "/usr/bin/python3"

// appServer is a real app server the tests start: its name in row names,
// the command that serves a testdata app on a port, and how to install it.
type appServer struct {
	name string
	// dir is the app's folder under testdata.
	dir string
	// install is the command that installs what the server needs, for the
	// failure message when something is missing.
	install string
	// command returns the program and arguments that serve the app on
	// 127.0.0.1:port, or an error when a component is missing.
	command func(dir string, port int) (string, []string, error)
}

// servers are the app servers under test.
var servers = []appServer{
	{
		name:    "gunicorn",
		dir:     "django",
		install: "apt-get install -y python3-django gunicorn",
		command: func(_ string, port int) (string, []string, error) {
			if err := pythonHas("django", "gunicorn"); err != nil {
				return "", nil, err
			}
			return debianPython, []string{"-m", "gunicorn", "--bind", hostPort(port), "--workers", "2", "app:wsgi"}, nil
		},
	},
	{
		name:    "uvicorn",
		dir:     "django",
		install: "apt-get install -y python3-django python3-uvicorn",
		command: func(_ string, port int) (string, []string, error) {
			if err := pythonHas("django", "uvicorn"); err != nil {
				return "", nil, err
			}
			return debianPython, []string{"-m", "uvicorn", "--host", "127.0.0.1", "--port", strconv.Itoa(port),
				"--log-level", "warning", "--no-access-log", "app:asgi"}, nil
		},
	},
	{
		name:    "wsgiref",
		dir:     "django",
		install: "apt-get install -y python3-django",
		command: func(_ string, port int) (string, []string, error) {
			if err := pythonHas("django"); err != nil {
				return "", nil, err
			}
			return debianPython, []string{"wsgiref_server.py", strconv.Itoa(port)}, nil
		},
	},
	{
		name:    "express",
		dir:     "express",
		install: "apt-get install -y nodejs npm",
		command: func(dir string, port int) (string, []string, error) {
			node, err := exec.LookPath("node")
			if err != nil {
				return "", nil, fmt.Errorf("node not found: %w", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "node_modules", "express", "package.json")); err != nil {
				return "", nil, missing{err: fmt.Errorf("express is not installed in %s/node_modules: %w", dir, err),
					install: "cd internal/appservers/testdata/express && npm ci (make test does this)"}
			}
			return node, []string{"app.js", strconv.Itoa(port)}, nil
		},
	},
	{
		name:    "puma",
		dir:     "rack",
		install: "apt-get install -y puma ruby-rack",
		command: func(_ string, port int) (string, []string, error) {
			puma, err := exec.LookPath("puma")
			if err != nil {
				return "", nil, fmt.Errorf("puma not found: %w", err)
			}
			return puma, []string{"--bind", "tcp://" + hostPort(port), "--environment", "production",
				"--threads", "2:8", "--quiet", "config.ru"}, nil
		},
	},
}

// missing is a missing component that another command than the server's
// install brings.
type missing struct {
	err     error
	install string
}

func (m missing) Error() string { return m.err.Error() }
func (m missing) Unwrap() error { return m.err }

// pythonHas reports an error when Debian's python3 cannot import one of
// modules.
func pythonHas(modules ...string) error {
	if _, err := os.Stat(debianPython); err != nil {
		return fmt.Errorf("%s not found: %w", debianPython, err)
	}
	out, err := exec.Command(debianPython, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s cannot import %s: %w: %s", debianPython, strings.Join(modules, ", "), err, bytes.TrimSpace(out))
	}
	return nil
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// running is an app server process started by start.
type running struct {
	url string
	// software names the server, the framework and the runtime with their
	// versions, as the app reported them.
	software string
}

// start runs s on a free loopback port, waits (at most readyTimeout) until
// it answers, and kills it (its whole process group) at t.Cleanup, waiting
// for it to be reaped. A missing component fails the test with the command
// that installs it.
func start(t *testing.T, s appServer) running {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", s.dir))
	if err != nil {
		t.Fatal(err)
	}
	// A free port may be taken between its discovery and the server's
	// bind: try a few.
	var errs []error
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		bin, args, err := s.command(dir, port)
		if err != nil {
			install := s.install + " (make deps does this when run as root)"
			var m missing
			if errors.As(err, &m) {
				install = m.install
			}
			t.Fatalf("%s: %v\ninstall it with: %s", s.name, err, install)
		}
		p, err := launch(t, dir, bin, args)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		url := "http://" + hostPort(port)
		software, err := p.ready(url)
		if err == nil {
			return running{url: url, software: software}
		}
		p.stop(t)
		errs = append(errs, err)
		if !strings.Contains(p.output(), "in use") {
			break
		}
	}
	t.Fatalf("%s did not start: %v\nis it installed? %s", s.name, errors.Join(errs...), s.install)
	return running{}
}

// process is one started app server.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait returned
	out    *headBuffer
	once   sync.Once
}

// launch starts bin in dir, in a process group of its own, with its output
// kept for error messages; t.Cleanup kills and reaps it.
func launch(t *testing.T, dir, bin string, args []string) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "NODE_ENV=production", "RACK_ENV=production")
	out := &headBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	// Children that keep the output pipe open (gunicorn's workers) must
	// not hold Wait forever.
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{}), out: out}
	go func() { // owned by p: ends when the process has been reaped
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p, nil
}

// ready polls url until the app answers 200 with its report, and returns
// the software it names.
func (p *process) ready(url string) (string, error) {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return "", fmt.Errorf("exited at start (%v); output:\n%s", p.cmd.ProcessState, p.output())
		default:
		}
		report, err := getReport(context.Background(), client, url+"/_ready")
		if err == nil {
			return report.Software, nil
		}
		last = err
		time.Sleep(readyPoll)
	}
	return "", fmt.Errorf("not ready after %v: %v; output:\n%s", readyTimeout, last, p.output())
}

// stop kills the process group and waits for the process to be reaped.
func (p *process) stop(t *testing.T) {
	p.once.Do(func() {
		killGroup(p.cmd.Process)
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
			t.Errorf("%s: not reaped %v after being killed", p.cmd.Path, stopTimeout)
		}
	})
}

func (p *process) output() string { return p.out.String() }

// getReport GETs url from the app directly and decodes its report.
func getReport(ctx context.Context, client *http.Client, url string) (report, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return report{}, err
	}
	res, err := client.Do(req)
	if err != nil {
		return report{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return report{}, err
	}
	if res.StatusCode != http.StatusOK {
		return report{}, fmt.Errorf("status %d", res.StatusCode)
	}
	var rep report
	if err := json.Unmarshal(body, &rep); err != nil {
		return report{}, fmt.Errorf("not a report: %w", err)
	}
	return rep, nil
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

// headBuffer keeps the first max bytes written to it; safe for concurrent
// use (a process's stdout and stderr).
type headBuffer struct {
	max int
	mu  sync.Mutex
	buf bytes.Buffer // guarded by mu
}

func (b *headBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *headBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
