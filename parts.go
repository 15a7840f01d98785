package apilayer

import (
	"encoding/json"
	"fmt"
	"io"
	"sync/atomic"
)

// part is a component of a Gateway that the Gateway replacing it on a
// reload (Server.Reload) keeps when the settings it was built from did not
// change: the Redis connection, the session stores and manager, the
// backend client, the rate limiter, metrics... Every Gateway holding a part
// holds a reference to it, released by its Close; the last one closes the
// component. So the Close of a replaced Gateway closes what it alone used,
// and nothing its successor kept.
type part struct {
	name     string
	settings string    // the settings it was built from, as JSON
	v        any       // the component
	closer   io.Closer // nil: nothing to close
	refs     atomic.Int32
}

// Close releases one reference; the last closes the component.
func (p *part) Close() error {
	if p.refs.Add(-1) > 0 || p.closer == nil {
		return nil
	}
	return p.closer.Close()
}

// keep returns the component name of the Gateway g replaces (g.prev) when
// it was built from the same settings (compared as JSON), else the one
// build makes. Either way g holds a reference to it, which Close releases,
// in the reverse order of the calls to keep and the other components'.
// settings must hold every setting the component depends on, including
// the settings of the parts it uses.
func keep[T any](g *Gateway, name string, settings any, build func() (T, io.Closer, error)) (T, error) {
	key, err := json.Marshal(settings)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("apilayer: %s: %w", name, err)
	}
	if g.prev != nil {
		if p := g.prev.parts[name]; p != nil && p.settings == string(key) {
			p.refs.Add(1)
			g.hold(p)
			g.kept = append(g.kept, name)
			return p.v.(T), nil
		}
	}
	v, c, err := build()
	if err != nil {
		return v, err
	}
	p := &part{name: name, settings: string(key), v: v, closer: c}
	p.refs.Store(1)
	g.hold(p)
	return v, nil
}

// hold records that g holds a reference to p.
func (g *Gateway) hold(p *part) {
	if g.parts == nil {
		g.parts = map[string]*part{}
	}
	g.parts[p.name] = p
	g.closers = append(g.closers, p)
}
