//go:build !linux

package main

import "syscall"

// procAttr: role processes end when their stdin closes, which happens when
// the harness exits.
func procAttr() *syscall.SysProcAttr { return nil }
