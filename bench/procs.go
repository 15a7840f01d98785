package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a role process started by the harness, which owns it: stop ends
// it and waits for it.
type proc struct {
	name  string
	url   string // the role's base URL, from its READY line
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

// startRole re-executes this program as role and waits for its READY line
// (or, for a role that only computes, returns at once with out readable).
func startRole(ctx context.Context, name, role string, args ...string) (*proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{roleArg, role}, args...)...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = procAttr()
	cmd.WaitDelay = 10 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", name, err)
	}
	return &proc{name: name, cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}, nil
}

// startServer starts a server role and waits up to 30s for its URL.
func startServer(ctx context.Context, name, role string, args ...string) (*proc, error) {
	p, err := startRole(ctx, name, role, args...)
	if err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		if p.out.Scan() {
			line <- p.out.Text()
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		if u, found := strings.CutPrefix(l, "READY "); ok && found {
			p.url = u
			return p, nil
		}
		p.stop()
		return nil, fmt.Errorf("bench: %s did not start (got %q)", name, l)
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("bench: %s did not start within 30s", name)
	}
}

// peakRSS returns the process's peak resident set size in bytes (VmHWM).
func (p *proc) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("bench: %s: peak RSS: %w", p.name, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bench: %s: peak RSS: %w", p.name, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("bench: %s: no VmHWM in /proc/%d/status", p.name, p.cmd.Process.Pid)
}

// cpuTime returns the CPU time (user and system, all threads) the process
// used so far, from /proc/<pid>/stat, in clock ticks of 1/100 s (USER_HZ,
// 100 on every Linux architecture Go supports).
func (p *proc) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("bench: %s: cpu time: %w", p.name, err)
	}
	return parseCPUTime(string(b))
}

// parseCPUTime reads utime and stime (fields 14 and 15) of a
// /proc/<pid>/stat line. The command name (field 2) is in parentheses and
// may hold spaces: the fields are counted from the last ')'.
func parseCPUTime(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: malformed /proc stat %q", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: short /proc stat %q", stat)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: /proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// stop closes the role's stdin (its signal to shut down), or sends SIGTERM
// to an external server, and waits for it; past 10s it is killed.
func (p *proc) stop() error {
	if p.stdin != nil {
		p.stdin.Close()
	} else {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("bench: %s: %w", p.name, err)
		}
		return nil
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		return errors.Join(fmt.Errorf("bench: %s did not stop within 10s", p.name), <-done)
	}
}
