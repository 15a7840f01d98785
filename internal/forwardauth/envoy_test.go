package forwardauth

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// envoy is a Go rendition of what Envoy does with testdata/envoy.yaml: the
// HTTP connection manager (use_remote_address, headers_with_underscores_
// action, prefix routes, request_headers_to_remove, a per-route
// ext_authz switch) and the ext_authz filter with an HTTP service, each
// step as Envoy's source implements it
// (source/extensions/filters/common/ext_authz/ext_authz_http_impl.cc).
type envoy struct {
	underscores string // headers_with_underscores_action
	remoteAddr  bool   // use_remote_address
	routes      []envoyRoute
	authz       envoyAuthz
	clusters    map[string]string // name -> host:port
}

type envoyRoute struct {
	prefix, cluster string
	authzOff        bool
	remove          []string
}

type envoyAuthz struct {
	cluster       string
	timeout       time.Duration
	pathPrefix    string
	statusOnError int
	allowed       matchers // allowed_headers: what the check request carries
	upstream      matchers // allowed_upstream_headers: set on the request
	client        matchers // allowed_client_headers: on a denial
	clientOK      matchers // allowed_client_headers_on_success
}

// matchers is a ListStringMatcher on lower-case header names (exact and
// prefix: what testdata/envoy.yaml uses).
type matchers []struct{ exact, prefix string }

func (m matchers) match(name string) bool {
	name = strings.ToLower(name)
	for _, p := range m {
		if (p.exact != "" && name == p.exact) || (p.prefix != "" && strings.HasPrefix(name, p.prefix)) {
			return true
		}
	}
	return false
}

// node walks a decoded YAML document; a missing key fails the test.
type node struct {
	t    testing.TB
	path string
	v    any
}

func (n node) get(keys ...string) node {
	n.t.Helper()
	for _, k := range keys {
		m, ok := n.v.(map[string]any)
		if !ok {
			n.t.Fatalf("envoy.yaml: %s is not a map", n.path)
		}
		v, ok := m[k]
		if !ok {
			n.t.Fatalf("envoy.yaml: no %s.%s", n.path, k)
		}
		n = node{n.t, n.path + "." + k, v}
	}
	return n
}

func (n node) has(key string) bool {
	m, ok := n.v.(map[string]any)
	_, found := m[key]
	return ok && found
}

func (n node) list() []node {
	n.t.Helper()
	l, ok := n.v.([]any)
	if !ok {
		n.t.Fatalf("envoy.yaml: %s is not a list", n.path)
	}
	out := make([]node, len(l))
	for i, v := range l {
		out[i] = node{n.t, fmt.Sprintf("%s[%d]", n.path, i), v}
	}
	return out
}

func (n node) str() string { return fmt.Sprint(n.v) }

func (n node) matchers() matchers {
	var m matchers
	for _, p := range n.get("patterns").list() {
		pm, _ := p.v.(map[string]any)
		e, _ := pm["exact"].(string)
		pre, _ := pm["prefix"].(string)
		if len(pm) != 1 || e == "" && pre == "" {
			n.t.Fatalf("envoy.yaml: %s: only exact and prefix matchers are rendered here", p.path)
		}
		m = append(m, struct{ exact, prefix string }{e, pre})
	}
	return m
}

// envoyStatus maps the HttpStatus codes testdata/envoy.yaml may name.
var envoyStatus = map[string]int{"Forbidden": 403, "ServiceUnavailable": 503, "InternalServerError": 500}

func parseEnvoy(t testing.TB, doc string) *envoy {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("envoy.yaml: %v", err)
	}
	root := node{t, "", v}
	e := &envoy{clusters: map[string]string{}}
	lis := root.get("static_resources", "listeners").list()
	if len(lis) != 1 {
		t.Fatal("envoy.yaml: one listener")
	}
	hcm := lis[0].get("filter_chains").list()[0].get("filters").list()[0].get("typed_config")
	e.remoteAddr = hcm.get("use_remote_address").v == true
	e.underscores = hcm.get("common_http_protocol_options", "headers_with_underscores_action").str()
	for _, r := range hcm.get("route_config", "virtual_hosts").list()[0].get("routes").list() {
		rt := envoyRoute{prefix: r.get("match", "prefix").str(), cluster: r.get("route", "cluster").str()}
		if r.has("typed_per_filter_config") {
			rt.authzOff = r.get("typed_per_filter_config", "envoy.filters.http.ext_authz", "disabled").v == true
		}
		if r.has("request_headers_to_remove") {
			for _, h := range r.get("request_headers_to_remove").list() {
				rt.remove = append(rt.remove, h.str())
			}
		}
		e.routes = append(e.routes, rt)
	}
	filters := hcm.get("http_filters").list()
	if len(filters) != 2 || filters[0].get("name").str() != "envoy.filters.http.ext_authz" || filters[1].get("name").str() != "envoy.filters.http.router" {
		t.Fatal("envoy.yaml: http_filters: ext_authz then the router")
	}
	ea := filters[0].get("typed_config")
	e.authz.statusOnError = envoyStatus[ea.get("status_on_error", "code").str()]
	e.authz.allowed = ea.get("allowed_headers").matchers()
	svc := ea.get("http_service")
	e.authz.cluster = svc.get("server_uri", "cluster").str()
	d, err := time.ParseDuration(svc.get("server_uri", "timeout").str())
	if err != nil {
		t.Fatal(err)
	}
	e.authz.timeout = d
	e.authz.pathPrefix = svc.get("path_prefix").str()
	resp := svc.get("authorization_response")
	e.authz.upstream = resp.get("allowed_upstream_headers").matchers()
	e.authz.client = resp.get("allowed_client_headers").matchers()
	e.authz.clientOK = resp.get("allowed_client_headers_on_success").matchers()
	for _, c := range root.get("static_resources", "clusters").list() {
		sa := c.get("load_assignment", "endpoints").list()[0].get("lb_endpoints").list()[0].get("endpoint", "address", "socket_address")
		e.clusters[c.get("name").str()] = net.JoinHostPort(sa.get("address").str(), sa.get("port_value").str())
	}
	return e
}

