package initcmd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apilayer/apilayer/internal/initcmd"
)

// Run answers the questions from any io.Reader, one line per answer (here,
// not migrating from next-api-layer, Go (Gin, Echo...) with the default
// URLs, no i18n, no guest tokens, and /dashboard protected).
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "apilayer-init")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "apilayer.yaml")
	answers := strings.NewReader("n\n6\n\n\nn\nn\n/dashboard\n\n")
	err := initcmd.Run(context.Background(), initcmd.Options{In: answers, Path: path})
	fmt.Println(err)
	data, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "  protectedRoutes:") || strings.HasPrefix(l, "  url:") {
			fmt.Println(l)
		}
	}
	// Output:
	// <nil>
	//   url: "${API_BASE_URL:-http://127.0.0.1:8000/api/}"
	//   url: "http://127.0.0.1:3000"
	//   protectedRoutes: ["/dashboard"]
}

// Render writes the commented YAML for a set of answers.
func ExampleRender() {
	a := initcmd.DefaultAnswers()
	a.Framework = "rails"
	out, err := initcmd.Render(a)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "methodSpoofing") {
			fmt.Println(strings.TrimSpace(l))
		}
	}
	// Output:
	// methodSpoofing: {enabled: true, strategy: header, fieldName: _method}
}
