package apilayer

import (
	"net/http"

	"github.com/apilayer/apilayer/respond"
)

// health answers the health endpoint (docs/api-reference.md#health). It is passive:
// the backend counts as unavailable while the validate endpoint's circuit
// breaker is not closed or its most recent call failed as unavailable; it
// never probes the backend itself. backendEndpoints is the state of each
// endpoint's breaker (backend.breaker).
func (g *Gateway) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		respond.Error(w, http.StatusMethodNotAllowed, respond.MsgMethodNotAllowed)
		return
	}
	body := struct {
		Status    string            `json:"status"`
		Backend   string            `json:"backend"`
		Store     string            `json:"store"`
		Endpoints map[string]string `json:"backendEndpoints"`
	}{"ok", "ok", g.cfg.Store.Driver, g.breakerStates()}
	if !g.backend.Available() {
		body.Status, body.Backend = "degraded", "unavailable"
	}
	if g.redis != nil && !g.redis.Healthy() {
		body.Status, body.Store = "degraded", "unavailable"
	}
	respond.JSON(w, http.StatusOK, body)
}

// breakerStates is the state of each backend endpoint's circuit breaker:
// closed, open or half-open.
func (g *Gateway) breakerStates() map[string]string {
	out := map[string]string{}
	for name, s := range g.backend.Breakers() {
		out[name] = string(s)
	}
	return out
}
