package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// settings are the knobs of one harness run.
type settings struct {
	quick    bool
	rounds   int           // A B A B rounds of the throughput setups
	duration time.Duration // measured part of each throughput run
	warmup   time.Duration // unmeasured start of each throughput run
	conns    int           // concurrency of the throughput runs
	latRate  int           // requests per second of the latency runs
	latDur   time.Duration // length of each latency run
	latRound int           // rounds of latency runs
	storms   int           // tokens per storm check
	stormN   int           // concurrent requests per token in a storm
	sessions int           // sessions for the memory-per-session figure
	out      string        // markdown results file, if set
	profile  string        // folder for the gateways' profiles, if set
	chaos    bool          // run the chaos suite instead of the benchmark
	apilayer string        // the chaos suite's gateway binary; "" builds ./cmd/apilayer
}

// maxPerRun bounds the requests of any single run, whatever its duration.
const maxPerRun = 5_000_000

func main() {
	if len(os.Args) > 2 && os.Args[1] == roleArg {
		if err := runRole(os.Args[2], os.Args[3:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	s, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	run := harness
	if s.chaos {
		run = runChaos
	}
	if err := run(ctx, s, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// parseFlags reads the command line; -quick changes the defaults of the
// other flags, which still override it.
func parseFlags(args []string, stderr io.Writer) (settings, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "a short run (about a minute): fewer, shorter rounds, no caddy; with -chaos, under 2 minutes")
	rounds := fs.Int("rounds", 0, "throughput rounds (default 5, quick 2)")
	duration := fs.Duration("duration", 0, "measured length of each throughput run (default 6s, quick 1s)")
	conns := fs.Int("conns", 32, "concurrent keep-alive connections of the throughput runs")
	latRate := fs.Int("latency-rate", 400, "requests per second of the latency runs")
	sessions := fs.Int("sessions", 100_000, "sessions cached for the memory-per-session figure")
	out := fs.String("out", "", "write the results as markdown to this file (e.g. bench/results/2026-01-02.md)")
	profile := fs.String("profile", "", "write CPU and allocation profiles of each gateway to this folder")
	chaos := fs.Bool("chaos", false, "run the chaos suite (faults under load; with -quick, the smoke run of make test) instead of the benchmark")
	bin := fs.String("apilayer", "", "with -chaos: the apilayer binary to run (default: go build ./cmd/apilayer)")
	if err := fs.Parse(args); err != nil {
		return settings{}, err
	}
	s := settings{
		quick: *quick, rounds: 5, duration: 6 * time.Second, warmup: time.Second,
		conns: *conns, latRate: *latRate, latDur: 5 * time.Second, latRound: 3,
		storms: 20, stormN: 50, sessions: *sessions, out: *out, profile: *profile,
		chaos: *chaos, apilayer: *bin,
	}
	if s.quick {
		// A smoke run within about a minute on 2 cores: every setup runs,
		// no ratio is precise.
		s.rounds, s.duration, s.warmup = 2, time.Second, 250*time.Millisecond
		s.latDur, s.latRound, s.storms = time.Second, 2, 5
	}
	if *rounds > 0 {
		s.rounds = *rounds
	}
	if *duration > 0 {
		s.duration = *duration
	}
	if s.conns <= 0 || s.latRate <= 0 || s.sessions <= 0 {
		fmt.Fprintln(stderr, "bench: -conns, -latency-rate and -sessions must be positive")
		return settings{}, flag.ErrHelp
	}
	return s, nil
}
