package launch

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Drain returns a context cancelled by the first SIGINT or SIGTERM: the
// graceful drain of server.shutdownTimeout starts. A second SIGINT or
// SIGTERM while it runs calls forced with that signal (to say so in one
// line) and exits the process at once with status 1, as an operator who
// signals twice asks. stop releases the signals; after it, signals have
// their default effect again.
func Drain(parent context.Context, forced func(os.Signal)) (ctx context.Context, stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, release := drain(parent, sigs, forced, os.Exit)
	return ctx, func() {
		signal.Stop(sigs)
		release()
	}
}

// drain is Drain on the signals of sigs, ending the process with exit.
func drain(parent context.Context, sigs <-chan os.Signal, forced func(os.Signal), exit func(int)) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() { // owned by the returned stop, which waits for it
		defer close(finished)
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			if forced != nil {
				forced(sig)
			}
			exit(1)
		case <-done:
		}
	}()
	return ctx, func() {
		cancel()
		close(done)
		<-finished
	}
}
