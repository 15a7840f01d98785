package access_test

import (
	"testing"

	"github.com/apilayer/apilayer/access"
	"github.com/apilayer/apilayer/config"
)

// BenchmarkDecide is the access decision of the pipeline's hot path, for
// the common states of a page or API request.
func BenchmarkDecide(b *testing.B) {
	p, err := access.New(config.Access{
		ProtectedRoutes: []string{"/dashboard", "/account", "/settings"},
		AuthRoutes:      []string{"/login", "/register"},
		PublicRoutes:    []string{"/about"},
		LoginPath:       "/login",
		HomePath:        "/",
		Rules:           []config.Rule{{Path: "/admin/**", Roles: []string{"admin"}, RolesField: "/roles"}},
	}, "/_apilayer/health")
	if err != nil {
		b.Fatal(err)
	}
	admin := map[string]any{"id": "1", "roles": []any{"admin", "user"}}
	for _, bc := range []struct {
		name string
		req  access.Request
		want access.Action
	}{
		{"user on a protected page", access.Request{Path: "/dashboard/reports", State: access.User, TokenType: "user"}, access.Forward},
		{"anonymous on a protected page", access.Request{Path: "/dashboard", State: access.Anonymous}, access.Redirect},
		{"guest on a public page", access.Request{Path: "/about", State: access.Guest, TokenType: "guest"}, access.Forward},
		{"admin rule", access.Request{Path: "/admin/users", State: access.User, TokenType: "user", User: admin}, access.Forward},
		{"API user", access.Request{Path: "/api/posts", API: true, State: access.User, TokenType: "user"}, access.Forward},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := p.Decide(bc.req); d.Action != bc.want {
					b.Fatalf("action %v, want %v", d.Action, bc.want)
				}
			}
		})
	}
}
