package testkit

import (
	"net"
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
