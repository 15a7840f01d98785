package apiclient

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// gatedBackend answers GET /api/me with the caller's token, after the
// test releases it; arrivals reports each request as it arrives.
func gatedBackend(t *testing.T) (b *backend, arrivals chan string, release chan struct{}) {
	arrivals = make(chan string, 16)
	release = make(chan struct{})
	b = newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		arrivals <- tok
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		writeJSON(w, 200, `{"success":true,"data":{"token":"`+tok+`","lang":"`+r.URL.Query().Get("lang")+`"}}`)
	})
	return b, arrivals, release
}

type result struct {
	res *Response
	err error
}

func TestDedupeSameUserSharesOneRequest(t *testing.T) {
	b, arrivals, release := gatedBackend(t)
	joined := make(chan struct{}, 4)
	c, _ := newClient(t, b, func(c *Config) {
		c.Dedupe.Enabled = true
		onJoin(c, func() { joined <- struct{}{} })
	})

	results := make(chan result, 3)
	call := func() {
		res, err := c.Get(userCtx(t), "me")
		results <- result{res, err}
	}
	go call()
	<-arrivals // the first call reached the backend
	go call()
	go call()
	<-joined
	<-joined // both others joined it
	close(release)

	var got []*Response
	for range 3 {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		got = append(got, r.res)
	}
	if n := b.count(); n != 1 {
		t.Fatalf("backend calls = %d, want 1", n)
	}
	// Each caller owns its copy: changing one changes no other.
	got[0].Data[0] = 'X'
	got[0].Body[0] = 'X'
	got[0].Header.Set("Content-Type", "changed")
	for _, r := range got[1:] {
		if r == got[0] || r.Data[0] != '{' || r.Body[0] != '{' || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("a caller's response is shared: %q", r.Body)
		}
	}
}

// next-api-layer keyed dedupe by method and endpoint: a second user's call
// joined the first user's and got the first user's data
// (docs/apiclient.md#fixed-next-api-layer-defects).
func TestDedupeNeverSharesAcrossUsersOrLocales(t *testing.T) {
	b, arrivals, release := gatedBackend(t)
	c, _ := newClient(t, b, func(c *Config) {
		c.Dedupe.Enabled = true
		c.LocaleFrom = func(ctx context.Context) string { l, _ := ctx.Value(localeKey{}).(string); return l }
		onJoin(c, func() { t.Error("a call joined another caller's flight") })
	})

	calls := []struct {
		token, locale string
	}{
		{"tok-alice", "en"},
		{"tok-bob", "en"},
		{"tok-alice", "tr"},
	}
	results := make([]chan result, len(calls))
	for i, cl := range calls {
		results[i] = make(chan result, 1)
		ctx := context.WithValue(withToken(t.Context(), cl.token), localeKey{}, cl.locale)
		go func() {
			res, err := c.Get(ctx, "me")
			results[i] <- result{res, err}
		}()
		<-arrivals // every call reaches the backend itself, while the others are in flight
	}
	close(release)
	for i, cl := range calls {
		r := <-results[i]
		if r.err != nil {
			t.Fatal(r.err)
		}
		var d struct{ Token, Lang string }
		if err := r.res.Decode(&d); err != nil {
			t.Fatal(err)
		}
		if d.Token != cl.token || d.Lang != cl.locale {
			t.Errorf("call %d (%s, %s) got %s's data in %s", i, cl.token, cl.locale, d.Token, d.Lang)
		}
	}
}

type localeKey struct{}

// onJoin makes the client call f each time a call joins a flight in
// progress, through its debug log.
func onJoin(c *Config, f func()) {
	c.Debug.Enabled = true
	c.Logger = slog.New(joinHandler(f))
}

// joinHandler is a slog.Handler that calls itself for each "joined a call
// in flight" record and drops every other one.
type joinHandler func()

func (h joinHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h joinHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h joinHandler) WithGroup(string) slog.Handler            { return h }
func (h joinHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "apiclient: joined a call in flight" {
		h()
	}
	return nil
}

