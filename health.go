package apilayer

import (
	"net/http"

	"github.com/apilayer/apilayer/respond"
)

// health answers the health endpoint (SPEC.md section 6a). It is passive:
// the backend counts as unavailable while the most recent call the gateway
// made to it failed as unavailable; it never probes the backend itself.
func (g *Gateway) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		respond.Error(w, http.StatusMethodNotAllowed, respond.MsgMethodNotAllowed)
		return
	}
	body := struct {
		Status  string `json:"status"`
		Backend string `json:"backend"`
		Store   string `json:"store"`
	}{"ok", "ok", g.cfg.Store.Driver}
	if !g.backend.Available() {
		body.Status, body.Backend = "degraded", "unavailable"
	}
	if g.redis != nil && !g.redis.Healthy() {
		body.Status, body.Store = "degraded", "unavailable"
	}
	respond.JSON(w, http.StatusOK, body)
}
