package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"net/http"
	"slices"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/apiclient"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// post is an item of the backend's GET posts.
type post struct {
	ID     int    `json:"id"`
	Title  string `json:"title"`
	Body   string `json:"body"`
	Author string `json:"author"`
}

// view is what every page template receives.
type view struct {
	Title  string
	Auth   apilayer.Auth // who is asking, as the gateway decided
	Next   string        // login page: where to go after signing in
	Posts  []post
	Stats  map[string]int
	Notice string // a sentence instead of the data (no token, backend error)
}

// Name is the signed-in user's name.
func (v view) Name() string {
	if s, ok := v.Auth.User["name"].(string); ok {
		return s
	}
	return ""
}

// Email is the signed-in user's email.
func (v view) Email() string {
	if s, ok := v.Auth.User["email"].(string); ok {
		return s
	}
	return ""
}

// Roles are the signed-in user's roles.
func (v view) Roles() []string {
	var out []string
	list, _ := v.Auth.User["roles"].([]any)
	for _, r := range list {
		if s, ok := r.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Admin reports whether the user holds the admin role.
func (v view) Admin() bool { return v.Auth.Authenticated && slices.Contains(v.Roles(), "admin") }

// Greeting says hello in the request's locale.
func (v view) Greeting() string {
	if v.Auth.Locale == "tr" {
		return "Merhaba"
	}
	return "Hello"
}

// app is the web app: server-rendered pages that read the identity with
// apilayer.AuthFrom and call the backend with apiclient.
type app struct {
	api   *apiclient.Client
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// newApp parses the templates and routes the pages.
func newApp(api *apiclient.Client) (*app, error) {
	a := &app{api: api, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	for _, name := range []string{"home", "posts", "dashboard", "admin", "login", "notfound"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("gotemplate: template %s: %w", name, err)
		}
		a.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("gotemplate: static: %w", err)
	}
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("GET /posts", a.posts)
	a.mux.HandleFunc("GET /dashboard", a.dashboard)
	a.mux.HandleFunc("GET /admin", a.admin)
	a.mux.HandleFunc("GET /login", a.login)
	a.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.render(w, http.StatusNotFound, "notfound", view{Title: "Not found", Auth: apilayer.AuthFrom(r.Context())})
	})
	return a, nil
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, "home", view{Title: "Home", Auth: apilayer.AuthFrom(r.Context())})
}

// posts lists the backend's posts with the visitor's token: a guest's
// token works too; an anonymous visitor (guest tokens off) has none.
func (a *app) posts(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Posts", Auth: apilayer.AuthFrom(r.Context())}
	v.Posts, v.Notice = a.fetchPosts(r)
	a.render(w, http.StatusOK, "posts", v)
}

// dashboard is protected by the gateway (access.protectedRoutes): only a
// signed-in user gets here.
func (a *app) dashboard(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Dashboard", Auth: apilayer.AuthFrom(r.Context())}
	if !v.Auth.Authenticated {
		// Defence in depth: the gateway already redirected such visitors.
		http.Redirect(w, r, "/login?next=%2Fdashboard", http.StatusSeeOther)
		return
	}
	v.Posts, v.Notice = a.fetchPosts(r)
	a.render(w, http.StatusOK, "dashboard", v)
}

// admin is covered by the gateway's access rule /admin/** (role admin):
// other users get its 403 page and never reach this handler.
func (a *app) admin(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Admin", Auth: apilayer.AuthFrom(r.Context())}
	if !v.Admin() {
		http.Error(w, "Forbidden", http.StatusForbidden) // defence in depth
		return
	}
	res, err := a.api.Get(r.Context(), "admin/stats")
	if err == nil {
		err = res.Decode(&v.Stats)
	}
	if err != nil {
		log.Printf("gotemplate: admin/stats: %v", err)
		v.Notice = "The backend could not be asked for its statistics."
	}
	a.render(w, http.StatusOK, "admin", v)
}

// login shows the sign-in form; static/app.js posts it as JSON to the
// gateway's built-in /api/auth/login, which stores the tokens in httpOnly
// cookies.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, "login", view{Title: "Sign in", Auth: apilayer.AuthFrom(r.Context()), Next: r.URL.Query().Get("next")})
}

// fetchPosts calls GET posts with the request's token and locale, or says
// why there are none.
func (a *app) fetchPosts(r *http.Request) ([]post, string) {
	res, err := a.api.Get(r.Context(), "posts")
	if errors.Is(err, apiclient.ErrNoToken) {
		return nil, "Sign in to read the posts."
	}
	var ps []post
	if err == nil {
		err = res.Decode(&ps)
	}
	if err != nil {
		log.Printf("gotemplate: posts: %v", err)
		return nil, "The posts could not be loaded."
	}
	return ps, ""
}

// contentSecurityPolicy allows the app's own script and stylesheet only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// render executes a page into a buffer first, so that a template error is a
// clean 500 rather than half a page.
func (a *app) render(w http.ResponseWriter, status int, name string, v view) {
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		log.Printf("gotemplate: render %s: %v", name, err)
		http.Error(w, "Internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // the page depends on who asks
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
