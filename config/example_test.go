package config_test

import (
	"fmt"
	"os"

	"github.com/apilayer/apilayer/config"
)

func ExampleParse() {
	data := []byte(`
backend:
  url: ${BACKEND_URL:-http://127.0.0.1:8000/api}
validate:
  cacheTTL: 0s        # explicit zero: no validation cache
cookies:
  secure: true
`)
	env := func(string) (string, bool) { return "", false } // no variables set
	c, err := config.Parse("apilayer.yaml", data, env)
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Backend.URL, *c.Validation.CacheTTL, c.Cookies.Secure, c.Cookies.MaxAge)
	// Output: http://127.0.0.1:8000/api/ 0s true 168h0m0s
}

func ExampleParse_errors() {
	data := []byte(`
backend:
  url: http://127.0.0.1:8000/api/
validate:
  cacheTtl: 5s
cookies:
  maxAge: 7 days
`)
	_, err := config.Parse("apilayer.yaml", data, nil)
	fmt.Println(err)
	// Output:
	// apilayer.yaml:5: validate.cacheTtl: unknown key (did you mean cacheTTL?)
	// apilayer.yaml:7: cookies.maxAge: bad duration "7 days" (want a Go duration such as 2s, 1m, 168h)
}

func ExampleConfig_Validate() {
	c := config.Config{
		Upstream: config.Upstream{URL: "http://127.0.0.1:3000", PassAuthorization: true, HideTokens: true},
		Cookies:  config.Cookies{SameSite: "loose"},
	}
	fmt.Println(c.Validate())
	// Output:
	// backend.url: required
	// upstream: passAuthorization and hideTokens cannot both be true
	// cookies.sameSite: must be lax, strict or none (got "loose")
}

func ExampleCheck() {
	code := config.Check("testdata/check/missing_backend_url.yaml", os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// testdata/check/missing_backend_url.yaml:1: backend.url: required
	// exit 1
}
