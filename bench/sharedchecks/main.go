// Command sharedchecks measures what sharing active health checks through
// etcd (the lb's `fleet` block, issue 17) costs and how fast it reacts,
// with real lb processes on one machine:
//
//	go run ./bench/sharedchecks -instances 3 -backends 1000
//
// It starts one etcd member in this process (embedded, on free 127.0.0.1
// ports, data in a temporary directory), serves -backends HTTP backends
// in this process (each logs every probe with the Host it carries, which
// is the member name of the lb that sent it), builds cmd/lb and starts
// -instances lb processes lb1..lbN sharing the checks of pool "web" of
// all the backends, waits until every instance is connected, sees every
// member and every backend healthy, and ownership has settled, then:
//
//  1. steady state over -duration: probes per backend per interval,
//     distinct probers per backend, the fleet's etcd writes and watch
//     events per second (from each instance's /status fleet counters);
//  2. one backend fails its probes (503): how long until every instance
//     shows it unhealthy (agreement), the writes and events that caused,
//     and the same once it passes again (recovery);
//  3. the last instance is killed (SIGKILL): how long until each backend
//     it owned is probed by its new owner (fleet.Owners before and
//     after), and the longest time one went without any probe;
//  4. an instance joins (the killed one restarted, or lb(N+1) with one
//     instance): the writes and events in the 5 s after it joined.
//
// It measures; it asserts nothing. Everything it started (lb processes,
// backends, etcd, temporary files) is stopped and removed at the end,
// on error and on Ctrl-C too.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	s := defaults()
	flag.IntVar(&s.Instances, "instances", s.Instances, "lb instances sharing the checks")
	flag.IntVar(&s.Backends, "backends", s.Backends, "backends in pool \"web\", each its own 127.0.0.1 listener")
	flag.Var(&s.Interval, "interval", "health check interval")
	flag.Var(&s.Timeout, "timeout", "health check timeout (default: 3/4 of -interval)")
	flag.IntVar(&s.Replicas, "replicas", s.Replicas, "the fleet's replicas: owners per backend")
	flag.Var(&s.TTL, "ttl", "the fleet's member ttl (whole seconds)")
	flag.Var(&s.Duration, "duration", "steady-state measurement window")
	flag.IntVar(&s.Unhealthy, "unhealthy", s.Unhealthy, "unhealthy_threshold: failures in a row to be down")
	flag.IntVar(&s.Healthy, "healthy", s.Healthy, "healthy_threshold: passes in a row to be up again")
	flag.Var(&s.JoinWindow, "join-window", "how long after an instance joins its etcd writes and watch events are counted")
	lbBin := flag.String("lb", "", "lb binary (default: go build ./cmd/lb into a temporary directory)")
	asJSON := flag.Bool("json", false, "print the summary as JSON instead of text")
	verbose := flag.Bool("v", false, "log progress to stderr")
	flag.Parse()
	if err := s.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "sharedchecks:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	progress := func(string, ...any) {}
	if *verbose {
		progress = func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
		}
	}
	sum, err := run(ctx, s, *lbBin, progress)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "sharedchecks: interrupted; everything it started is stopped")
		os.Exit(130)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sharedchecks:", err)
		os.Exit(1)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			fmt.Fprintln(os.Stderr, "sharedchecks:", err)
			os.Exit(1)
		}
		return
	}
	fmt.Print(sum.text())
}
