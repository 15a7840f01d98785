package requestid

import (
	"context"
	"strings"
	"testing"
)

func TestAccept(t *testing.T) {
	long := strings.Repeat("a", 128)
	for _, in := range []string{"abc", "A.b_c-9", long} {
		if got := Accept(in); got != in {
			t.Errorf("Accept(%q) = %q, want it kept", in, got)
		}
	}
	for _, in := range []string{"", long + "a", "has space", "semi;colon", "line\nbreak", "é"} {
		got := Accept(in)
		if got == in || !Valid(got) || len(got) != 32 {
			t.Errorf("Accept(%q) = %q, want a new 32-character ID", in, got)
		}
	}
}

func TestNew(t *testing.T) {
	seen := make(map[string]bool)
	for range 10000 {
		id := New()
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("New() = %q, want 32 lower-case hex digits", id)
		}
		if seen[id] {
			t.Fatalf("New() repeated %q", id)
		}
		seen[id] = true
	}
}

// carrier keeps a Context inside a value of its own, as a server keeping
// several request values in one allocation does.
type carrier struct {
	before string
	rid    Context
}

func TestFromContext(t *testing.T) {
	if got := FromContext(context.Background()); got != "" {
		t.Errorf("FromContext(empty) = %q, want \"\"", got)
	}
	if got := FromContext(NewContext(context.Background(), "a1")); got != "a1" {
		t.Errorf("FromContext(NewContext(a1)) = %q", got)
	}
	type otherKey struct{}
	c := carrier{before: "not the ID"}
	base := context.WithValue(context.Background(), otherKey{}, "base")
	c.rid.Init(base, "b2")
	derived, cancel := context.WithCancel(context.WithValue(&c.rid, otherKey{}, 1))
	defer cancel()
	if got := FromContext(derived); got != "b2" {
		t.Errorf("FromContext(derived from an embedded Context) = %q, want b2", got)
	}
	if got := c.rid.Value(otherKey{}); got != "base" {
		t.Errorf("the parent's values: %v, want base", got)
	}
	// A value stored under another package's key of the same shape is not
	// the request ID.
	if got := FromContext(context.WithValue(context.Background(), otherKey{}, "x")); got != "" {
		t.Errorf("FromContext(other key) = %q, want \"\"", got)
	}
}
