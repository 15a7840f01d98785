package peer_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"

	"github.com/apilayer/apilayer/peer"
)

// refresher runs the refreshes other instances relay to this one; the
// gateway passes its session manager here.
type refresher struct{}

func (refresher) Relayed(ctx context.Context, cred, client string) (peer.Answer, error) {
	return peer.Answer{Reason: "unknown"}, nil
}

// An instance of three: its Set pings the others (and finds itself among
// them), its handler answers their pings and relayed refreshes before
// anything else, and Refresh asks a token's owner.
func ExampleNew() {
	s, err := peer.New(peer.Options{
		Peers:  []string{"http://10.0.0.11:8080", "http://10.0.0.12:8080", "http://10.0.0.13:8080"},
		Secret: []byte(os.Getenv("APILAYER_PEER_SECRET")),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	app := http.NotFoundHandler() // the rest of the instance
	peers := s.Handler(refresher{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if peer.Reserved(r.URL.EscapedPath()) {
			peers.ServeHTTP(w, r) // never forwarded
			return
		}
		app.ServeHTTP(w, r)
	})
	_ = handler // serve it on :8080

	// While the shared lock cannot be used: ask the token's owner.
	token := "the token to refresh"
	sum := sha256.Sum256([]byte(token))
	a, asked, err := s.Refresh(context.Background(), hex.EncodeToString(sum[:]), token, "Mozilla/5.0|192.0.2.1")
	switch {
	case !asked, err != nil:
		// Nobody to ask, or no answer: refresh here.
	default:
		_ = a // the new tokens, sealed for the client, or a.Reason
	}
}

func ExampleReserved() {
	for _, p := range []string{"/_apilayer/peer/refresh", "//_APILAYER/peer/refresh", "/%5Fapilayer%2Fpeer/ping", "/_apilayer/health"} {
		fmt.Println(p, peer.Reserved(p))
	}
	// Output:
	// /_apilayer/peer/refresh true
	// //_APILAYER/peer/refresh true
	// /%5Fapilayer%2Fpeer/ping true
	// /_apilayer/health false
}
