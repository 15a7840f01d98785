package forwardauth

import (
	"bytes"
	_ "embed"
	"text/template"
)

//go:embed testdata/Caddyfile
var caddyfile string

// Caddyfile renders the Caddy configuration of docs/forward-auth.md (the
// one the tests run) for a site address (http://host:port) in front of
// the gateway and the web app (host:port each), without Caddy's global
// options: the benchmark runs it as users would.
func Caddyfile(site, gateway, app string) (string, error) {
	t, err := template.New("Caddyfile").Option("missingkey=error").Parse(caddyfile)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	err = t.Execute(&b, struct{ Site, Gateway, App string }{site, gateway, app})
	return b.String(), err
}
