// Command cost measures the CPU a load balancer spends per request, lb
// against HAProxy and NGINX, in one run on one machine: it starts three
// backends (bench/backend, as separate processes) and the load generator
// on one CPU, then each target in turn alone on another CPU (lb with
// GOMAXPROCS=1, HAProxy with nbthread 1, NGINX with one worker) with the
// equivalent configurations shipped under bench/examples (lb-cost.hcl,
// haproxy-cost.cfg, nginx-cost.conf). For each it waits until every
// backend answers through it, warms up, sends a fixed open-loop rate with
// vegeta and reads the target's CPU time (user + system of its process
// group, /proc/PID/stat) over exactly the load. Targets alternate within
// each round, rounds repeat, and it prints per round and target the
// requests, failures, µs of CPU per request and p50/p99 latency, then the
// medians and the ratios lb/peer taken within each round: on a shared
// machine the absolute figures move, ratios measured side by side much
// less. It measures; it asserts nothing. Linux only.
//
//	go run ./bench/cost                                  # 3 rounds of lb, haproxy, nginx at 8000 req/s for 10s
//	go run ./bench/cost -rounds 1 -duration 3s -targets lb,haproxy
//	go run ./bench/cost -cpuprofile /tmp/lb.pprof        # also a CPU profile of lb in the last round
//
// A target whose program is not installed is skipped, with the command
// that installs it. `go run ./bench/cost backend ...` runs one backend
// (the tool starts its backends that way).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/backend"
)

// options are the command line.
type options struct {
	targets    []string      // peer names, in order
	rounds     int           // how many times every target is measured
	rate       int           // requests per second
	duration   time.Duration // of each measured load
	warmup     time.Duration // load before each measurement, not measured
	lbPath     string        // lb binary; "" builds ./cmd/lb
	cpuTarget  int           // the CPU the target runs on
	cpuLoad    int           // the CPU of the backends and the load generator
	cpuProfile string        // where to write lb's CPU profile of the last round; "" for none
	out        string        // directory for cost.json; "" for none
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "backend" {
		os.Exit(backend.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		os.Exit(bareMain(os.Args[2:], os.Stderr))
	}
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err = run(ctx, o, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into options and checks them.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	targets := fs.String("targets", "lb,haproxy,nginx", "targets to measure, in order: lb, haproxy, nginx, bare (a bare fasthttp proxy: what Go and fasthttp cost), lb-accesslog (lb with a JSON access log to a file)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; each measures every target once, in turn")
	fs.IntVar(&o.rate, "rate", 8000, "requests per second, open loop")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured load per target and round")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "load at the same rate before each measurement, not measured")
	fs.StringVar(&o.lbPath, "lb", "", "lb binary (default: go build ./cmd/lb into a temporary directory)")
	fs.IntVar(&o.cpuTarget, "cpu-target", 0, "the CPU the target runs on, alone")
	fs.IntVar(&o.cpuLoad, "cpu-load", 1, "the CPU of the backends and the load generator")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of lb over the load of the last round to this `file`")
	fs.StringVar(&o.out, "out", "", "write cost.json (every figure, the configurations) into this `directory`")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.targets, err = parseTargets(*targets); err != nil {
		return o, err
	}
	switch {
	case o.rounds < 1:
		return o, fmt.Errorf("-rounds %d: at least 1", o.rounds)
	case o.rate < 1:
		return o, fmt.Errorf("-rate %d: at least 1", o.rate)
	case o.duration < time.Second:
		return o, fmt.Errorf("-duration %s: at least 1s", o.duration)
	case o.warmup < 0:
		return o, fmt.Errorf("-warmup %s: not negative", o.warmup)
	case o.cpuTarget < 0 || o.cpuLoad < 0:
		return o, errors.New("-cpu-target and -cpu-load are CPU numbers, from 0")
	case o.cpuTarget == o.cpuLoad:
		return o, fmt.Errorf("-cpu-target and -cpu-load are both %d: the target must have its CPU to itself", o.cpuTarget)
	case o.cpuProfile != "" && !slices.Contains(o.targets, "lb"):
		return o, errors.New("-cpuprofile profiles lb: add lb to -targets")
	}
	return o, nil
}

// parseTargets reads -targets: known peer names, comma-separated, each
// once.
func parseTargets(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		name := strings.TrimSpace(f)
		if name == "" {
			continue
		}
		if _, ok := peerNamed(name); !ok {
			var known []string
			for _, p := range peers() {
				known = append(known, p.name)
			}
			return nil, fmt.Errorf("-targets: unknown target %q (%s)", name, strings.Join(known, ", "))
		}
		if slices.Contains(out, name) {
			return nil, fmt.Errorf("-targets: %s twice", name)
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, errors.New("-targets: none given")
	}
	return out, nil
}
