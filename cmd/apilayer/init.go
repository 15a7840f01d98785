package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/apilayer/apilayer/internal/initcmd"
)

// runInit implements "apilayer init [--yes] [--force] [--out FILE]": the
// questions are asked on stdout and answered on stdin, one line each.
// Ctrl-C (SIGINT) or the end of stdin before the last answer cancels the
// setup, and nothing is written.
func runInit(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	yes := fs.Bool("yes", false, "take every default without prompting")
	force := fs.Bool("force", false, "overwrite FILE if it exists")
	out := fs.String("out", "apilayer.yaml", "the config file to write")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "apilayer init: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := initcmd.Run(ctx, initcmd.Options{In: stdin, Out: stdout, Path: *out, Yes: *yes, Force: *force})
	switch {
	case err == nil:
		return 0
	case errors.Is(err, initcmd.ErrCanceled):
		fmt.Fprintln(stdout)
		fmt.Fprintln(stderr, "Setup cancelled; nothing was written.")
	case errors.Is(err, initcmd.ErrExists):
		fmt.Fprintf(stderr, "apilayer init: %s already exists; use --force to overwrite it\n", *out)
	default:
		fmt.Fprintln(stderr, "apilayer init:", err)
	}
	return 1
}
