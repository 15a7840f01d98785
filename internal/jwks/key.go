package jwks

import (
	"crypto"
	"slices"
)

// Key is one usable key of a set.
type Key struct {
	// KID is the key's kid; empty when the key has none.
	KID string
	// Key is the raw public key (*rsa.PublicKey, *ecdsa.PublicKey,
	// ed25519.PublicKey).
	Key crypto.PublicKey
	// Algs are the algorithms the key may verify, in the order of
	// Options.Algorithms.
	Algs []string
}

// Keys is a list of keys.
type Keys []Key

// Find returns the keys that may verify a token with header alg and kid.
// A token without kid may be verified by any key that fits alg.
func (ks Keys) Find(alg, kid string) []Key {
	var out []Key
	for _, k := range ks {
		if (kid == "" || k.KID == kid) && slices.Contains(k.Algs, alg) {
			out = append(out, k)
		}
	}
	return out
}
