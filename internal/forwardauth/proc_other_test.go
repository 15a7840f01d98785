//go:build !linux

package forwardauth

import (
	"os"
	"syscall"
)

// sigTerm asks a proxy to stop; where signals other than Kill are not
// available, it kills it.
var sigTerm = os.Kill

// sysProcAttr keeps the defaults where process groups and death signals
// are not available the Linux way.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the proxy process itself.
func killGroup(p *os.Process) { _ = p.Kill() }
