package main

import (
	"bufio"
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
	"syscall"
	"time"
)

// The chaos suite runs the real binary, `apilayer serve --config FILE`, so
// that SIGTERM and SIGHUP meet the product's own signal handling.

// buildGateway builds cmd/apilayer of the module the harness runs in into
// dir and returns the binary's path.
func buildGateway(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("bench: chaos: go env GOMOD: %w (or give -apilayer)", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", errors.New("bench: chaos: not in the apilayer module (or give -apilayer)")
	}
	bin := filepath.Join(dir, "apilayer")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/apilayer")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: chaos: go build ./cmd/apilayer: %w\n%s", err, out)
	}
	return bin, nil
}

// gwConfig is what the YAML of one chaos gateway instance is made of.
type gwConfig struct {
	listen      string // host:port
	backend     string // the backend's base URL for this instance, ending in /api/
	upstream    string
	redis       string   // redis://host:port/0
	peers       []string // store.peers; nil without
	peerSecret  string
	maxRequests int  // rateLimit.maxRequests (a reload changes it)
	broken      bool // an invalid file (a reload must refuse it)
}

// The settings of the chaos gateways that the suite's checks depend on.
const (
	chaosBackendTimeout = 2 * time.Second // backend.timeout: how long a hung call waits
	chaosBreakerFails   = 5               // backend.breaker.failures
	chaosBreakerOpenFor = time.Second     // backend.breaker.openFor
	chaosBodyIdle       = time.Second     // server.bodyIdleTimeout
	chaosShutdown       = 10 * time.Second
)

// yaml is the configuration file of one instance. Timeouts are shorter
// than the defaults so that a run stays within minutes; everything else is
// the default, with guests, a protected page, the rate limiter (never
// reached), metrics and the load's proxy trusted for X-Forwarded-For.
func (c gwConfig) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, `listen: %s
server:
  shutdownTimeout: %s
  bodyIdleTimeout: %s
backend:
  url: %s
  timeout: %s
  breaker:
    failures: %d
    openFor: %s
upstream:
  url: %s
  timeout: 10s
api:
  timeout: 5s
guest:
  enabled: true
  credentials: {username: guest, password: guest}
access:
  protectedRoutes: [/account]
clientIP:
  trustedProxies: [127.0.0.1/32]
rateLimit:
  enabled: true
  maxRequests: %d
  window: 1m
metrics:
  enabled: true
log:
  level: info
  format: json
store:
  driver: redis
  redis:
    url: %s
`, c.listen, chaosShutdown, chaosBodyIdle, c.backend, chaosBackendTimeout, chaosBreakerFails, chaosBreakerOpenFor,
		c.upstream, c.maxRequests, c.redis)
	if len(c.peers) > 0 {
		fmt.Fprintf(&b, "  peers: [%s]\n  peerSecret: %s\n", strings.Join(c.peers, ", "), c.peerSecret)
	}
	if c.broken {
		b.WriteString("notAKey: true\n")
	}
	return b.String()
}

// gateway is one running `apilayer serve`.
type gateway struct {
	name string
	url  string
	cfg  gwConfig
	file string // its config file
	log  string // its log file
	cmd  *exec.Cmd
	exit chan error // receives the process's exit once
}

