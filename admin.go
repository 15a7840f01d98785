package apilayer

import (
	"net/http"
	"strings"
	"time"

	"github.com/apilayer/apilayer/assertion"
	"github.com/apilayer/apilayer/internal/pprofhttp"
	"github.com/apilayer/apilayer/respond"
)

// The paths of the admin listener (admin.listen) besides metrics.path and
// the JWKS; docs/deployment.md#the-admin-listener.
const (
	LivePath  = "/livez"
	ReadyPath = "/readyz"
	PprofPath = "/debug/pprof/"
)

// AdminHandler returns what the admin listener (admin.listen) serves, from
// the current Gateway: /livez (200 while the process serves), /readyz
// (readiness: 200 or 503 with the reason), metrics.path with
// metrics.enabled, the JWKS with identity.sign, and /debug/pprof/ with
// admin.pprof. Nothing there is authenticated.
func (s *Server) AdminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := s.acquire()
		defer g.use.release()
		p := r.URL.Path
		switch {
		case p == LivePath || p == ReadyPath:
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				respond.Error(w, http.StatusMethodNotAllowed, respond.MsgMethodNotAllowed)
				return
			}
			if p == LivePath {
				respond.JSON(w, http.StatusOK, map[string]string{"status": "live"})
				return
			}
			s.readyz(w, r, g)
		case g.scrapeH != nil && p == g.cfg.Metrics.Path:
			g.scrapeH.ServeHTTP(w, r)
		case g.jwksH != nil && p == assertion.JWKSPath:
			g.jwksH.ServeHTTP(w, r)
		case g.cfg.Admin.Pprof && strings.HasPrefix(p, PprofPath):
			g.pprof().ServeHTTP(w, r)
		default:
			respond.Error(w, http.StatusNotFound, respond.MsgNotFound)
		}
	})
}

// pprof is the profile handler of admin.pprof.
func (g *Gateway) pprof() http.Handler {
	g.pprofOnce.Do(func() { g.pprofH = pprofhttp.Handler(PprofPath, g.log.With("component", "pprof")) })
	return g.pprofH
}

// readyz answers /readyz: 200 {"status":"ready",...} when the backend's
// validate endpoint can be reached (its circuit breaker is not open, and,
// without recent traffic, a probe answered) and, with store.driver redis,
// Redis answers; else 503 with the reason. The last reload's time and
// result are in "reload".
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, g *Gateway) {
	type reload struct {
		Time   string `json:"time"`
		Result string `json:"result"`
	}
	body := struct {
		Status  string  `json:"status"`
		Reason  string  `json:"reason,omitempty"`
		Backend string  `json:"backend"`
		Store   string  `json:"store"`
		Reload  *reload `json:"reload,omitempty"`
	}{Status: "ready", Backend: "ok", Store: "ok"}
	var reasons []string
	if why := s.ready.backend(r.Context(), g.backend); why != "" {
		body.Backend = "unavailable"
		reasons = append(reasons, why)
	}
	if g.redis != nil {
		if err := g.redis.Ping(r.Context()); err != nil {
			body.Store = "unavailable"
			reasons = append(reasons, "store: redis does not answer: "+err.Error())
		}
	}
	if last := s.last.Load(); last != nil {
		body.Reload = &reload{Time: last.at.UTC().Format(time.RFC3339), Result: "ok"}
		if !last.ok {
			body.Reload.Result = "error"
		}
	}
	status := http.StatusOK
	if len(reasons) > 0 {
		body.Status, body.Reason = "not ready", strings.Join(reasons, "; ")
		status = http.StatusServiceUnavailable
	}
	respond.JSON(w, status, body)
}
