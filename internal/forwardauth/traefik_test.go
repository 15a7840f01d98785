package forwardauth

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// traefikDynamic is the part of Traefik v3's dynamic configuration that
// testdata/traefik.yml uses. Decoding it with KnownFields fails on any key
// the rendition below does not implement.
type traefikDynamic struct {
	HTTP struct {
		Routers map[string]struct {
			Rule        string   `yaml:"rule"`
			Service     string   `yaml:"service"`
			Middlewares []string `yaml:"middlewares"`
			Priority    int      `yaml:"priority"`
		} `yaml:"routers"`
		Middlewares map[string]traefikMiddleware `yaml:"middlewares"`
		Services    map[string]struct {
			LoadBalancer struct {
				Servers []struct {
					URL string `yaml:"url"`
				} `yaml:"servers"`
			} `yaml:"loadBalancer"`
		} `yaml:"services"`
	} `yaml:"http"`
}

type traefikMiddleware struct {
	ForwardAuth *traefikForwardAuth `yaml:"forwardAuth"`
	Headers     *struct {
		CustomRequestHeaders map[string]string `yaml:"customRequestHeaders"`
	} `yaml:"headers"`
}

type traefikForwardAuth struct {
	Address                  string   `yaml:"address"`
	TrustForwardHeader       *bool    `yaml:"trustForwardHeader"`
	AuthResponseHeaders      []string `yaml:"authResponseHeaders"`
	AuthRequestHeaders       []string `yaml:"authRequestHeaders"`
	AddAuthCookiesToResponse []string `yaml:"addAuthCookiesToResponse"`
	PreserveLocationHeader   bool     `yaml:"preserveLocationHeader"`
}

func parseTraefik(t testing.TB, doc string) traefikDynamic {
	t.Helper()
	var c traefikDynamic
	d := yaml.NewDecoder(strings.NewReader(doc))
	d.KnownFields(true)
	if err := d.Decode(&c); err != nil {
		t.Fatalf("traefik.yml: %v", err)
	}
	return c
}

// startTraefik serves, in Go, what Traefik v3 does with
// testdata/traefik.yml (changed by edit) in front of f (an entry point without
// forwardedHeaders.trustedIPs, PathPrefix routers, the headers and
// forwardAuth middlewares, load-balanced services), and returns its base
// URL. Each step follows Traefik's source (pkg/middlewares/auth/forward.go,
// pkg/middlewares/forwardedheaders, pkg/middlewares/headers).
func startTraefik(t *testing.T, f *fixture, edit func(string) string) string {
	t.Helper()
	c := parseTraefik(t, edit(render(t, "traefik.yml", newAddrs(f, "127.0.0.1:0"))))
	type router struct {
		prefix   string
		priority int
		h        http.Handler
	}
	var routers []router
	rule := regexp.MustCompile("^PathPrefix\\(`([^`]+)`\\)$")
	for name, r := range c.HTTP.Routers {
		m := rule.FindStringSubmatch(r.Rule)
		if m == nil {
			t.Fatalf("traefik.yml: router %s: rule %q: only PathPrefix(`...`) is rendered here", name, r.Rule)
		}
		svc, ok := c.HTTP.Services[r.Service]
		if !ok || len(svc.LoadBalancer.Servers) != 1 {
			t.Fatalf("traefik.yml: router %s: service %q with one server", name, r.Service)
		}
		target, err := url.Parse(svc.LoadBalancer.Servers[0].URL)
		if err != nil {
			t.Fatal(err)
		}
		var h http.Handler = traefikService(target)
		for i := len(r.Middlewares) - 1; i >= 0; i-- {
			mw, ok := c.HTTP.Middlewares[r.Middlewares[i]]
			switch {
			case !ok:
				t.Fatalf("traefik.yml: router %s: no middleware %s", name, r.Middlewares[i])
			case mw.ForwardAuth != nil:
				h = &traefikForward{cfg: *mw.ForwardAuth, next: h}
			case mw.Headers != nil:
				h = traefikHeaders(mw.Headers.CustomRequestHeaders, h)
			}
		}
		p := r.Priority
		if p == 0 {
			p = len(r.Rule) // Traefik's default priority: the rule's length
		}
		routers = append(routers, router{prefix: m[1], priority: p, h: h})
	}
	slices.SortFunc(routers, func(a, b router) int { return b.priority - a.priority })
	srv := httptest.NewServer(traefikEntryPoint(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, rt := range routers {
			if strings.HasPrefix(r.URL.Path, rt.prefix) {
				rt.h.ServeHTTP(w, r)
				return
			}
		}
		http.NotFound(w, r)
	})))
	t.Cleanup(srv.Close)
	return srv.URL
}

// traefikXHeaders are the X-Forwarded-* headers Traefik owns
// (forwardedheaders.XHeadersSet).
var traefikXHeaders = []string{
	"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Server",
	"X-Forwarded-Uri", "X-Forwarded-Method", "X-Forwarded-Prefix", "X-Forwarded-Tls-Client-Cert",
	"X-Forwarded-Tls-Client-Cert-Info", "X-Real-Ip",
}

// traefikEntryPoint is an entry point without forwardedHeaders.trustedIPs:
// the X-Forwarded-* headers a client sent are removed, and Traefik's own
// set.
func traefikEntryPoint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range traefikXHeaders {
			r.Header.Del(h)
		}
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		r.Header.Set("X-Real-Ip", ip)
		r.Header.Set("X-Forwarded-Proto", "http")
		r.Header.Set("X-Forwarded-Host", r.Host)
		next.ServeHTTP(w, r)
	})
}

