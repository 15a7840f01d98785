package session

import (
	"context"
	"testing"
	"time"

	"github.com/apilayer/apilayer/backend"
)

// TestGuestUnavailable: an anonymous outcome says whether it is anonymous
// only because a due guest could not be minted for want of the backend.
func TestGuestUnavailable(t *testing.T) {
	tests := []struct {
		name      string
		mod       func(*Options)
		guestMode string // the guest endpoint's fault
		refresh   string // the refresh endpoint's fault
		in        Input
		want      bool
		del       CookieSet
	}{
		{"no token, guest 503", nil, "503", "", Input{Client: "1.2.3.4"}, true, CookieSet{}},
		{"no token, guest 429", nil, "429", "", Input{Client: "1.2.3.4"}, true, CookieSet{}},
		{"no token, guest timeout", nil, "hang", "", Input{Client: "1.2.3.4"}, true, CookieSet{}},
		{"no token, guest refused", nil, "401", "", Input{Client: "1.2.3.4"}, false, CookieSet{}},
		{"no token, guests disabled", func(o *Options) { o.GuestEnabled = false }, "503", "", Input{Client: "1.2.3.4"}, false, CookieSet{}},
		{"invalid guest cookie, guest 503", nil, "503", "", Input{Guest: "DEAD", Client: "1.2.3.4"}, true, CookieSet{Guest: true}},
		{"expired user, guest fallback, guest 503", nil, "503", "401", Input{User: "OLD", Client: "1.2.3.4"}, true, CookieSet{User: true}},
		{"expired user, guest fallback, guest refused", nil, "401", "401", Input{User: "OLD", Client: "1.2.3.4"}, false, CookieSet{User: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, 200*time.Millisecond, tt.mod)
			e.f.setMode("guest", tt.guestMode)
			if tt.refresh != "" {
				e.f.setMode("refresh", tt.refresh)
			}
			o := e.m.Authenticate(context.Background(), tt.in)
			if o.State != StateAnonymous || o.GuestUnavailable != tt.want || o.Delete != tt.del || o.Set != (Cookies{}) {
				t.Fatalf("outcome = %+v; want anonymous, guestUnavailable %v, delete %+v", o, tt.want, tt.del)
			}
		})
	}

	t.Run("guest cap reached", func(t *testing.T) {
		e := setup(t, 0, func(o *Options) { o.GuestMaxPerMinute = 1 })
		in := Input{Client: "1.2.3.4"}
		if o := e.m.Authenticate(context.Background(), in); o.State != StateGuest {
			t.Fatalf("first visit: %+v, want a guest", o)
		}
		e.f.setMode("guest", "503")
		if o := e.m.Authenticate(context.Background(), in); o.State != StateAnonymous || o.GuestUnavailable {
			t.Fatalf("over the cap: %+v, want anonymous without guestUnavailable (no mint was due)", o)
		}
	})

	t.Run("guest breaker open", func(t *testing.T) {
		c := newClock()
		f := newFake(t, c)
		bc, err := backend.New(backend.Options{URL: f.srv.URL + "/api/", Now: c.Now,
			Breaker: backend.BreakerOptions{Failures: 1, OpenFor: time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		o := defaults()
		o.Backend, o.Now = bc, c.Now
		m, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		f.setMode("guest", "503")
		m.Authenticate(context.Background(), Input{}) // opens the guest breaker
		before := f.guests.Load()
		out := m.Authenticate(context.Background(), Input{})
		if out.State != StateAnonymous || !out.GuestUnavailable {
			t.Fatalf("outcome = %+v, want anonymous with guestUnavailable", out)
		}
		if f.guests.Load() != before {
			t.Fatal("the guest call reached the backend with its breaker open")
		}
	})
}
