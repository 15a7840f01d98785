//go:build !unix

package testkit

import "os"

// Without Unix signals, Stop kills the server and Pause and Resume fail.
var (
	sigTerm = os.Kill
	sigStop = os.Signal(nil)
	sigCont = os.Signal(nil)
)
