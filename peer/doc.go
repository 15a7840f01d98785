// Package peer lets the instances of a gateway agree, without Redis, on
// which one refreshes a token (store.peers, store.peerSecret;
// docs/distributed.md, "Peers").
//
// In distributed mode the Redis lock decides who refreshes a token. While
// Redis is unreachable (to some instances or all) that lock cannot be
// relied on, and two instances refreshing the same token make the backend
// see it used twice (reuse), which logs the user out. A [Set] keeps this
// instance's view of its peers, and the token's owner refreshes it (under
// the lock when it can):
//
//   - Each instance has a random id. It pings every peer (GET [PingPath],
//     every [PingInterval]) and recognises itself by finding its own id;
//     a peer is live when it answered a ping within [LiveFor]. dns:///
//     targets are resolved again every [ResolveInterval].
//   - The owner of a token is the live peer with the highest rendezvous
//     score for the token's SHA-256 ([Set.Owner]): every instance that
//     sees the same live peers names the same owner, and an instance
//     leaving moves only the tokens it owned.
//   - A non-owner asks the owner (POST [RefreshPath], [Set.Refresh]); the
//     owner runs the refresh through its own single-flight and successor
//     records ([Refresher]) and answers the new tokens sealed as a
//     successor record for the asking client. An owner that cannot be
//     reached or does not answer in time means refreshing locally.
//
// Every request and answer is signed with HMAC-SHA256 under the shared
// secret, over the method, the path, a timestamp, a nonce and the body;
// a request that is not signed, is signed with another secret, is older
// than [MaxSkew] or repeats a nonce gets 403. The endpoints are answered
// by the gateway before its pipeline and never forwarded, whatever the
// spelling of the path ([Reserved]).
//
// The package depends on no other part of the gateway but route and
// respond: package session seals and opens the answers, and the gateway
// connects the two.
package peer
