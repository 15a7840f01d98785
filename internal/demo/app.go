package demo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"log"
	"net/http"
	"slices"
)

// The request headers the gateway sets for the web app
// (docs/how-it-works.md#what-the-web-app-receives).
const (
	headerAuthUser  = "X-Auth-User"
	headerTokenType = "X-Auth-Token-Type"
	headerRequestID = "X-Request-ID"
)

// maxAuthUser bounds the X-Auth-User header the app decodes; the gateway
// keeps it under 16 KiB.
const maxAuthUser = 32 << 10

// viewer is who the gateway says the visitor is.
type viewer struct {
	User      map[string]any // the decoded X-Auth-User; nil when absent or unreadable
	TokenType string         // user | guest | another type; "" when anonymous
	RequestID string
}

// viewerOf reads the gateway's identity headers. It reads nothing else: no
// cookie, no token.
func viewerOf(r *http.Request) viewer {
	v := viewer{TokenType: r.Header.Get(headerTokenType), RequestID: r.Header.Get(headerRequestID)}
	if enc := r.Header.Get(headerAuthUser); enc != "" && len(enc) <= maxAuthUser {
		if raw, err := base64.StdEncoding.DecodeString(enc); err == nil {
			var u map[string]any
			if json.Unmarshal(raw, &u) == nil {
				v.User = u
			}
		}
	}
	if v.User != nil && v.TokenType == "" {
		v.TokenType = TypeUser
	}
	if v.User == nil && v.TokenType != TypeGuest {
		v.TokenType = ""
	}
	return v
}

// Guest reports whether the visitor holds a guest token.
func (v viewer) Guest() bool { return v.TokenType == TypeGuest }

// SignedIn reports whether the visitor holds a valid non-guest token.
func (v viewer) SignedIn() bool { return v.User != nil && !v.Guest() }

// Name is the display name of a signed-in visitor.
func (v viewer) Name() string {
	for _, k := range []string{"name", "email", "username"} {
		if s, ok := v.User[k].(string); ok && s != "" {
			return s
		}
	}
	if id, ok := v.User["id"]; ok {
		b, _ := json.Marshal(id)
		return string(b)
	}
	return "someone"
}

// Roles are the roles of a signed-in visitor ("roles" list or "role").
func (v viewer) Roles() []string {
	var out []string
	if list, ok := v.User["roles"].([]any); ok {
		for _, r := range list {
			if s, ok := r.(string); ok {
				out = append(out, s)
			}
		}
	}
	if s, ok := v.User["role"].(string); ok && s != "" && !slices.Contains(out, s) {
		out = append(out, s)
	}
	return out
}

// Admin reports whether a signed-in visitor has the admin role.
func (v viewer) Admin() bool { return v.SignedIn() && slices.Contains(v.Roles(), "admin") }

// initialData is what the React app starts from: the page and the identity
// the gateway handed this request. It is rendered as JSON in the page.
type initialData struct {
	Page      string         `json:"page"`
	User      map[string]any `json:"user"`
	TokenType string         `json:"tokenType"`
	RequestID string         `json:"requestId"`
}

// pageData is what the page template receives.
type pageData struct {
	Title   string
	V       viewer
	Initial initialData
}

// NewApp returns the demo web app: the pages /, /login, /dashboard and
// /admin, each a small server-rendered shell (the visitor's name, for
// readers without JavaScript) that loads the React app built with
// @apilayer/react from /assets/ (embedded, see web/dist) and hands it the
// identity the gateway set in X-Auth-User, X-Auth-Token-Type and
// X-Request-ID as its initial user.
//
// The app believes those headers without question, so it must only be
// reachable through the gateway, which removes any client-sent copy of them.
func NewApp() http.Handler {
	mux := http.NewServeMux()
	page := func(name, title string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			render(w, http.StatusOK, name, title, viewerOf(r))
		}
	}
	mux.HandleFunc("GET /{$}", page("home", "Home"))
	mux.HandleFunc("GET /login", page("login", "Sign in"))
	mux.HandleFunc("GET /dashboard", func(w http.ResponseWriter, r *http.Request) {
		v := viewerOf(r)
		if !v.SignedIn() {
			// The gateway protects /dashboard; this is defence in depth.
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		render(w, http.StatusOK, "dashboard", "Dashboard", v)
	})
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		v := viewerOf(r)
		switch {
		case !v.SignedIn():
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		case !v.Admin():
			render(w, http.StatusForbidden, "forbidden", "Forbidden", v)
		default:
			render(w, http.StatusOK, "admin", "Admin", v)
		}
	})
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", assets()))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		render(w, http.StatusNotFound, "notfound", "Not found", viewerOf(r))
	})
	return mux
}

// render writes the page shell with the security headers of an HTML page
// that depends on who is asking.
func render(w http.ResponseWriter, status int, name, title string, v viewer) {
	d := pageData{Title: title, V: v, Initial: initialData{Page: name, TokenType: v.TokenType, RequestID: v.RequestID}}
	switch {
	case v.User != nil:
		d.Initial.User = v.User
	case v.Guest():
		d.Initial.User = map[string]any{"name": "Guest", "type": TypeGuest}
	}
	var buf bytes.Buffer
	if err := shell.Execute(&buf, d); err != nil {
		log.Printf("demo: render %s: %v", name, err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// contentSecurityPolicy allows only the embedded bundle: no inline script
// runs (the initial data is an inert application/json block).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

var shell = template.Must(template.New("shell").Parse(shellTemplate))
