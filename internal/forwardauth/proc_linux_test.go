//go:build linux

package forwardauth

import (
	"os"
	"syscall"
)

// sigTerm asks a proxy to stop.
var sigTerm os.Signal = syscall.SIGTERM

// sysProcAttr puts a proxy in a process group of its own and has the
// kernel kill it if the test binary dies without its cleanups (a -timeout
// panic).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the process group that p leads.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}
