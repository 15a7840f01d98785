//go:build unix

package testkit

import "syscall"

// The signals of Redis.Stop, Pause and Resume.
var (
	sigTerm = syscall.SIGTERM
	sigStop = syscall.SIGSTOP
	sigCont = syscall.SIGCONT
)
