//go:build linux

package appservers

import (
	"os"
	"syscall"
)

// sysProcAttr puts an app server in a process group of its own (gunicorn
// forks workers) and has the kernel kill it if the test binary dies
// without its cleanups (a -timeout panic).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the process group that p leads: the server and any
// worker it forked.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}
