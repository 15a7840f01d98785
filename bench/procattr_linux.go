package main

import "syscall"

// procAttr makes the kernel kill a role process when the harness dies, so
// that no server outlives it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