func TestDedupeOnlyWhenAllowed(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Config)
		method string
		body   any
		opts   [2][]CallOption // the options of the first and the second call
	}{
		{name: "disabled", edit: func(c *Config) {}, method: "GET"},
		{name: "NoDedupe", method: "GET", opts: [2][]CallOption{{NoDedupe()}, {NoDedupe()}}},
		{name: "method not listed", method: "DELETE"},
		{name: "body", method: "POST", body: map[string]int{"a": 1}, edit: func(c *Config) { c.Dedupe = Dedupe{Enabled: true, Methods: []string{"GET", "POST"}} }},
		{name: "different headers", method: "GET", opts: [2][]CallOption{{WithHeader("X-N", "1")}, {WithHeader("X-N", "2")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, arrivals, release := gatedBackend(t)
			edit := tt.edit
			if edit == nil {
				edit = func(c *Config) { c.Dedupe.Enabled = true }
			}
			c, _ := newClient(t, b, func(c *Config) {
				edit(c)
				onJoin(c, func() { t.Error("a call joined another") })
			})
			var wg sync.WaitGroup
			for _, opts := range tt.opts {
				wg.Go(func() {
					if _, err := c.Do(userCtx(t), tt.method, "me", tt.body, opts...); err != nil {
						t.Error(err)
					}
				})
				<-arrivals
			}
			close(release)
			wg.Wait()
			if n := b.count(); n != 2 {
				t.Errorf("backend calls = %d, want 2", n)
			}
		})
	}
}

func TestDedupeCallerCancellation(t *testing.T) {
	t.Run("one caller leaving does not fail the others", func(t *testing.T) {
		b, arrivals, release := gatedBackend(t)
		joined := make(chan struct{}, 1)
		c, _ := newClient(t, b, func(c *Config) {
			c.Dedupe.Enabled = true
			onJoin(c, func() { joined <- struct{}{} })
		})

		first, cancelFirst := context.WithCancel(userCtx(t))
		firstDone := make(chan error, 1)
		go func() {
			_, err := c.Get(first, "me")
			firstDone <- err
		}()
		<-arrivals
		secondDone := make(chan result, 1)
		go func() {
			res, err := c.Get(userCtx(t), "me")
			secondDone <- result{res, err}
		}()
		<-joined
		cancelFirst()
		if err := <-firstDone; !errors.Is(err, context.Canceled) {
			t.Fatalf("first caller: %v, want context.Canceled", err)
		}
		close(release)
		r := <-secondDone
		if r.err != nil || !r.res.Success {
			t.Fatalf("second caller: %v", r.err)
		}
		if n := b.count(); n != 1 {
			t.Errorf("backend calls = %d, want 1", n)
		}
	})
	t.Run("the last caller leaving cancels the request", func(t *testing.T) {
		cancelled := make(chan struct{})
		arrived := make(chan struct{})
		b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
			close(arrived)
			<-r.Context().Done()
			close(cancelled)
		})
		c, _ := newClient(t, b, func(c *Config) { c.Dedupe.Enabled = true })
		ctx, cancel := context.WithCancel(userCtx(t))
		done := make(chan error, 1)
		go func() {
			_, err := c.Get(ctx, "me")
			done <- err
		}()
		<-arrived
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		<-cancelled // the backend saw the request go away
	})
	t.Run("Close cancels shared requests and waits for them", func(t *testing.T) {
		arrived := make(chan struct{})
		b := newBackend(t, func(w http.ResponseWriter, r *http.Request, n int) {
			close(arrived)
			<-r.Context().Done()
		})
		c, _ := newClient(t, b, func(c *Config) { c.Dedupe.Enabled = true })
		done := make(chan error, 1)
		go func() {
			_, err := c.Get(userCtx(t), "me")
			done <- err
		}()
		<-arrived
		c.Close()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if len(c.inflight) != 0 {
			t.Errorf("%d flights left after Close", len(c.inflight))
		}
	})
}
