package apiclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
)

// dedupeKey returns the key under which the call may share a flight. It
// holds everything that can change the answer: method, URL (query and
// locale included), a hash of the token, the locale and the call's own
// headers. next-api-layer keyed by method and endpoint only and gave one
// user's answer to another.
func (c *Client) dedupeKey(p *prepared, body any, o *callOptions) (string, bool) {
	if !c.cfg.Dedupe.Enabled || o.noDedupe || body != nil || p.body.data != nil || !slices.Contains(c.cfg.Dedupe.Methods, p.method) {
		return "", false
	}
	tok := sha256.Sum256([]byte(p.token))
	var b strings.Builder
	b.WriteString(p.method)
	b.WriteByte(0)
	b.WriteString(p.url.String())
	b.WriteByte(0)
	b.WriteString(hex.EncodeToString(tok[:]))
	b.WriteByte(0)
	b.WriteString(p.locale)
	for _, k := range slices.Sorted(maps.Keys(p.perCall)) {
		b.WriteByte(0)
		b.WriteString(k)
		for _, v := range p.perCall[k] {
			b.WriteByte(1)
			b.WriteString(v)
		}
	}
	return b.String(), true
}

// flight is a deduplicated call in progress.
type flight struct {
	done    chan struct{} // closed when out is set
	out     outcome
	waiters int // guarded by Client.mu
	cancel  context.CancelFunc
}

// shared runs p once for every concurrent caller with the same key. The
// request runs detached from any one caller's context (values kept,
// cancellation not), bounded by its own timeouts; it is cancelled when
// every caller has stopped waiting, or at Close. A caller whose context
// ends returns at once without failing the others.
func (c *Client) shared(ctx context.Context, key string, p *prepared) (outcome, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return outcome{}, ErrClosed
	}
	f, joined := c.inflight[key]
	if !joined {
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stop := context.AfterFunc(c.ctx, cancel)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.inflight[key] = f
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer stop()
			defer cancel()
			out := c.execute(sctx, p)
			c.mu.Lock()
			if c.inflight[key] == f {
				delete(c.inflight, key)
			}
			f.out = out
			c.mu.Unlock()
			close(f.done)
		}()
	}
	f.waiters++
	c.mu.Unlock()
	if joined {
		c.debug(ctx, "apiclient: joined a call in flight", slog.String("method", p.method), slog.String("endpoint", p.endpoint))
	}
	select {
	case <-f.done:
		return f.out, nil
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			if c.inflight[key] == f {
				delete(c.inflight, key)
			}
			f.cancel()
		}
		c.mu.Unlock()
		return outcome{}, fmt.Errorf("apiclient: %s %s: %w", p.method, p.endpoint, context.Cause(ctx))
	}
}
