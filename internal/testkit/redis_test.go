package testkit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestRedisLifecycle(t *testing.T) {
	r := StartRedis(t)
	addr := r.Addr()
	if r.URL() != "redis://"+addr+"/0" {
		t.Fatalf("URL = %q", r.URL())
	}
	steps := []struct {
		name string
		do   func()
		up   bool
	}{
		{"started", func() {}, true},
		{"stopped", r.Stop, false},
		{"stopped twice", r.Stop, false},
		{"restarted on the same port", r.Restart, true},
		{"killed", r.Kill, false},
		{"restarted after a kill", r.Restart, true},
		{"restarted while running", r.Restart, true},
	}
	for _, s := range steps {
		s.do()
		err := ping(addr)
		if (err == nil) != s.up {
			t.Fatalf("%s: PING error %v, want up=%v", s.name, err, s.up)
		}
	}
}

func TestRedisPause(t *testing.T) {
	r := StartRedis(t)
	r.Pause()
	c, err := net.Dial("tcp", r.Addr()) // the kernel still accepts
	if err != nil {
		t.Fatalf("dial a paused server: %v", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := c.Read(make([]byte, 16)); err == nil {
		t.Fatalf("a paused server answered %d bytes", n)
	}
	r.Resume()
	if err := ping(r.Addr()); err != nil {
		t.Fatalf("PING after Resume: %v", err)
	}
	// The paused connection is answered too once thawed.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "+PONG\r\n" {
		t.Fatalf("after Resume: %q, %v", buf[:n], err)
	}
}

// TestRedisReplicaAndSentinel: a replica copies its primary, and a
// sentinel answers with the primary it monitors.
func TestRedisReplicaAndSentinel(t *testing.T) {
	primary := StartRedis(t)
	replica := StartRedisReplica(t, primary)
	sentinel := StartSentinel(t, "main", primary, 1)
	if err := roundTrip(primary.Addr(), "SET k v", "+OK"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for roundTrip(replica.Addr(), "GET k", "$1") != nil {
		if time.Now().After(deadline) {
			t.Fatal("the replica never copied the primary's key")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := roundTrip(sentinel.Addr(), "SENTINEL get-master-addr-by-name main", "*2"); err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(sentinel.Addr(), "SENTINEL get-master-addr-by-name other", "*-1"); err != nil {
		t.Fatal(err)
	}
}

// roundTrip sends one inline command to addr and checks that the first
// line of the answer is want.
func roundTrip(addr, cmd, want string) error {
	c, err := net.DialTimeout("tcp", addr, redisStartTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(redisStartTimeout))
	if _, err := io.WriteString(c, cmd+"\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if got := strings.TrimSpace(line); got != want {
		return fmt.Errorf("%s: answered %q, want %q", cmd, got, want)
	}
	return nil
}
