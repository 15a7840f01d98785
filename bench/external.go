package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/apilayer/apilayer/internal/forwardauth"
)

// External servers the harness starts besides its own roles: a
// redis-server for the distributed setups and Caddy for forward_auth.
// Each is a proc without stdin: stop sends SIGTERM.

// startExternal starts bin with args, its output kept in the tail of a
// buffer for the error message, and waits up to 30s until ready succeeds.
func startExternal(ctx context.Context, name, bin string, args []string, env []string, ready func() error) (*proc, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = procAttr()
	cmd.WaitDelay = 10 * time.Second
	out := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ready()
		if err == nil {
			return p, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, fmt.Errorf("bench: %s did not start: %w; output:\n%s", name, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startRedis starts a redis-server without persistence on a free loopback
// port; its url is redis://host:port. A missing redis-server is
// errNotInstalled.
func startRedis(ctx context.Context, dir string) (*proc, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("%w: redis-server (apt-get install redis-server)", errNotInstalled)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, fmt.Errorf("bench: redis: %w", err)
	}
	return startRedisAt(ctx, dir, addr)
}

// redisPing sends PING in the inline protocol and expects +PONG.
func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// errNotInstalled is the error of a setup whose program is missing.
var errNotInstalled = errors.New("not installed")

// caddyValidate is the site of the caddy setup: every request is first
// sent to the backend's validate endpoint, with the user cookie as a
// bearer token (as the gateway sends it); a 2xx answer lets the request
// through to the upstream, any other answer is returned to the client.
// No cache: one validation per request, as Caddy does.
const caddyValidate = `http://%[1]s {
	forward_auth %[2]s {
		uri /api/auth/me
		header_up Authorization "Bearer {http.request.cookie.userAuthToken}"
	}
	reverse_proxy %[3]s
}
`

// caddyProxy is the site of the caddy-proxy setup: Caddy's reverse_proxy
// alone, the reference of the forward-auth setups.
const caddyProxy = `http://%[1]s {
	reverse_proxy %[2]s
}
`

// startCaddy starts Caddy in front of upstream with forward_auth to
// backend's validate endpoint (base URLs).
func startCaddy(ctx context.Context, dir, backend, upstream string) (*proc, error) {
	return startCaddyWith(ctx, dir, "caddy", func(addr string) (string, error) {
		return fmt.Sprintf(caddyValidate, addr, hostOf(backend), hostOf(upstream)), nil
	})
}

// startCaddyProxy starts Caddy's reverse_proxy alone in front of upstream.
func startCaddyProxy(ctx context.Context, dir, upstream string) (*proc, error) {
	return startCaddyWith(ctx, dir, "caddy-proxy", func(addr string) (string, error) {
		return fmt.Sprintf(caddyProxy, addr, hostOf(upstream)), nil
	})
}

// startCaddyAuthz starts Caddy in front of upstream with apilayer's
// forward-auth (gateway, in authz mode) as its authorizer, configured as
// docs/forward-auth.md shows (the configuration its tests run).
func startCaddyAuthz(ctx context.Context, dir, gateway, upstream string) (*proc, error) {
	return startCaddyWith(ctx, dir, "caddy-authz", func(addr string) (string, error) {
		return forwardauth.Caddyfile("http://"+addr, hostOf(gateway), hostOf(upstream))
	})
}

func hostOf(u string) string { return strings.TrimPrefix(u, "http://") }

// caddyGlobal are Caddy's global options in every setup.
const caddyGlobal = `{
	admin off
	auto_https off
	log default {
		output discard
	}
}
`

// startCaddyWith starts Caddy with the site configuration site (a format
// taking the listen address as %[1]s), named name in logs. A missing caddy
// is errNotInstalled.
func startCaddyWith(ctx context.Context, dir, name string, site func(addr string) (string, error)) (*proc, error) {
	bin, err := exec.LookPath("caddy")
	if err != nil {
		return nil, fmt.Errorf("%w: caddy (apt-get install caddy)", errNotInstalled)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	conf, err := site(addr)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	sub := filepath.Join(dir, name)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	file := filepath.Join(sub, "Caddyfile")
	if err := os.WriteFile(file, []byte(caddyGlobal+conf), 0o644); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	env := []string{"HOME=" + sub, "XDG_DATA_HOME=" + sub, "XDG_CONFIG_HOME=" + sub}
	p, err := startExternal(ctx, name, bin, []string{"run", "--config", file, "--adapter", "caddyfile"}, env, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	p.url = "http://" + addr
	return p, nil
}

// caddyVersion is the version line of the caddy binary, for the report.
func caddyVersion() string {
	out, err := exec.Command("caddy", "version").Output()
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}

// redisVersion is the version of the redis-server binary, for the report.
func redisVersion() string {
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return "unknown"
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return "unknown"
}
