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

// carrier is a Context of its own that answers ContextKey with a *string,
// as the gateway's request context does.
type carrier struct {
	context.Context
	id string
}

func (c *carrier) Value(key any) any {
	if key == ContextKey() {
		return &c.id
	}
	return c.Context.Value(key)
}

func TestFromContext(t *testing.T) {
	if got := FromContext(context.Background()); got != "" {
		t.Errorf("FromContext(empty) = %q, want \"\"", got)
	}
	if got := FromContext(NewContext(context.Background(), "a1")); got != "a1" {
		t.Errorf("FromContext(NewContext(a1)) = %q", got)
	}
	type otherKey struct{}
	c := &carrier{Context: context.Background(), id: "b2"}
	if got := FromContext(context.WithValue(c, otherKey{}, 1)); got != "b2" {
		t.Errorf("FromContext(carrier) = %q, want b2", got)
	}
	var nilID *string
	if got := FromContext(context.WithValue(context.Background(), ContextKey(), nilID)); got != "" {
		t.Errorf("FromContext(nil *string) = %q, want \"\"", got)
	}
}
