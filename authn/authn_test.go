package authn_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apilayer/apilayer/authn"
)

func TestFromContext(t *testing.T) {
	if a := authn.FromContext(context.Background()); a.Authenticated || a.User != nil {
		t.Errorf("outside the gateway: %+v, want the zero Auth", a)
	}
	want := authn.Auth{Authenticated: true, TokenType: "user", User: map[string]any{"id": "7"}, Token: "t", Locale: "tr"}
	ctx := authn.NewContext(context.Background(), want)
	type otherKey struct{}
	derived, cancel := context.WithCancel(context.WithValue(ctx, otherKey{}, 1))
	defer cancel()
	if got := authn.FromContext(derived); got.User["id"] != "7" || got.Token != "t" || got.Locale != "tr" {
		t.Errorf("FromContext(derived) = %+v", got)
	}
	// A copy: changing what FromContext returned changes nothing in ctx.
	got := authn.FromContext(ctx)
	got.Token = "changed"
	if authn.FromContext(ctx).Token != "t" {
		t.Error("the Auth in the context was changed through a copy")
	}
}

func TestContextInit(t *testing.T) {
	type parentKey struct{}
	parent := context.WithValue(context.Background(), parentKey{}, "p")
	var holder struct {
		before int
		c      authn.Context
	}
	holder.c.Init(parent, authn.Auth{Guest: true, TokenType: "guest"})
	if a := authn.FromContext(&holder.c); !a.Guest {
		t.Errorf("FromContext = %+v, want the guest", a)
	}
	if holder.c.Auth().TokenType != "guest" || holder.c.Value(parentKey{}) != "p" {
		t.Error("Auth or the parent's values are not reachable")
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[authn.State]string{authn.Anonymous: "anonymous", authn.Guest: "guest", authn.User: "user",
		authn.Expired: "expired", authn.Unavailable: "unavailable", authn.State(99): "unknown"} {
		if got := s.String(); got != want {
			t.Errorf("State(%d) = %q, want %q", s, got, want)
		}
	}
}

func TestErrorsAreDistinct(t *testing.T) {
	err := fmt.Errorf("backend: validate: %w", authn.ErrUnavailable)
	if !errors.Is(err, authn.ErrUnavailable) || errors.Is(err, authn.ErrInvalid) {
		t.Error("an unavailable backend must never read as an invalid token")
	}
}

// A handler behind the gateway reads who is asking.
func ExampleFromContext() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := authn.FromContext(r.Context())
		switch {
		case a.Authenticated:
			fmt.Println("user", a.User["name"])
		case a.Guest:
			fmt.Println("guest")
		default:
			fmt.Println("anonymous")
		}
	})
	// In a test, the gateway's part is played by NewContext.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r = r.WithContext(authn.NewContext(r.Context(), authn.Auth{Authenticated: true, User: map[string]any{"name": "Ada"}}))
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output: user Ada
}