// traefikHeaders is the headers middleware's customRequestHeaders: an
// empty value deletes the header (by its canonical name), another sets it.
func traefikHeaders(custom map[string]string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range custom {
			if v == "" {
				r.Header.Del(k)
			} else {
				r.Header.Set(k, v)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// traefikService proxies to a load balancer's server with the Host header
// passed (passHostHeader's default) and X-Forwarded-For appended.
func traefikService(target *url.URL) http.Handler {
	return &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
		pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
		pr.SetXForwarded()
		pr.Out.Header.Set("X-Forwarded-Host", pr.In.Host)
	}}
}

// traefikHopHeaders are removed from the auth request (forward.go's
// hopHeaders).
var traefikHopHeaders = []string{"Connection", "Keep-Alive", "Te", "Trailers", "Transfer-Encoding", "Upgrade"}

// traefikForward is the forwardAuth middleware.
type traefikForward struct {
	cfg  traefikForwardAuth
	next http.Handler
}

func (fa *traefikForward) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	// The auth request: GET to address, with the request's headers.
	fr, err := http.NewRequestWithContext(req.Context(), http.MethodGet, fa.cfg.Address, nil)
	if err != nil {
		rw.WriteHeader(http.StatusInternalServerError)
		return
	}
	fa.writeHeader(req, fr)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(fr)
	if err != nil {
		rw.WriteHeader(http.StatusInternalServerError)
		return
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		rw.WriteHeader(http.StatusInternalServerError)
		return
	}

	// Not 2xx: the answer goes to the client, its Location made absolute
	// against the auth address unless preserveLocationHeader.
	if res.StatusCode < http.StatusOK || res.StatusCode >= http.StatusMultipleChoices {
		for k, vs := range res.Header {
			rw.Header()[k] = append(rw.Header()[k], vs...)
		}
		for _, h := range traefikHopHeaders {
			rw.Header().Del(h)
		}
		if loc, err := res.Location(); err == nil && loc.String() != "" && !fa.cfg.PreserveLocationHeader {
			rw.Header().Set("Location", loc.String())
		}
		rw.WriteHeader(res.StatusCode)
		rw.Write(body)
		return
	}

	// 2xx: authResponseHeaders replace the request's, present or not.
	for _, name := range fa.cfg.AuthResponseHeaders {
		k := http.CanonicalHeaderKey(name)
		req.Header.Del(k)
		if len(res.Header[k]) > 0 {
			req.Header[k] = append([]string(nil), res.Header[k]...)
		}
	}
	req.RequestURI = req.URL.RequestURI()
	auth := res.Cookies()
	if len(auth) == 0 {
		fa.next.ServeHTTP(rw, req)
		return
	}
	fa.next.ServeHTTP(&traefikCookies{ResponseWriter: rw, auth: auth, names: fa.cfg.AddAuthCookiesToResponse}, req)
}

// writeHeader builds the auth request's headers (forward.go's writeHeader
// with trustForwardHeader false): the request's, without hop-by-hop and
// Connection-listed ones nor X-Forwarded-*, filtered by
// authRequestHeaders, then Traefik's own description of the request.
func (fa *traefikForward) writeHeader(req, fr *http.Request) {
	for k, vs := range req.Header {
		fr.Header[k] = append([]string(nil), vs...)
	}
	for _, line := range fr.Header.Values("Connection") {
		for f := range strings.SplitSeq(line, ",") {
			if f = strings.TrimSpace(f); f != "" {
				fr.Header.Del(f)
			}
		}
	}
	for _, h := range traefikHopHeaders {
		fr.Header.Del(h)
	}
	trust := fa.cfg.TrustForwardHeader != nil && *fa.cfg.TrustForwardHeader
	if !trust {
		for _, h := range traefikXHeaders {
			fr.Header.Del(h)
		}
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		fr.Header.Set("User-Agent", "")
	}
	if len(fa.cfg.AuthRequestHeaders) > 0 {
		kept := http.Header{}
		for _, name := range fa.cfg.AuthRequestHeaders {
			if vs := fr.Header.Values(name); len(vs) > 0 {
				kept[http.CanonicalHeaderKey(name)] = vs
			}
		}
		fr.Header = kept
	}
	if ip, _, err := net.SplitHostPort(req.RemoteAddr); err == nil {
		if prior, ok := fr.Header["X-Forwarded-For"]; ok {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		fr.Header.Set("X-Forwarded-For", ip)
	}
	setIfAbsent := func(k, v string) {
		if _, ok := fr.Header[k]; !ok {
			fr.Header.Set(k, v)
		}
	}
	setIfAbsent("X-Forwarded-Method", req.Method)
	setIfAbsent("X-Forwarded-Proto", "http")
	_, port, _ := net.SplitHostPort(req.Host)
	setIfAbsent("X-Forwarded-Port", port)
	setIfAbsent("X-Forwarded-Host", req.Host)
	setIfAbsent("X-Forwarded-Uri", req.URL.RequestURI())
}

// traefikCookies is forwardAuth's response modifier: the Set-Cookie lines
// of the cookies named in addAuthCookiesToResponse come from the auth
// answer, replacing the service's of the same names.
type traefikCookies struct {
	http.ResponseWriter
	auth  []*http.Cookie
	names []string
	done  bool
}

func (w *traefikCookies) WriteHeader(code int) {
	if !w.done {
		w.done = true
		h := w.Header()
		own := (&http.Response{Header: h}).Cookies()
		h.Del("Set-Cookie")
		for _, c := range own {
			if !slices.Contains(w.names, c.Name) {
				h.Add("Set-Cookie", c.String())
			}
		}
		for _, c := range w.auth {
			if slices.Contains(w.names, c.Name) {
				h.Add("Set-Cookie", c.String())
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *traefikCookies) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}