// startEnvoy serves the rendition of testdata/envoy.yaml (changed by edit)
// in front of f and returns its base URL.
func startEnvoy(t *testing.T, f *fixture, edit func(string) string) string {
	t.Helper()
	e := parseEnvoy(t, edit(render(t, "envoy.yaml", newAddrs(f, "127.0.0.1:0"))))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL
}

func (e *envoy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The connection manager: names with "_", hop-by-hop headers, the
	// forwarded headers of an edge proxy, a request ID.
	for k := range r.Header {
		if strings.Contains(k, "_") {
			switch e.underscores {
			case "REJECT_REQUEST":
				http.Error(w, "", http.StatusBadRequest)
				return
			case "DROP_HEADER":
				delete(r.Header, k)
			}
		}
	}
	for _, h := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"} {
		r.Header.Del(h)
	}
	if e.remoteAddr {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
			ip = prior + "," + ip
		}
		r.Header.Set("X-Forwarded-For", ip)
		r.Header.Set("X-Forwarded-Proto", "http")
		// preserve_external_request_id is false: an edge proxy makes its own.
		r.Header.Set("X-Request-Id", newRequestID())
	}
	var route *envoyRoute
	for i := range e.routes {
		if strings.HasPrefix(r.URL.Path, e.routes[i].prefix) {
			route = &e.routes[i]
			break
		}
	}
	if route == nil {
		http.NotFound(w, r)
		return
	}
	var onSuccess http.Header
	if !route.authzOff {
		ok, extra := e.check(w, r)
		if !ok {
			return
		}
		onSuccess = extra
	}
	for _, h := range route.remove {
		r.Header.Del(h)
	}
	target := &url.URL{Scheme: "http", Host: e.clusters[route.cluster]}
	(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
		},
		ModifyResponse: func(res *http.Response) error {
			for k, vs := range onSuccess {
				res.Header[k] = append(res.Header[k], vs...) // appended, as Envoy does
			}
			return nil
		},
	}).ServeHTTP(w, r)
}

// check is the ext_authz filter with an HTTP service. It reports whether
// the request goes on, and the headers to add to the client's response.
func (e *envoy) check(w http.ResponseWriter, r *http.Request) (bool, http.Header) {
	a := e.authz
	// The check request: the original method, path_prefix + the path, the
	// allowed headers plus Host, Authorization and Content-Length: 0.
	cr, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+e.clusters[a.cluster]+a.pathPrefix+r.URL.RequestURI(), nil)
	if err != nil {
		e.deny(w, a.statusOnError, nil, nil)
		return false, nil
	}
	cr.Host = r.Host
	for k, vs := range r.Header {
		if a.allowed.match(k) || strings.EqualFold(k, "Authorization") {
			cr.Header[k] = append([]string(nil), vs...)
		}
	}
	cr.ContentLength = 0
	client := &http.Client{Timeout: a.timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(cr)
	if err != nil {
		e.deny(w, a.statusOnError, nil, nil)
		return false, nil
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	switch {
	case res.StatusCode/100 == 5:
		// An error: status_on_error, with nothing of the answer.
		e.deny(w, a.statusOnError, nil, nil)
		return false, nil
	case res.StatusCode != http.StatusOK:
		// Denied (any status but 200, 2xx included): the status, the body,
		// the allowed client headers and Envoy's defaults.
		hdr := http.Header{}
		for k, vs := range res.Header {
			if a.client.match(k) || slicesContainsFold([]string{"Location", "Www-Authenticate", "Content-Length"}, k) {
				hdr[k] = vs
			}
		}
		e.deny(w, res.StatusCode, hdr, body)
		return false, nil
	}
	// OK: allowed_upstream_headers set on the request (replacing);
	// allowed_client_headers_on_success for the response.
	extra := http.Header{}
	for k, vs := range res.Header {
		if a.upstream.match(k) {
			r.Header[k] = append([]string(nil), vs...)
		}
		if a.clientOK.match(k) {
			extra[k] = vs
		}
	}
	return true, extra
}

func (e *envoy) deny(w http.ResponseWriter, status int, h http.Header, body []byte) {
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
	w.Write(body)
}

func slicesContainsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// newRequestID is an x-request-id as Envoy makes them (a UUID).
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
