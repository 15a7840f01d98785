package apilayer

import (
	"context"
	"fmt"
	"net/http"

	"github.com/apilayer/apilayer/peer"
	"github.com/apilayer/apilayer/respond"
	"github.com/apilayer/apilayer/session"
)

// provisionPeers builds the peers of store.peers (docs/distributed.md,
// "Peers") as the session manager's Relay: while Redis is unavailable,
// the owner of a token among the instances refreshes it. It runs before
// the session manager is built; peerHandler connects the endpoints to it
// afterwards.
func (g *Gateway) provisionPeers(so *session.Options) error {
	st := g.cfg.Store
	if len(st.Peers) == 0 {
		return nil
	}
	s, err := peer.New(peer.Options{
		Peers:  st.Peers,
		Secret: []byte(st.PeerSecret),
		Logger: g.log.With("component", "peer"),
	})
	if err != nil {
		return fmt.Errorf("apilayer: store.peers: %w", err)
	}
	g.peers = s
	g.closers = append(g.closers, s) // closed after the session manager
	so.Relay = relay{s}
	return nil
}

// peerHandler answers the paths under /_apilayer/peer/ (peer.Reserved):
// the signed pings and refreshes of store.peers; without peers, and for
// anything unsigned, 403. They never reach the web app or the backend.
func (g *Gateway) peerHandler() http.Handler {
	if g.peers == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			respond.Error(w, http.StatusForbidden, respond.MsgNotAuthorized)
		})
	}
	return g.peers.Handler(owner{g.sessions})
}

// relay is the session manager's Relay over the peers.
type relay struct{ s *peer.Set }

func (r relay) Refresh(ctx context.Context, key, cred, client string) (session.RelayAnswer, bool, error) {
	a, asked, err := r.s.Refresh(ctx, key, cred, client)
	return session.RelayAnswer{Sealed: a.Sealed, Reason: session.Reason(a.Reason)}, asked, err
}

// owner runs the refreshes other instances relay to this one.
type owner struct{ m *session.Manager }

func (o owner) Relayed(ctx context.Context, cred, client string) (peer.Answer, error) {
	a, err := o.m.Relayed(ctx, cred, client)
	return peer.Answer{Sealed: a.Sealed, Reason: string(a.Reason)}, err
}
