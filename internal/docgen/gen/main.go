// Command gen writes docs/configuration.md from the config package (see
// package docgen). It is run by "go generate ./internal/docgen".
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/apilayer/apilayer/internal/docgen"
)

func main() {
	dir := flag.String("config", "config", "the config package's folder")
	out := flag.String("out", "docs/configuration.md", "the file to write")
	flag.Parse()
	b, err := docgen.ConfigReference(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
