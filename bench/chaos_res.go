package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// resources is one measurement of a gateway process, from /proc and its
// metrics.
type resources struct {
	rss        int64 // bytes (VmRSS)
	fds        int   // open file descriptors
	goroutines int   // go_goroutines
	// pooled counts the fds that are the gateway's pooled connections:
	// established ones to the backend, the web app or Redis, which the
	// pools keep idle for 90 s (HTTP) or longer (Redis) whatever the load
	// did, and Redis connections the server closed (a killed Redis), which
	// go-redis keeps in its pool until it next takes them; pooledHTTP
	// those to the backend and the web app, each with two goroutines
	// (net/http's read and write loops). With store.peers, the pools
	// between instances count too: connections to a gateway's listen port
	// (pooledHTTP), and connections to this one's listen port from another
	// gateway's pool (pooledServer, one goroutine each); settle finds the
	// latter, from peerOut, the local ports of this gateway's connections
	// to peers, and incoming, the remote ports of connections to its
	// listen port.
	pooled, pooledHTTP, pooledServer int
	peerOut, incoming                []int
	// kinds counts the other fds by kind: "tcp <state> <peer>", "listen",
	// "pipe", "anon_inode:[eventpoll]", "file"...
	kinds map[string]int
}

// ownFDs are the fds other than the pools' connections.
func (r resources) ownFDs() int { return r.fds - r.pooled }

// ownGoroutines are the goroutines other than the HTTP pools' loops.
func (r resources) ownGoroutines() int {
	return r.goroutines - 2*r.pooledHTTP - r.pooledServer
}

// peerPools moves, in every measurement of all, the connections to a
// gateway's listen port that come from another gateway's pool (a local
// port in its peerOut) from kinds to the pooled ones. The load's own
// connections are closed by then; one still open is counted in kinds.
func peerPools(all map[string]resources) {
	out := map[int]bool{}
	for _, r := range all {
		for _, p := range r.peerOut {
			out[p] = true
		}
	}
	for name, r := range all {
		for _, p := range r.incoming {
			if out[p] {
				r.pooled++
				r.pooledServer++
			} else {
				r.kinds["tcp state 01 from a client"]++
			}
		}
		all[name] = r
	}
}

// measure reads the resources of g. httpPorts are the ports of the backend
// and the web app, redisPort Redis's, gwPorts the gateways' listen ports.
func measure(ctx context.Context, g *gateway, httpPorts []int, redisPort int, gwPorts []int) (resources, error) {
	r := resources{kinds: map[string]int{}}
	pid := g.pid()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return r, fmt.Errorf("bench: %s: %w", g.name, err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			r.rss = kb << 10
		}
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return r, fmt.Errorf("bench: %s: %w", g.name, err)
	}
	sockets := map[string]bool{}
	for _, e := range ents {
		r.fds++
		l, err := os.Readlink(fdDir + "/" + e.Name())
		switch ino, ok := strings.CutPrefix(l, "socket:["); {
		case err != nil:
		case ok:
			sockets[strings.TrimSuffix(ino, "]")] = true
		case strings.HasPrefix(l, "pipe:"):
			r.kinds["pipe"]++
		case strings.HasPrefix(l, "anon_inode:"):
			r.kinds[l]++
		default:
			r.kinds["file"]++
		}
	}
	listenPort := portOf(g.cfg.listen)
	seen := map[string]bool{}
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		conns, err := parseTCP(f)
		f.Close()
		if err != nil {
			return r, fmt.Errorf("bench: %s: %w", g.name, err)
		}
		for _, c := range conns {
			if !sockets[c.inode] {
				continue
			}
			seen[c.inode] = true
			peer := fmt.Sprintf("port %d", c.remotePort)
			switch {
			case c.remotePort == redisPort:
				peer = "redis"
			case slices.Contains(httpPorts, c.remotePort):
				peer = "backend or web app"
			case slices.Contains(gwPorts, c.remotePort):
				peer = "gateway"
			}
			switch {
			case peer == "gateway" && c.state == tcpEstablished:
				r.pooled++
				r.pooledHTTP++
				r.peerOut = append(r.peerOut, c.localPort)
			case c.localPort == listenPort && c.state == tcpEstablished:
				r.incoming = append(r.incoming, c.remotePort)
			case peer == "redis" && (c.state == tcpEstablished || c.state == tcpCloseWait):
				r.pooled++
			case peer == "backend or web app" && c.state == tcpEstablished:
				r.pooled++
				r.pooledHTTP++
			case c.state == tcpListen:
				r.kinds["listen"]++
			default:
				r.kinds[fmt.Sprintf("tcp state %s to %s", c.state, peer)]++
			}
		}
	}
	for ino := range sockets {
		if !seen[ino] {
			r.kinds["socket (not tcp)"]++
		}
	}
	m, err := g.metrics(ctx, "go_goroutines")
	if err != nil {
		return r, err
	}
	n, ok := m["go_goroutines"]
	if !ok {
		return r, fmt.Errorf("bench: %s: no go_goroutines in /metrics", g.name)
	}
	r.goroutines = int(n)
	return r, nil
}

// States of a connection in /proc/net/tcp.
const (
	tcpEstablished = "01"
	tcpCloseWait   = "08"
	tcpListen      = "0A"
)

// tcpConn is one line of /proc/net/tcp or tcp6.
type tcpConn struct {
	localPort  int
	remotePort int
	state      string
	inode      string
}

// parseTCP reads /proc/net/tcp (or tcp6): after a header line, each line
// has "sl local_address rem_address st ... uid timeout inode", addresses as
// hex ADDR:PORT.
func parseTCP(r io.Reader) ([]tcpConn, error) {
	var out []tcpConn
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		var ports [2]int
		for i, a := range f[1:3] {
			_, port, ok := strings.Cut(a, ":")
			if !ok {
				return nil, fmt.Errorf("bench: /proc/net/tcp: bad address %q", a)
			}
			p, err := strconv.ParseUint(port, 16, 16)
			if err != nil {
				return nil, fmt.Errorf("bench: /proc/net/tcp: bad port %q", port)
			}
			ports[i] = int(p)
		}
		out = append(out, tcpConn{localPort: ports[0], remotePort: ports[1], state: f[3], inode: f[9]})
	}
	return out, sc.Err()
}

// settle measures every gateway until their own fds and goroutines hold
// still for 1.5 s (connections the load closed take a moment to go), at most
// for 20 s, and returns the last measurement.
func settle(ctx context.Context, gws []*gateway, httpPorts []int, redisPort int) (map[string]resources, error) {
	gwPorts := listenPorts(gws)
	var last map[string]resources
	stable := 0
	deadline := time.Now().Add(20 * time.Second)
	for {
		cur := map[string]resources{}
		for _, g := range gws {
			r, err := measure(ctx, g, httpPorts, redisPort, gwPorts)
			if err != nil {
				return nil, err
			}
			cur[g.name] = r
		}
		peerPools(cur)
		same := last != nil
		for name, r := range cur {
			p := last[name]
			same = same && p.ownFDs() == r.ownFDs() && p.ownGoroutines() == r.ownGoroutines()
		}
		if same {
			stable++
		} else {
			stable = 0
		}
		last = cur
		if stable >= 3 || time.Now().After(deadline) {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// listenPorts are the listen ports of gws.
func listenPorts(gws []*gateway) []int {
	var out []int
	for _, g := range gws {
		out = append(out, portOf(g.cfg.listen))
	}
	return out
}

// portOf is the port of a host:port address, 0 if it has none.
func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
