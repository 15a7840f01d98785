package apiclient

import (
	"net/http"
	"testing"
)

// X-RateLimit-Limit and X-RateLimit-Remaining read as RateLimitError.Limit
// and Remaining: a count, or -1 when absent or not a count.
func TestHeaderInt(t *testing.T) {
	tests := []struct {
		name string
		v    []string // nil: no header
		want int
	}{
		{name: "absent", want: -1},
		{name: "empty", v: []string{""}, want: -1},
		{name: "count", v: []string{"100"}, want: 100},
		{name: "zero", v: []string{"0"}, want: 0},
		{name: "spaces around", v: []string{" 7 "}, want: 7},
		{name: "negative", v: []string{"-3"}, want: -1},
		{name: "plus sign", v: []string{"+5"}, want: -1},
		{name: "not a number", v: []string{"1e3"}, want: -1},
		{name: "beyond int", v: []string{"99999999999999999999"}, want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.v != nil {
				h["X-Ratelimit-Limit"] = tt.v
			}
			if got := headerInt(h, "X-RateLimit-Limit"); got != tt.want {
				t.Errorf("headerInt(%q) = %d, want %d", tt.v, got, tt.want)
			}
		})
	}
}
