package apilayer

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/apilayer/apilayer/peer"
	"github.com/apilayer/apilayer/respond"
	"github.com/apilayer/apilayer/session"
)

// provisionPeers builds the peers of store.peers (docs/distributed.md,
// "Peers") for the session manager's Relay: while Redis is unavailable,
// the owner of a token among the instances refreshes it. Nil without
// peers. It runs before the session manager is built (which is closed
// first); peerHandler connects the endpoints to it afterwards. A reload
// keeps the set while store.peers and store.peerSecret are unchanged.
func (g *Gateway) provisionPeers() (*relay, error) {
	st := g.cfg.Store
	if len(st.Peers) == 0 {
		return nil, nil
	}
	s, err := keep(g, "peers", g.peerSettings(), func() (*peer.Set, io.Closer, error) {
		s, err := peer.New(peer.Options{
			Peers:  st.Peers,
			Secret: []byte(st.PeerSecret),
			Logger: g.log.With("component", "peer"),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("apilayer: store.peers: %w", err)
		}
		return s, s, nil
	})
	if err != nil {
		return nil, err
	}
	g.peers = s
	return &relay{s}, nil
}

// peerSettings are the settings the peer set is built from.
func (g *Gateway) peerSettings() any {
	return struct {
		Peers  []string
		Secret string
	}{g.cfg.Store.Peers, g.cfg.Store.PeerSecret}
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
