package route_test

import (
	"fmt"

	"github.com/apilayer/apilayer/route"
)

func ExampleClean() {
	for _, p := range []string{
		"/%61dmin/./users//",   // unreserved escape, dot segment, double slash
		"/public%2f..%2fadmin", // escaped slashes are separators
		"/files/%252e%252e",    // decoded once only
		"/caf%c3%a9",           // other escapes kept, hex in upper case
		"/%2e%2e/etc/passwd",   // climbs above the root: refused (400)
		"/a%00b",               // control byte: refused
	} {
		cleaned, ok := route.Clean(p)
		fmt.Printf("%-22s %q %v\n", p, cleaned, ok)
	}
	// Output:
	// /%61dmin/./users//     "/admin/users/" true
	// /public%2f..%2fadmin   "/admin" true
	// /files/%252e%252e      "/files/%252e%252e" true
	// /caf%c3%a9             "/caf%C3%A9" true
	// /%2e%2e/etc/passwd     "" false
	// /a%00b                 "" false
}

func ExampleGlob() {
	admin := route.MustCompileGlob("/admin/**")
	news := route.MustCompileGlob("news/*") // relative to api.prefix

	fmt.Println(admin.Match("/admin"), admin.Match("/admin/users/1"), admin.Match("/administrator"))

	rest, _ := route.Trim("/api/news/42", "/api")
	fmt.Println(rest, news.Match(rest), news.Match("news/42/comments"))
	// Output:
	// true true false
	// news/42 true false
}

func ExampleList() {
	protected := route.NewList([]string{"/dashboard", "/settings/"})
	fmt.Println(protected.Match("/dashboard/stats"), protected.Match("/settings"), protected.Match("/dashboards"))
	// Output: true true false
}

func ExampleUnder() {
	fmt.Println(route.Under("/api/news", "/api"), route.Under("/apiary", "/api"))
	// Output: true false
}

func ExampleOptions() {
	fold := route.Options{CaseInsensitive: true} // access.caseInsensitive
	protected := fold.NewList([]string{"/dashboard"})
	admin, _ := fold.CompileGlob("/admin/**")
	fmt.Println(protected.Match("/Dashboard/stats"), admin.Match("/ADMIN/users"), route.NewList([]string{"/dashboard"}).Match("/Dashboard"))
	// Output: true true false
}