// startGateway writes cfg to dir/<name>.yaml and runs bin serve with it,
// its output in dir/<name>.log, and waits until it answers its health path.
func startGateway(ctx context.Context, bin, dir, name string, cfg gwConfig) (*gateway, error) {
	g := &gateway{name: name, url: "http://" + cfg.listen, cfg: cfg,
		file: filepath.Join(dir, name+".yaml"), log: filepath.Join(dir, name+".log"), exit: make(chan error, 1)}
	if err := os.WriteFile(g.file, []byte(cfg.yaml()), 0o600); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	out, err := os.Create(g.log)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	g.cmd = exec.Command(bin, "serve", "--config", g.file)
	g.cmd.Stdout, g.cmd.Stderr = out, out
	g.cmd.SysProcAttr = procAttr()
	if err := g.cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	go func() {
		g.exit <- g.cmd.Wait()
		out.Close()
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := g.health(ctx); err == nil {
			return g, nil
		}
		select {
		case err := <-g.exit:
			return nil, fmt.Errorf("bench: %s exited at start (%v): %s", name, err, tail(g.log, 2000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			g.kill()
			return nil, fmt.Errorf("bench: %s did not answer within 30s: %s", name, tail(g.log, 2000))
		}
	}
}

// pid is the gateway's process id.
func (g *gateway) pid() int { return g.cmd.Process.Pid }

// signal sends sig to the gateway.
func (g *gateway) signal(sig os.Signal) error { return g.cmd.Process.Signal(sig) }

// wait waits up to d for the gateway to exit and returns its exit error.
func (g *gateway) wait(d time.Duration) (exited bool, err error) {
	select {
	case err := <-g.exit:
		g.exit <- err // keep it for the next reader
		return true, err
	case <-time.After(d):
		return false, nil
	}
}

// stop ends the gateway with SIGTERM (SIGKILL after the drain's bound) and
// waits for it.
func (g *gateway) stop() error {
	if exited, _ := g.wait(0); exited {
		return nil
	}
	g.signal(syscall.SIGTERM)
	if exited, err := g.wait(chaosShutdown + 5*time.Second); exited {
		if err != nil {
			return fmt.Errorf("bench: %s: %w", g.name, err)
		}
		return nil
	}
	g.kill()
	return fmt.Errorf("bench: %s did not stop after SIGTERM", g.name)
}

func (g *gateway) kill() {
	g.cmd.Process.Kill()
	g.wait(5 * time.Second)
}

// health is the gateway's health answer.
type health struct {
	Status    string            `json:"status"`
	Backend   string            `json:"backend"`
	Store     string            `json:"store"`
	Endpoints map[string]string `json:"backendEndpoints"`
}

// probeClient makes the harness's own calls (health, metrics): no
// keep-alive, so that it holds no connection when resources are measured.
var probeClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}

func (g *gateway) health(ctx context.Context) (health, error) {
	var h health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url+"/_apilayer/health", nil)
	if err != nil {
		return h, err
	}
	res, err := probeClient.Do(req)
	if err != nil {
		return h, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return h, fmt.Errorf("health answered %d", res.StatusCode)
	}
	return h, json.NewDecoder(res.Body).Decode(&h)
}

// metrics returns the gateway's metrics whose line starts with one of
// prefixes, by the rest of the name and labels: "go_goroutines" → 12.
func (g *gateway) metrics(ctx context.Context, prefixes ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := probeClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: metrics: %w", g.name, err)
	}
	defer res.Body.Close()
	return parseMetrics(res.Body, prefixes...)
}

// parseMetrics reads the Prometheus text format: every sample whose name
// starts with one of prefixes.
func parseMetrics(r io.Reader, prefixes ...string) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, p := range prefixes {
			if !strings.HasPrefix(line, p) {
				continue
			}
			i := strings.LastIndexByte(line, ' ')
			if i < 0 {
				continue
			}
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err != nil {
				continue
			}
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// tail is the last n bytes of file, for error messages.
func tail(file string, n int) string {
	b, _ := os.ReadFile(file)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// startRedisAt starts a redis-server without persistence at addr.
func startRedisAt(ctx context.Context, dir, addr string) (*proc, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w: redis-server (apt-get install redis-server)", errNotInstalled)
	}
	_, port, _ := net.SplitHostPort(addr)
	p, err := startExternal(ctx, "redis-server", bin, []string{
		"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", "", "--daemonize", "no",
	}, nil, func() error { return redisPing(addr) })
	if err != nil {
		return nil, err
	}
	p.url = "redis://" + addr
	return p, nil
}
