package ratelimit

import (
	"net/http"
	"testing"
)

// SetHeaders writes its names directly into the map: they must be the
// canonical form, or Header.Get (and every client) would not find them.
func TestHeaderNamesCanonical(t *testing.T) {
	for _, name := range []string{headerLimit, headerRemaining, headerReset, "Retry-After"} {
		if c := http.CanonicalHeaderKey(name); c != name {
			t.Errorf("%q is not canonical (%q)", name, c)
		}
	}
}
