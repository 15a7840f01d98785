package forwardauth

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The CRD form of the Traefik configuration (testdata/traefik-crd.yaml, in
// docs/forward-auth.md) configures its middlewares exactly as the file
// form the tests run, and routes the same way.
func TestTraefikCRDMatchesTheTestedFile(t *testing.T) {
	file := parseTraefik(t, render(t, "traefik.yml", docAddrs))
	crd := render(t, "traefik-crd.yaml", docAddrs)
	d := yaml.NewDecoder(strings.NewReader(crd))
	found := map[string]bool{}
	for {
		var doc struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			Spec yaml.Node `yaml:"spec"`
		}
		err := d.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		found[doc.Kind+"/"+doc.Metadata.Name] = true
		switch doc.Kind {
		case "Middleware":
			var mw traefikMiddleware
			if err := doc.Spec.Decode(&mw); err != nil {
				t.Fatal(err)
			}
			want := file.HTTP.Middlewares[doc.Metadata.Name]
			if mw.ForwardAuth != nil {
				mw.ForwardAuth.Address = want.ForwardAuth.Address // a Service's address in a cluster
			}
			if !reflect.DeepEqual(mw, want) {
				t.Errorf("Middleware %s = %+v, want the tested file's %+v", doc.Metadata.Name, mw, want)
			}
		case "IngressRoute":
			var ir struct {
				Routes []struct {
					Match       string `yaml:"match"`
					Middlewares []struct {
						Name string `yaml:"name"`
					} `yaml:"middlewares"`
					Services []struct {
						Name string `yaml:"name"`
					} `yaml:"services"`
				} `yaml:"routes"`
			}
			if err := doc.Spec.Decode(&ir); err != nil {
				t.Fatal(err)
			}
			for name, r := range file.HTTP.Routers {
				ok := false
				for _, cr := range ir.Routes {
					var mws []string
					for _, m := range cr.Middlewares {
						mws = append(mws, m.Name)
					}
					prefix := strings.TrimPrefix(r.Rule, "PathPrefix(`")
					prefix = strings.TrimSuffix(prefix, "`)")
					inMatch := strings.Contains(cr.Match, r.Rule) || (prefix == "/" && !strings.Contains(cr.Match, "PathPrefix"))
					if inMatch && len(cr.Services) == 1 && cr.Services[0].Name == r.Service && reflect.DeepEqual(mws, r.Middlewares) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("the IngressRoute has no route like the file's router %s (%s, %v, %s)", name, r.Rule, r.Middlewares, r.Service)
				}
			}
		}
	}
	for _, want := range []string{"Middleware/apilayer", "Middleware/strip-identity", "IngressRoute/site"} {
		if !found[want] {
			t.Errorf("testdata/traefik-crd.yaml has no %s", want)
		}
	}
}
