package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/lbtrust/lb/bench/fleet"
	"github.com/lbtrust/lb/bench/target"
)

// backends is how many backends the targets balance over (the templates
// name three).
const backends = 3

// backendArgs are the knobs of every backend: no added latency, so the
// latency figures are the proxy's and the machine's; the failover
// bench's 128-byte answers.
func backendArgs() []string { return []string{"-latency", "0s", "-response-size", "128"} }

// ready is a target that will be measured: its peer, program and version.
type ready struct {
	peer    peer
	program string
	version string
}

// skipped is a target that will not be, and why.
type skipped struct {
	Target  string `json:"target"`
	Reason  string `json:"reason"`
	Install string `json:"install,omitempty"`
}

// run is the whole command.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if err := pinSelf(o); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "lb-cost-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	logPath := filepath.Join(work, "output.log")
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return err
		}
		logPath = filepath.Join(o.out, "output.log")
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()

	targets, skips, err := resolve(o, work, stderr)
	if err != nil {
		return err
	}
	for _, s := range skips {
		fmt.Fprintf(stdout, "%s: skipped, %s (%s)\n", s.Target, s.Reason, s.Install)
	}
	if len(targets) == 0 {
		return errors.New("no target to measure")
	}

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	bo := &output{prefix: "[backends] ", log: logf}
	fl, err := fleet.Start(fleet.Spec{Command: []string{exe, "backend"}, Args: backendArgs(), Ports: make([]int, backends), Log: logWriter{bo}})
	if err != nil {
		return fmt.Errorf("starting the backends: %w", err)
	}
	defer fl.Close()
	for i := range fl.Len() {
		if _, err := checkGroup(fl.Pid(i), o.cpuLoad); err != nil {
			return fmt.Errorf("backend %s: %w", fl.Name(i), err)
		}
	}
	b := &bench{o: o, work: work, backends: fl.Addrs(), log: logf}
	for i := range fl.Len() {
		b.names = append(b.names, fl.Name(i))
	}

	printPlan(stdout, o, targets)
	printHeader(stdout, o.cpuTarget)
	var results []result
	failed := 0
	for round := 1; round <= o.rounds; round++ {
		for i := range targets {
			// Each round starts one target later, so none is always
			// measured first (or always right after the same one).
			t := targets[(i+round-1)%len(targets)]
			profile := ""
			if t.peer.name == "lb" && round == o.rounds {
				profile = o.cpuProfile
			}
			r, err := b.measure(ctx, t.peer, t.program, round, profile)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				r.Error = err.Error()
				failed++
			}
			results = append(results, r)
			printResult(stdout, r)
		}
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.peer.name
	}
	sum := summarize(results, names)
	printSummary(stdout, sum, o.rounds)
	for _, r := range results {
		if r.Behind {
			fmt.Fprintf(stdout, "\nthe load generator fell behind the rate (CPU %d was short): those rows measured a lighter load than asked, and an open-loop sender that falls behind piles up connections; use a lower -rate\n", o.cpuLoad)
			break
		}
	}
	if o.cpuProfile != "" {
		fmt.Fprintf(stdout, "\nwrote %s (go tool pprof -top %s)\n", o.cpuProfile, o.cpuProfile)
	}
	if o.out != "" {
		path, err := writeReport(o, targets, skips, results, sum, work)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s and %s\n", path, logPath)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d measurements failed (the targets' output: %s)", failed, len(results), logPath)
	}
	return nil
}

// pinSelf checks the two CPUs and puts this process (the load generator,
// and the backends it starts) on the load CPU alone, with GOMAXPROCS=1.
func pinSelf(o options) error {
	allowed, err := allowedCPUs()
	if err != nil {
		return err
	}
	for _, c := range []struct {
		flag string
		cpu  int
	}{{"-cpu-target", o.cpuTarget}, {"-cpu-load", o.cpuLoad}} {
		if !allowed.IsSet(c.cpu) {
			return fmt.Errorf("%s %d: this process may not run on CPU %d (it may use %d CPUs; see taskset -p %d)", c.flag, c.cpu, c.cpu, allowed.Count(), os.Getpid())
		}
	}
	if err := pinProcess(os.Getpid(), o.cpuLoad); err != nil {
		return err
	}
	runtime.GOMAXPROCS(1)
	return nil
}

// resolve finds every target's program: lb's is built (or -lb), the
// others' are looked up; a missing one is skipped.
func resolve(o options, work string, stderr io.Writer) ([]ready, []skipped, error) {
	var out []ready
	var skips []skipped
	for _, name := range o.targets {
		p, _ := peerNamed(name)
		program, built := o.lbPath, false
		if p.self {
			exe, err := os.Executable()
			if err != nil {
				return nil, nil, err
			}
			program = exe
		} else if p.program != "" {
			var err error
			if program, err = findProgram(p.program); err != nil {
				skips = append(skips, skipped{Target: name, Reason: p.program + " is not installed", Install: p.install})
				continue
			}
		} else if program == "" {
			fmt.Fprintf(stderr, "building %s\n", target.LBPackage)
			var err error
			if program, err = target.BuildLB(work); err != nil {
				return nil, nil, err
			}
			built = true
			o.lbPath = program // lb-accesslog runs the same binary
		}
		out = append(out, ready{peer: p, program: program, version: versionOf(p, program, built)})
	}
	return out, skips, nil
}

// printPlan says what will run where.
func printPlan(w io.Writer, o options, targets []ready) {
	fmt.Fprintf(w, "%d round%s of %d target%s, %d req/s for %s each (after %s of warm-up), GET / answered with 128 bytes by %d backends\n",
		o.rounds, plural(o.rounds), len(targets), plural(len(targets)), o.rate, o.duration, o.warmup, backends)
	fmt.Fprintf(w, "target alone on CPU %d; backends and load generator on CPU %d (of %d)\n", o.cpuTarget, o.cpuLoad, runtime.NumCPU())
	for _, t := range targets {
		fmt.Fprintf(w, "  %-8s %s, %s, bench/examples/%s\n", t.peer.name, t.version, t.peer.oneCore, t.peer.template)
	}
	fmt.Fprintln(w)
}

// logWriter adapts output to an io.Writer, one line per write.
type logWriter struct{ o *output }

// Write records p as one or more lines.
func (l logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.o.line(line)
	}
	return len(p), nil
}
