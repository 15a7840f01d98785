package testkit

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// WaitParked waits until at least n goroutines are blocked (in a select or
// a channel operation) with every one of frames in their stack, polling
// every millisecond for at most 10 s. It is for the one state no channel
// reports: requests parked inside the gateway on a single-flight call or a
// lock they joined. The error says how many were found.
func WaitParked(n int, frames ...string) error {
	buf := make([]byte, 8<<20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := countParked(string(buf[:runtime.Stack(buf, true)]), frames)
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testkit: %d goroutines parked in %v, want %d", got, frames, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func countParked(stacks string, frames []string) int {
	got := 0
next:
	for g := range strings.SplitSeq(stacks, "\n\n") {
		head, _, _ := strings.Cut(g, "\n")
		if !strings.Contains(head, "[select") && !strings.Contains(head, "[chan ") {
			continue
		}
		for _, f := range frames {
			if !strings.Contains(g, f) {
				continue next
			}
		}
		got++
	}
	return got
}
