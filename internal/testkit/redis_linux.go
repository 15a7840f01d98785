package testkit

import "syscall"

// sysProcAttrDeathSignal kills the child with the test binary.
func sysProcAttrDeathSignal() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
