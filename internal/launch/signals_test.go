package launch

import (
	"context"
	"os"
	"syscall"
	"testing"
)

// TestDrainSecondSignal: the first signal cancels the context (the drain
// starts); the second one reports itself and exits with status 1.
func TestDrainSecondSignal(t *testing.T) {
	sigs := make(chan os.Signal)
	exited := make(chan int, 1)
	var seen []os.Signal
	ctx, stop := drain(context.Background(), sigs, func(s os.Signal) { seen = append(seen, s) },
		func(code int) { exited <- code })
	defer stop()
	if ctx.Err() != nil {
		t.Fatal("cancelled before any signal")
	}
	sigs <- syscall.SIGTERM
	<-ctx.Done()
	select {
	case code := <-exited:
		t.Fatalf("exit(%d) after the first signal", code)
	default:
	}
	sigs <- os.Interrupt
	if code := <-exited; code != 1 {
		t.Fatalf("exit(%d) after the second signal, want exit(1)", code)
	}
	if len(seen) != 1 || seen[0] != os.Interrupt {
		t.Fatalf("forced saw %v, want the second signal only", seen)
	}
}

// TestDrainStop: stop ends the watch; no signal, no exit.
func TestDrainStop(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	ctx, stop := drain(context.Background(), sigs, nil, func(code int) { t.Errorf("exit(%d)", code) })
	stop()
	if ctx.Err() == nil {
		t.Fatal("stop left the context running")
	}
	sigs <- syscall.SIGTERM // nobody listens any more: nothing happens
}

// TestDrainAfterTheFirstSignalStop: a drain that completes (stop after the
// first signal) does not exit.
func TestDrainAfterTheFirstSignalStop(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, stop := drain(context.Background(), sigs, nil, func(code int) { t.Errorf("exit(%d)", code) })
	sigs <- syscall.SIGTERM
	<-ctx.Done()
	stop()
}

// onSignal calls its function once per signal, and its stop waits for the
// goroutine.
func TestOnSignal(t *testing.T) {
	sigs := make(chan os.Signal)
	calls := make(chan struct{}, 3)
	stop := onSignal(sigs, func() { calls <- struct{}{} })
	sigs <- syscall.SIGHUP
	sigs <- syscall.SIGHUP
	stop()
	if n := len(calls); n != 2 {
		t.Fatalf("%d calls for 2 signals", n)
	}
}
