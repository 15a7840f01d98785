//go:build !linux

package appservers

import (
	"os"
	"syscall"
)

// sysProcAttr keeps the defaults where process groups and death signals
// are not available the Linux way.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the server process itself.
func killGroup(p *os.Process) { _ = p.Kill() }
