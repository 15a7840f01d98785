package apilayer

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/apilayer/apilayer/config"
)

// reloadResult is the outcome of the last reload, for /readyz.
type reloadResult struct {
	at time.Time
	ok bool
}

// Reload swaps in a Gateway built from the configuration load returns (in
// the binary: the config file read again, on SIGHUP). Requests in flight
// finish on the current Gateway; new requests go to the new one; the
// replaced Gateway is closed once its last request is done.
//
// The new Gateway keeps the components of the current one whose settings
// did not change (see docs/deployment.md#reload): the Redis connection
// (store.*), the session stores and, while none of its settings changed,
// the session manager with its refreshes in flight; the backend client and
// its circuit breakers; the local JWT verifier and its key set; the rate
// limiter and its counts; the CSRF protection and the identity signer (a
// random secret or generated key survives); the metrics. The rest (route
// lists, proxies, CORS, i18n, audit, hooks' inputs) is built anew, and the
// TLS certificate and the key files are read again.
//
// listen, admin.listen, tls on or off, server.* and log.* need a restart:
// a reload keeps their running values and logs which ones changed.
//
// When load fails, or the new configuration is invalid or cannot be built
// (a missing certificate, say), the current Gateway goes on serving and
// Reload logs one line with every problem and returns the error. Each
// reload counts in apilayer_config_reloads_total{result="ok|error"}; the
// last one's time and result are in /readyz's answer. Reloads run one at a
// time. Reload fails after Close.
func (s *Server) Reload(load func() (*Config, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("apilayer: reload: server closed")
	}
	old := s.cur.Load()
	cfg, err := load()
	var g *Gateway
	var restart []string
	if err == nil {
		next := *cfg
		restart = keepRunning(&next, old.cfg)
		g, err = build(next, old.opts, old)
	}
	if err != nil {
		s.last.Store(&reloadResult{at: time.Now(), ok: false})
		old.metrics.ConfigReload(false)
		// A Gateway that failed to build may have pointed the kept metrics
		// at its own breakers.
		old.metrics.BackendBreakers(old.breakerStates)
		old.log.Error("apilayer: reload failed, the running config stays", "errors", problems(err))
		return fmt.Errorf("apilayer: reload: %w", err)
	}
	if len(restart) > 0 {
		g.log.Warn("apilayer: reload: these settings apply at the next restart; their running values stay", "keys", restart)
	}
	s.cur.Store(g)
	old.use.retire()
	s.drains.Add(1)
	go s.drain(old) // owned by s: Close waits for it
	s.last.Store(&reloadResult{at: time.Now(), ok: true})
	g.metrics.ConfigReload(true)
	g.log.Info("apilayer: config reloaded", "kept", g.kept)
	return nil
}

// drain closes a replaced Gateway once its last request is done, or at
// once when the Server closes. Its Close releases the parts its successor
// kept without closing them.
func (s *Server) drain(old *Gateway) {
	defer s.drains.Done()
	select {
	case <-old.use.done:
	case <-s.closing:
	}
	if err := old.Close(); err != nil {
		old.log.Warn("apilayer: closing the replaced gateway", "error", err.Error())
	}
}

// keepRunning gives next the running values of the settings that only a
// restart changes (the listeners and the http.Server read them once), and
// returns the YAML paths of those that differed.
func keepRunning(next, running *config.Config) []string {
	next.Defaults()
	var changed []string
	same := func(path string, a, b any) bool {
		if reflect.DeepEqual(a, b) {
			return true
		}
		changed = append(changed, path)
		return false
	}
	if !same("listen", next.Listen, running.Listen) {
		next.Listen = running.Listen
	}
	if !same("admin.listen", next.Admin.Listen, running.Admin.Listen) {
		next.Admin.Listen = running.Admin.Listen
		if next.Admin.Listen == "" {
			next.Admin.Pprof = false
		}
	}
	hasTLS := func(c *config.Config) bool { return c.TLS.CertFile != "" && c.TLS.KeyFile != "" }
	if hasTLS(next) != hasTLS(running) {
		changed = append(changed, "tls")
		next.TLS = running.TLS // certificates are read again; HTTP stays HTTP
	}
	if !same("server", next.Server, running.Server) {
		next.Server = running.Server
	}
	if !same("log", next.Log, running.Log) {
		next.Log = running.Log
	}
	return changed
}

// problems lists the problems of a failed reload: every configuration
// error (FILE:LINE: path: message), or the error.
func problems(err error) []string {
	var cerrs *config.Errors
	if errors.As(err, &cerrs) {
		out := make([]string, len(cerrs.List))
		for i, e := range cerrs.List {
			out[i] = e.Error()
		}
		return out
	}
	return []string{err.Error()}
}
