package launch

import (
	"os"
	"os/signal"
	"syscall"
)

// OnHangup calls reload for each SIGHUP (what "systemctl reload" and
// "kill -HUP" send) until stop is called: "apilayer serve" reads its
// config file again. SIGHUPs that arrive while reload runs make one more
// call. stop releases the signal and waits for a reload in progress;
// after it, SIGHUP has its default effect again.
func OnHangup(reload func()) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP)
	release := onSignal(sigs, reload)
	return func() {
		signal.Stop(sigs)
		release()
	}
}

// onSignal calls fn for each value of sigs until the returned stop.
func onSignal(sigs <-chan os.Signal, fn func()) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() { // owned by the returned stop, which waits for it
		defer close(finished)
		for {
			select {
			case <-sigs:
				fn()
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
