//go:build !linux

package testkit

import "syscall"

// sysProcAttrDeathSignal: no parent-death signal outside Linux.
func sysProcAttrDeathSignal() *syscall.SysProcAttr { return nil }
