package apilayer

// Kept names the parts g took over from the Gateway it replaced.
func Kept(g *Gateway) []string { return append([]string(nil), g.kept...) }

// Closed reports whether g was closed.
func Closed(g *Gateway) bool { return g.closed.Load() }

// WaitDrained waits until every Gateway s replaced was closed.
func WaitDrained(s *Server) { s.drains.Wait() }
