package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// identHeader is the header in which the chaos suite's web app says whose
// identity the gateway forwarded: "user:<id>", "guest" or "none".
const identHeader = "X-Chaos-Ident"

// chaosUpstream is the web app of the chaos suite (role chaos-upstream): a
// small page for every path, which says in identHeader whose identity it
// received (X-Auth-User, X-Auth-Token-Type), so the load can check that a
// user got their own; /slow?ms=N answers after N ms (requests in flight
// during a SIGTERM).
func chaosUpstream() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
			select {
			case <-time.After(time.Duration(ms) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		ident := forwardedIdent(r.Header)
		w.Header().Set(identHeader, ident)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>chaos</title><p>%s for %s</p>\n", r.URL.Path, ident)
	})
}

// forwardedIdent reads the identity the gateway forwarded.
func forwardedIdent(h http.Header) string {
	switch h.Get("X-Auth-Token-Type") {
	case "":
		return "none"
	case "guest":
		return "guest"
	}
	raw, err := base64.StdEncoding.DecodeString(h.Get("X-Auth-User"))
	if err != nil {
		return "bad-user-header"
	}
	var u struct {
		ID json.Number `json:"id"`
	}
	if err := json.Unmarshal(raw, &u); err != nil || u.ID == "" {
		return "bad-user-header"
	}
	return "user:" + u.ID.String()
}
