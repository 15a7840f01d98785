package apilayer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/apilayer/apilayer/bodyidle"
)

// ListenAndServe listens on the configured address (HTTPS when tls is set)
// and serves the gateway until ctx is done, then shuts down gracefully:
// in-flight requests get server.shutdownTimeout to finish.
func (g *Gateway) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", g.cfg.Listen)
	if err != nil {
		return fmt.Errorf("apilayer: listen: %w", err)
	}
	return g.Serve(ctx, ln)
}

// Serve serves the gateway on ln until ctx is done, then shuts down
// gracefully. It closes ln. Request uploads that stall are ended there
// (server.bodyIdleTimeout, server.readTimeout): a Handler served by an
// http.Server of your own gets that from package bodyidle.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	c := g.cfg
	// bodyidle wraps the whole handler: it needs the server's own
	// ResponseWriter to move the connection's read deadline.
	idle := bodyidle.Middleware(bodyidle.Options{
		Timeout:     *c.Server.BodyIdleTimeout,
		ReadTimeout: c.Server.ReadTimeout,
	})
	srv := &http.Server{
		Handler:           idle(g.Handler()),
		ReadHeaderTimeout: c.Server.ReadHeaderTimeout,
		ReadTimeout:       c.Server.ReadTimeout,
		IdleTimeout:       c.Server.IdleTimeout,
		MaxHeaderBytes:    int(c.Server.MaxHeaderBytes),
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	tls := c.TLS.CertFile != "" && c.TLS.KeyFile != ""
	done := make(chan error, 1)
	go func() {
		if tls {
			done <- srv.ServeTLS(ln, c.TLS.CertFile, c.TLS.KeyFile)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	scheme := "http"
	if tls {
		scheme = "https"
	}
	g.log.Info("apilayer listening", "addr", ln.Addr().String(), "scheme", scheme)

	select {
	case err := <-done:
		return fmt.Errorf("apilayer: serve: %w", err)
	case <-ctx.Done():
	}
	g.log.Info("apilayer shutting down", "timeout", c.Server.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), c.Server.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("apilayer: shutdown: %w", err)
	}
	return nil
}
