package redisstore

import "errors"

// errKey is returned for a token-store key that is not a SHA-256 digest.
var errKey = errors.New("redisstore: key is not a lowercase hex SHA-256 digest")

// checkTokenKey makes sure a key of a token store (cache, failures,
// successors, revalidations, locks) is session.Key of a token, so Redis
// never holds a raw token even if a caller forgets to hash one.
func checkTokenKey(key string) error {
	if len(key) != 64 {
		return errKey
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return errKey
		}
	}
	return nil
}
