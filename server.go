package apilayer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/apilayer/apilayer/bodyidle"
)

// ListenAndServe listens on the configured address (HTTPS when tls is set)
// and serves the gateway until ctx is done, then shuts down gracefully:
// in-flight requests get server.shutdownTimeout to finish. With
// admin.listen it serves the admin listener too (Server.AdminHandler).
func (g *Gateway) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", g.cfg.Listen)
	if err != nil {
		return fmt.Errorf("apilayer: listen: %w", err)
	}
	return g.Serve(ctx, ln)
}

// Serve serves the gateway on ln until ctx is done, then shuts down
// gracefully. It closes ln. With admin.listen it listens there too, for
// the admin listener. Request uploads that stall are ended there
// (server.bodyIdleTimeout, server.readTimeout): a Handler served by an
// http.Server of your own gets that from package bodyidle. g stays yours
// to close; a Server (NewServer) also reloads.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	s := newServer(g, false)
	defer s.Close()
	return s.Serve(ctx, ln)
}

// Server serves a Gateway on its listeners, listen and admin.listen, and
// replaces it on Reload without failing a request: requests in flight
// finish on the Gateway they started on, new ones go to its successor, and
// the replaced Gateway is closed once its last request is done. It is what
// "apilayer serve" runs, with Reload on SIGHUP.
type Server struct {
	cur   atomic.Pointer[Gateway]
	owned bool // Close closes the current Gateway

	mu      sync.Mutex // serializes Reload and Close
	closed  bool       // guarded by mu
	closing chan struct{}
	drains  sync.WaitGroup // one goroutine per replaced Gateway still in use

	last  atomic.Pointer[reloadResult]
	ready readiness
}

// NewServer returns a Server of g. The Server owns g: its Close closes g,
// or the Gateway that replaced it.
func NewServer(g *Gateway) *Server { return newServer(g, true) }

func newServer(g *Gateway, owned bool) *Server {
	s := &Server{owned: owned, closing: make(chan struct{})}
	s.cur.Store(g)
	return s
}

// Gateway returns the Gateway new requests go to.
func (s *Server) Gateway() *Gateway { return s.cur.Load() }

// acquire returns the current Gateway, counted as in use by one more
// request until its release. A Gateway replaced between the load and the
// count refuses it, and the next load finds its successor.
func (s *Server) acquire() *Gateway {
	for {
		g := s.cur.Load()
		if g.use.acquire() {
			return g
		}
	}
}

// Handler returns the gateway of the public listener: every request goes
// to the Gateway that is current when it arrives.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := s.acquire()
		defer g.use.release()
		g.serve(w, r, g.upstream)
	})
}

// ListenAndServe listens on listen and serves until ctx is done, as Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.Gateway().cfg.Listen)
	if err != nil {
		return fmt.Errorf("apilayer: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves the public listener on ln (HTTPS when tls is set, with the
// certificate the current Gateway read) and, with admin.listen, the admin
// listener, until ctx is done; then both shut down gracefully: requests in
// flight get server.shutdownTimeout. It closes ln. listen, admin.listen,
// tls on or off, server.* and log.* are read here once: a reload keeps
// them (see Reload).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	g := s.Gateway()
	c := g.cfg
	var adminLn net.Listener
	if c.Admin.Listen != "" {
		var err error
		if adminLn, err = net.Listen("tcp", c.Admin.Listen); err != nil {
			ln.Close()
			return fmt.Errorf("apilayer: admin.listen: %w", err)
		}
	}
	// bodyidle wraps the whole handler: it needs the server's own
	// ResponseWriter to move the connection's read deadline.
	idle := bodyidle.Middleware(bodyidle.Options{
		Timeout:     *c.Server.BodyIdleTimeout,
		ReadTimeout: c.Server.ReadTimeout,
	})
	errLog := slog.NewLogLogger(g.log.Handler(), slog.LevelWarn)
	public := &http.Server{
		Handler:           idle(s.Handler()),
		ReadHeaderTimeout: c.Server.ReadHeaderTimeout,
		ReadTimeout:       c.Server.ReadTimeout,
		IdleTimeout:       c.Server.IdleTimeout,
		MaxHeaderBytes:    int(c.Server.MaxHeaderBytes),
		ErrorLog:          errLog,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	scheme := "http"
	if g.cert != nil {
		scheme = "https"
		// Each handshake takes the certificate of the current Gateway: a
		// reload that read a renewed one serves it from then on.
		public.TLSConfig = &tls.Config{GetCertificate: s.certificate}
	}
	done := make(chan error, 2)
	go func() {
		if g.cert != nil {
			done <- public.ServeTLS(ln, "", "")
		} else {
			done <- public.Serve(ln)
		}
	}()
	g.log.Info("apilayer listening", "addr", ln.Addr().String(), "scheme", scheme)
	var admin *http.Server
	if adminLn != nil {
		// Requests to the admin listener (a CPU profile, say) end with it.
		actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		admin = &http.Server{
			Handler:           s.AdminHandler(),
			ReadHeaderTimeout: c.Server.ReadHeaderTimeout,
			IdleTimeout:       c.Server.IdleTimeout,
			ErrorLog:          errLog,
			BaseContext:       func(net.Listener) context.Context { return actx },
		}
		admin.RegisterOnShutdown(cancel)
		go func() { done <- admin.Serve(adminLn) }()
		g.log.Info("apilayer admin listening", "addr", adminLn.Addr().String())
	}
	running := 1
	if admin != nil {
		running = 2
	}

	var failed error
	select {
	case failed = <-done:
		running--
	case <-ctx.Done():
	}
	timeout := s.Gateway().cfg.Server.ShutdownTimeout
	if failed == nil {
		g.log.Info("apilayer shutting down", "timeout", timeout.String())
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = public.Shutdown(sctx) })
	if admin != nil {
		wg.Go(func() { errs[1] = admin.Shutdown(sctx) })
	}
	wg.Wait()
	for ; running > 0; running-- {
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) && failed == nil {
			failed = err
		}
	}
	if failed != nil && !errors.Is(failed, http.ErrServerClosed) {
		return fmt.Errorf("apilayer: serve: %w", failed)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("apilayer: shutdown: %w", err)
	}
	return nil
}

// certificate is the public listener's GetCertificate.
func (s *Server) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := s.Gateway().cert; c != nil {
		return c, nil
	}
	return nil, errors.New("apilayer: no certificate") // tls turned off by a reload: kept until a restart
}

// Close closes the Gateways the Server replaced that are still in use,
// at once, and (for a Server made by NewServer) the current one. It is
// safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	s.mu.Unlock()
	s.drains.Wait()
	if s.owned {
		return s.Gateway().Close()
	}
	return nil
}

// use counts the requests a Server serves with a Gateway, and tells when
// the last one is done after the Gateway was replaced.
type use struct {
	n    atomic.Int64 // requests in flight, plus retired once replaced
	done chan struct{}
	once sync.Once
}

// retired is added to use.n when the Gateway is replaced: from then on
// acquire fails, and n == retired means nothing is in flight.
const retired = 1 << 40

func (u *use) init() { u.done = make(chan struct{}) }

func (u *use) acquire() bool {
	if u.n.Add(1) >= retired {
		u.release()
		return false
	}
	return true
}

func (u *use) release() {
	if u.n.Add(-1) == retired {
		u.once.Do(func() { close(u.done) })
	}
}

// retire refuses new requests; done is closed once those in flight end.
func (u *use) retire() {
	if u.n.Add(retired) == retired {
		u.once.Do(func() { close(u.done) })
	}
}
