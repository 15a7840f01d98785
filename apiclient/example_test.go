package apiclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/apilayer/apilayer/apiclient"
	"github.com/apilayer/apilayer/sanitize"
)

// exampleBackend is a tiny JWT backend: GET posts for a valid token,
// POST posts validates its body.
func exampleBackend() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer user-token" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"success":false,"message":"Unauthenticated."}`)
			return
		}
		switch r.Method {
		case http.MethodGet:
			io.WriteString(w, `{"success":true,"data":[{"id":1,"title":"Hello (`+r.URL.Query().Get("lang")+`)"}]}`)
		default:
			w.WriteHeader(http.StatusUnprocessableEntity)
			io.WriteString(w, `{"success":false,"message":"Invalid.","errors":{"title":["The title is required."]}}`)
		}
	}))
}

func ExampleNew() {
	backend := exampleBackend()
	defer backend.Close()

	api, err := apiclient.New(apiclient.Config{
		BaseURL: backend.URL + "/api/",
		Timeout: 5 * time.Second,
		// Behind the gateway, leave TokenFrom nil: the token comes from
		// authn.FromContext(ctx). Here the token is fixed for the example.
		TokenFrom:  func(context.Context) string { return "user-token" },
		LocaleFrom: func(context.Context) string { return "tr" },
		Retry:      apiclient.Retry{Enabled: true, MaxAttempts: 3, Jitter: 0.2},
		Dedupe:     apiclient.Dedupe{Enabled: true},
	})
	if err != nil {
		panic(err)
	}
	defer api.Close()

	res, err := api.Get(context.Background(), "posts")
	fmt.Println(res.Status, string(res.Data), err)
	// Output:
	// 200 [{"id":1,"title":"Hello (tr)"}] <nil>
}

type tokenKey struct{}

func ExampleClient_Get() {
	backend := exampleBackend()
	defer backend.Close()
	api, _ := apiclient.New(apiclient.Config{
		BaseURL:   backend.URL + "/api/",
		TokenFrom: func(ctx context.Context) string { s, _ := ctx.Value(tokenKey{}).(string); return s },
	})
	defer api.Close()

	// Inside a handler, pass r.Context(). Without a token the backend is
	// not called.
	_, err := api.Get(context.Background(), "posts")
	fmt.Println(errors.Is(err, apiclient.ErrNoToken), err)

	ctx := context.WithValue(context.Background(), tokenKey{}, "user-token")
	res, err := api.Get(ctx, "posts")
	fmt.Println(res.Success, err)
	// Output:
	// true apiclient: GET posts: no_token
	// true <nil>
}

func ExampleResponse_Decode() {
	backend := exampleBackend()
	defer backend.Close()
	api, _ := apiclient.New(apiclient.Config{
		BaseURL:   backend.URL + "/api/",
		TokenFrom: func(context.Context) string { return "user-token" },
	})
	defer api.Close()

	res, err := api.Get(context.Background(), "posts")
	if err != nil {
		panic(err)
	}
	var posts []struct {
		ID    int    `json:"id"`
		Title string `json:"title"`
	}
	if err := res.Decode(&posts); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", posts)
	// Output:
	// [{ID:1 Title:Hello ()}]
}

func ExampleValidationError() {
	backend := exampleBackend()
	defer backend.Close()
	api, _ := apiclient.New(apiclient.Config{
		BaseURL:   backend.URL + "/api/",
		TokenFrom: func(context.Context) string { return "user-token" },
	})
	defer api.Close()

	_, err := api.Post(context.Background(), "posts", map[string]string{"title": ""})
	var ve *apiclient.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.HTTP.Status, ve.FirstMessage(), ve.Fields)
	}
	fmt.Println(apiclient.IsRetryable(err))
	// Output:
	// 422 The title is required. map[title:[The title is required.]]
	// false
}

func ExampleNewForm() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseMultipartForm(1 << 20)
		_, fh, _ := r.FormFile("photo")
		fmt.Printf("caption=%q photo=%s (%d bytes)\n", r.FormValue("caption"), fh.Filename, fh.Size)
		w.WriteHeader(http.StatusCreated)
	}))
	defer backend.Close()
	// Text fields are sanitized when a Sanitizer is set: here one that
	// strips every tag, as next-api-layer's client did by default.
	san, _ := sanitize.New(sanitize.Options{})
	api, _ := apiclient.New(apiclient.Config{
		BaseURL:   backend.URL,
		TokenFrom: func(context.Context) string { return "user-token" },
		Sanitizer: san,
	})
	defer api.Close()

	form := apiclient.NewForm().
		Add("caption", "<b>Sunset</b><script>steal()</script>").
		AddFile("photo", "sunset.jpg", "image/jpeg", []byte("...jpeg bytes..."))
	res, err := api.Post(context.Background(), "uploads", form)
	fmt.Println(res.Status, err)
	// Output:
	// caption="Sunset" photo=sunset.jpg (16 bytes)
	// 201 <nil>
}
