package forwardauth

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The bounds of a real proxy's life in these tests.
const (
	readyTimeout = 15 * time.Second       // until the proxy accepts connections
	readyPoll    = 20 * time.Millisecond  // between two connection attempts
	stopTimeout  = 10 * time.Second       // for a stopped proxy to exit
	dialTimeout  = 200 * time.Millisecond // one connection attempt
)

// binary finds a proxy's program: in PATH, else where its Debian package
// puts it (/usr/sbin is not in every PATH). A missing one fails the test
// with the command that installs it.
func binary(t testing.TB, name, debianPath string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat(debianPath); err == nil {
		return debianPath
	}
	t.Fatalf("%s not found: install it with `apt-get install -y %s` (make deps and make test do this when run as root)", name, name)
	return ""
}

// version runs bin with args and returns its first line of output (nginx
// writes its version to stderr).
func version(t testing.TB, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", bin, strings.Join(args, " "), err, out)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// process is a proxy started by a test; it is stopped (and waited for) at
// the test's cleanup.
type process struct {
	name   string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error // set before exited is closed
}

// launch starts bin, waits until it accepts connections on addr (at most
// readyTimeout), and registers its stop with t.Cleanup. logFile, when
// set, is a file the program writes its errors to, shown on failure.
func launch(t testing.TB, name, dir, addr, logFile string, env []string, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, out: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	if err := p.ready(addr); err != nil {
		log := ""
		if logFile != "" {
			b, _ := os.ReadFile(logFile)
			log = string(b)
		}
		t.Fatalf("%s did not start: %v\noutput:\n%s%s", name, err, p.out.String(), log)
	}
	return p
}

// ready waits until the process accepts connections on addr.
func (p *process) ready(addr string) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("exited: %v", p.err)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, dialTimeout)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s: %w", addr, readyTimeout, err)
		}
		time.Sleep(readyPoll)
	}
}

// stop ends the process (SIGTERM, then SIGKILL for its whole group) and
// waits for it.
func (p *process) stop(t testing.TB) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sigTerm)
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		killGroup(p.cmd.Process)
		<-p.exited
		t.Errorf("%s did not stop on SIGTERM within %s: killed", p.name, stopTimeout)
	}
}

// startNginx runs nginx (testdata/nginx.conf, inside the harness of
// testdata/nginx-main.conf, changed by edit) in front of f, and returns
// its base URL.
func startNginx(t *testing.T, f *fixture, edit func(string) string) string {
	t.Helper()
	bin := binary(t, "nginx", "/usr/sbin/nginx")
	dir := t.TempDir()
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	listen := freeAddr(t)
	write(t, filepath.Join(dir, "site.conf"), edit(render(t, "nginx.conf", newAddrs(f, listen))))
	write(t, filepath.Join(dir, "nginx.conf"), render(t, "nginx-main.conf", struct{ Dir string }{dir}))
	errorLog := filepath.Join(dir, "error.log")
	// -e: the error log before the configuration is read (not /var/log).
	launch(t, "nginx", dir, listen, errorLog, nil, bin, "-p", dir, "-e", errorLog, "-c", filepath.Join(dir, "nginx.conf"))
	return "http://" + listen
}

// caddyGlobal are the test's global options: no admin endpoint, no
// automatic HTTPS, storage in the test's folder.
const caddyGlobal = "{\n\tadmin off\n\tauto_https off\n\tstorage file_system {\n\t\troot %s\n\t}\n}\n\n"

// startCaddy runs caddy (testdata/Caddyfile, changed by edit) in front of
// f, and returns its base URL.
func startCaddy(t *testing.T, f *fixture, edit func(string) string) string {
	t.Helper()
	bin := binary(t, "caddy", "/usr/bin/caddy")
	dir := t.TempDir()
	listen := freeAddr(t)
	conf := filepath.Join(dir, "Caddyfile")
	write(t, conf, fmt.Sprintf(caddyGlobal, filepath.Join(dir, "data"))+edit(render(t, "Caddyfile", newAddrs(f, listen))))
	env := []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "XDG_DATA_HOME=" + filepath.Join(dir, "data")}
	launch(t, "caddy", dir, listen, "", env, bin, "run", "--config", conf, "--adapter", "caddyfile")
	return "http://" + listen
}

func write(t testing.TB, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
