// Command apilayer is the auth gateway: it keeps JWTs in httpOnly cookies,
// validates and refreshes them against the backend, and proxies the web app
// and the backend API. Run "apilayer help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/apilayer/apilayer"
	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/healthcheck"
	"github.com/apilayer/apilayer/internal/launch"
	"github.com/apilayer/apilayer/internal/probe"
	"github.com/apilayer/apilayer/internal/version"
	"github.com/apilayer/apilayer/redisstore"
	"github.com/apilayer/apilayer/tracing"
)

const usage = `apilayer: an auth gateway for web apps with an external JWT backend

Usage:
  apilayer serve   [--config FILE]   run the gateway
  apilayer demo    [--listen :8080] [--validate backend|local]
                                     run a demo backend and web app behind the gateway
  apilayer check   [--config FILE] [--probe [--probe-login USER:PASSWORD]]
                                     validate a config and print it resolved; --probe
                                     also calls the backend and checks backend.mapping
  apilayer init    [--yes] [--force] [--out FILE]
                                     write a commented apilayer.yaml from a few questions
  apilayer healthcheck [--url URL] [--config FILE] [--timeout 5s]
                                     GET the health endpoint: exit 0 on 200, else 1
  apilayer version                   print the version, VCS revision and Go version

--config defaults to $APILAYER_CONFIG, then ./apilayer.yaml.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(args, stderr)
	case "check":
		return check(args, stdout, stderr)
	case "demo":
		return runDemo(args, stdout, stderr)
	case "init":
		return runInit(args, os.Stdin, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(args, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprint(stdout, version.Get())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "apilayer: unknown command %q\n\n%s", cmd, usage)
	return 2
}

func configFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("APILAYER_CONFIG")
	if def == "" {
		def = "apilayer.yaml"
	}
	return fs.String("config", def, "config file")
}

// missingConfig reports whether the config file at path does not exist,
// after telling how to make one: the first run of "apilayer serve" lands
// here.
func missingConfig(fs *flag.FlagSet, path string, stderr io.Writer) bool {
	if _, err := os.Stat(path); !errors.Is(err, iofs.ErrNotExist) {
		return false // there, or another error that config reports
	}
	explicit := os.Getenv("APILAYER_CONFIG") != ""
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	if explicit {
		fmt.Fprintf(stderr, "apilayer: the config file %s does not exist.\n"+
			"  Write it:  apilayer init --out %s\n", path, path)
		return true
	}
	fmt.Fprintf(stderr, "apilayer: no config file: ./%s does not exist, and neither --config nor $APILAYER_CONFIG names one.\n"+
		"  Write one with a few questions:  apilayer init\n"+
		"  Or use yours:                    apilayer %s --config FILE (or APILAYER_CONFIG=FILE)\n"+
		"  Or try the gateway without one:  apilayer demo\n", path, fs.Name())
	return true
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if missingConfig(fs, *path, stderr) {
		return 1
	}
	cfg, err := config.Resolve(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	log := apilayer.NewLogger(cfg.Log, stderr)
	if cfg.Store.Driver == "redis" {
		redisstore.SetDriverLogger(log.With("component", "redis")) // go-redis logs process-wide
	}
	gw, err := apilayer.New(*cfg, apilayer.WithLogger(log), apilayer.WithTracing(tracing.Build))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	srv := apilayer.NewServer(gw)
	defer srv.Close()
	// SIGHUP reads the config file again (docs/deployment.md#reload).
	stopReloads := launch.OnHangup(func() {
		log.Info("apilayer: SIGHUP: reloading", "config", *path)
		srv.Reload(func() (*config.Config, error) { return config.Resolve(*path) }) // logs its outcome
	})
	defer stopReloads()
	ctx, stop := launch.Drain(context.Background(), func(sig os.Signal) {
		log.Error("apilayer: second signal during the drain: exiting now", "signal", sig.String())
	})
	defer stop()
	if err := srv.ListenAndServe(ctx); err != nil {
		log.Error("apilayer stopped", "err", err.Error())
		return 1
	}
	return 0
}

func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	doProbe := fs.Bool("probe", false, "also call the backend and show which backend.mapping pointers match its answers")
	login := fs.String("probe-login", "", "with --probe, also log in: user:password or a JSON body (default $"+probe.LoginEnv+")")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if missingConfig(fs, *path, stderr) {
		return 1
	}
	if code := config.Check(*path, stdout, stderr); code != 0 || (!*doProbe && *login == "") {
		return code
	}
	cfg, err := config.Resolve(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *login == "" {
		*login = os.Getenv(probe.LoginEnv)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(stdout)
	if problems := probe.Run(ctx, cfg, probe.Options{Login: *login}, stdout); len(problems) > 0 {
		return 1
	}
	return 0
}

func runHealthcheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rawURL := fs.String("url", "", "health endpoint URL (default: from the config's listen, tls and health.path, else "+healthcheck.DefaultURL+")")
	path := fs.String("config", "", "config file giving the URL (default $APILAYER_CONFIG, then ./apilayer.yaml when it exists)")
	timeout := fs.Duration("timeout", healthcheck.DefaultTimeout, "bound on the whole check")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "apilayer healthcheck: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	target, skipVerify := *rawURL, false
	if target == "" {
		// An explicit config must load; ./apilayer.yaml only when present.
		p := *path
		if p == "" {
			p = os.Getenv("APILAYER_CONFIG")
		}
		if p == "" {
			if _, err := os.Stat("apilayer.yaml"); err == nil {
				p = "apilayer.yaml"
			}
		}
		target = healthcheck.DefaultURL
		if p != "" {
			cfg, err := config.Resolve(p)
			if err != nil {
				fmt.Fprintln(stderr, "apilayer healthcheck:", strings.ReplaceAll(err.Error(), "\n", "; "))
				return 1
			}
			if target, err = healthcheck.URLFor(cfg); err != nil {
				fmt.Fprintln(stderr, "apilayer", err)
				return 1
			}
			skipVerify = true // a loopback address: see healthcheck.Options.SkipVerify
		}
	}
	res, err := healthcheck.Check(context.Background(), target, healthcheck.Options{Timeout: *timeout, SkipVerify: skipVerify})
	if err != nil {
		fmt.Fprintln(stderr, "apilayer", err)
		return 1
	}
	fmt.Fprintln(stdout, res.Status, res.Body)
	return 0
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "gateway address")
	validate := fs.String("validate", "backend", "validate.mode of the demo gateway: backend or local (EdDSA JWTs checked against the demo backend's JWKS)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := launch.Drain(context.Background(), func(sig os.Signal) {
		fmt.Fprintf(stderr, "apilayer demo: second signal (%s) during the drain: exiting now\n", sig)
	})
	defer stop()
	err := launch.Demo(ctx, launch.DemoOptions{Listen: *listen, Out: stdout, Log: stderr, Validate: *validate})
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "apilayer demo:", err)
		return 1
	}
	return 0
}
