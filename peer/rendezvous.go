package peer

import (
	"crypto/sha256"
	"encoding/binary"
)

// score is the weight of instance id for key in rendezvous (highest random
// weight) hashing: the first 8 bytes of SHA-256(id, 0, key). The owner of
// a key is the live instance with the highest score, so every instance
// that sees the same live set picks the same owner, and when an instance
// leaves only the keys it owned move (each to its runner-up).
func score(id, key string) uint64 {
	h := sha256.New()
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(key))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// owner returns the index in ids of the owner of key (-1 for no ids). Ties
// (practically impossible) go to the smaller id.
func owner(ids []string, key string) int {
	best, bestScore := -1, uint64(0)
	for i, id := range ids {
		s := score(id, key)
		if best < 0 || s > bestScore || (s == bestScore && id < ids[best]) {
			best, bestScore = i, s
		}
	}
	return best
}
