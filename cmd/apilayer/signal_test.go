package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apilayer/apilayer/internal/demo"
	"github.com/apilayer/apilayer/internal/testkit"
)

// TestServeSecondSignal runs the real binary with a request in flight that
// never ends: SIGTERM starts the drain (server.shutdownTimeout 30s), and a
// second signal (SIGINT) ends the process at once with status 1 and one
// log line saying why.
func TestServeSecondSignal(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "apilayer")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	backend := testkit.NewBackend(t, demo.BackendOptions{})
	upstream := testkit.NewUpstream(t)
	arrived := make(chan struct{}, 1)
	upstream.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done() // in flight until the gateway goes away
	}))
	cfgPath := filepath.Join(t.TempDir(), "apilayer.yaml")
	cfg := fmt.Sprintf("listen: 127.0.0.1:0\nserver:\n  shutdownTimeout: 30s\nbackend:\n  url: %s\nupstream:\n  url: %s\nlog:\n  format: json\n",
		backend.URL(), upstream.URL())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // kills a hung process
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "APILAYER_CONFIG=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logLines := make(chan map[string]any)
	go func() { // owned by this test: ends at the process's EOF
		defer close(logLines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"msg": sc.Text(), "notJSON": true}
			}
			logLines <- m
		}
	}()
	exited := make(chan error, 1)
	waited := false
	defer func() {
		if !waited {
			cmd.Process.Kill()
			for range logLines {
			}
			cmd.Wait()
		}
	}()
	var seen []string
	waitLog := func(msg string) map[string]any {
		t.Helper()
		for m := range logLines {
			seen = append(seen, fmt.Sprint(m))
			if m["msg"] == msg {
				return m
			}
		}
		t.Fatalf("the process ended its log without %q:\n%s", msg, strings.Join(seen, "\n"))
		return nil
	}
	addr, _ := waitLog("apilayer listening")["addr"].(string)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatalf("no address in the listening line: %q", addr)
	}
	client := &http.Client{}
	defer client.CloseIdleConnections()
	slow := make(chan error, 1)
	go func() { // owned by this test: ends when the process closes the connection
		res, err := client.Get("http://" + addr + "/slow")
		if err == nil {
			res.Body.Close()
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		slow <- err
	}()
	<-arrived
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLog("apilayer shutting down")
	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var after []map[string]any
	for m := range logLines {
		after = append(after, m)
	}
	go func() { exited <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-exited:
		waited = true
	case <-time.After(20 * time.Second): // a guard only: the drain alone would take 30s
		t.Fatal("the process did not exit after the second signal")
	}
	elapsed := time.Since(signalled)
	t.Logf("exit %v %v after the second signal", werr, elapsed.Round(time.Millisecond))
	if elapsed > 10*time.Second { // loose on a shared machine; measured in milliseconds
		t.Errorf("the process exited %v after the second signal, want at once", elapsed)
	}
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit = %v, want status 1", werr)
	}
	if len(after) != 1 || after[0]["msg"] != "apilayer: second signal during the drain: exiting now" ||
		after[0]["level"] != "ERROR" || after[0]["signal"] != "interrupt" {
		t.Errorf("log after the second signal = %v, want exactly one ERROR line naming the signal", after)
	}
	if err := <-slow; err == nil {
		t.Error("the request in flight was answered, want it cut")
	}
}
