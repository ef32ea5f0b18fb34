// Command checkcost measures what health checks cost a load balancer at
// fleet scale, with no traffic: the target's CPU per probe, its memory,
// and how evenly its probes fall over the interval (a thundering herd at
// start or after a reload shows).
//
// It serves -backends backends itself (one loopback listener each,
// answering GET /readyz with 200, keeping the connection open or closing
// it as each probe asks, and recording when every probe arrives), then
// runs each of -targets in turn against them: the project's lb with a
// generated configuration (GOMAXPROCS=1) and HAProxy with one rendered
// from bench/examples/haproxy-checks.cfg (nbthread 1), both checking
// every backend over HTTP every -interval. The target is bound to CPU
// -cpu-target, the backends and this tool to -cpu-load. Once every
// backend has been probed twice (and, for lb, /status shows them all
// healthy) and -warmup has passed, it reads the target's CPU time (user +
// system, /proc/PID/stat) over -duration and counts the probes the
// backends received meanwhile. -reload sends the target its reload signal
// halfway through the window. It measures; it asserts nothing.
//
// The two presets of issue 14:
//
//	go run ./bench/checkcost -backends 1000 -interval 1s
//	go run ./bench/checkcost -backends 10000 -interval 5s
//
// A backend may hold two descriptors (its listener and a kept-alive probe
// connection). The tool raises its RLIMIT_NOFILE soft limit to the hard
// limit (and the hard limit too, to 2 × -backends + 1024, when it may:
// CAP_SYS_RESOURCE), and the targets inherit it. When one process cannot
// hold every backend it splits them over helper processes (this program
// run as `checkcost serve-backends N`), each with its own limit, on the
// same CPU, reporting every request's arrival to the tool through a pipe.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/lbtrust/lb/bench/nofile"
	benchtarget "github.com/lbtrust/lb/bench/target"
)

// flags are the command line.
type flags struct {
	s        settings
	targets  string
	out      string
	lbBin    string
	lbBase   string
	haproxy  string
	template string
	maxprocs int
	logLevel string
	perProc  int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == helperArg {
		os.Exit(helperMain(os.Args[2:]))
	}
	var f flags
	flag.IntVar(&f.s.Backends, "backends", 1000, "backends, each its own loopback listener")
	flag.DurationVar(&f.s.Checks.Interval, "interval", time.Second, "health check interval")
	flag.DurationVar(&f.s.Checks.Timeout, "timeout", 500*time.Millisecond, "health check timeout (below -interval)")
	flag.IntVar(&f.s.Checks.Rise, "rise", 2, "passes to become healthy (lb healthy_threshold, HAProxy rise)")
	flag.IntVar(&f.s.Checks.Fall, "fall", 3, "failures to become unhealthy (lb unhealthy_threshold, HAProxy fall)")
	flag.DurationVar(&f.s.Warmup, "warmup", 5*time.Second, "wait after every backend is probed before measuring")
	flag.DurationVar(&f.s.Duration, "duration", 30*time.Second, "measurement window")
	flag.StringVar(&f.s.Reload, "reload", reloadNone, "reload the target halfway through the window: none, same (the signal, file unchanged) or checks (every check's timeout 1ms longer, so every checker restarts)")
	flag.IntVar(&f.s.CPUTarget, "cpu-target", 0, "CPU the target is bound to (-1: not bound)")
	flag.IntVar(&f.s.CPULoad, "cpu-load", 1, "CPU the backends and this tool are bound to (-1: not bound)")
	flag.DurationVar(&f.s.ReadyTimeout, "ready-timeout", 0, "how long a target may take to probe every backend twice (default 5m + 3 intervals)")
	flag.IntVar(&f.s.Rounds, "rounds", 1, "runs of each target, alternating; the table shows medians")
	flag.IntVar(&f.perProc, "per-process", 0, "most backends one process serves (0: as many as RLIMIT_NOFILE allows, 2 descriptors each); more are split over helper processes")
	flag.StringVar(&f.targets, "targets", "lb,haproxy", "targets, comma-separated: lb, lb-base (needs -lb-base), haproxy")
	flag.StringVar(&f.out, "out", "", "directory for checkcost.json, the configurations and the targets' output (default: a temporary one, removed)")
	flag.StringVar(&f.lbBin, "lb", "", "lb binary (default: go build ./cmd/lb into a temporary directory)")
	flag.StringVar(&f.lbBase, "lb-base", "", "a second lb binary, the target lb-base (an older build to compare with in the same run: -targets lb,lb-base,haproxy)")
	flag.IntVar(&f.maxprocs, "gomaxprocs", 1, "GOMAXPROCS of the lb (0: unset)")
	flag.StringVar(&f.logLevel, "lb-log-level", "warn", "the lb's -log-level (its output goes to -out DIR/roundN-lb/lb.log)")
	flag.StringVar(&f.haproxy, "haproxy", "haproxy", "HAProxy binary")
	flag.StringVar(&f.template, "haproxy-template", defaultHAProxyTemplate, "HAProxy configuration template (relative paths are also tried from the module root)")
	flag.Parse()
	if err := run(f); err != nil {
		fmt.Fprintln(os.Stderr, "checkcost:", err)
		os.Exit(1)
	}
}

// validate checks the flags that can be wrong on their own.
func (f *flags) validate() error {
	s := &f.s
	switch {
	case s.Backends < 1:
		return fmt.Errorf("-backends %d: at least 1", s.Backends)
	case s.Checks.Interval <= 0 || s.Checks.Timeout <= 0 || s.Checks.Timeout >= s.Checks.Interval:
		return fmt.Errorf("-timeout %s must be above 0 and below -interval %s", s.Checks.Timeout, s.Checks.Interval)
	case s.Checks.Interval%(10*time.Millisecond) != 0:
		return fmt.Errorf("-interval %s: a multiple of 10ms (its tenth is the spread's bucket)", s.Checks.Interval)
	case s.Checks.Rise < 1 || s.Checks.Fall < 1:
		return fmt.Errorf("-rise and -fall: at least 1")
	case s.Duration < s.Checks.Interval:
		return fmt.Errorf("-duration %s: at least one -interval", s.Duration)
	case s.Reload != reloadNone && s.Reload != reloadSame && s.Reload != reloadChecks:
		return fmt.Errorf("-reload %q: none, same or checks", s.Reload)
	case s.Reload != reloadNone && s.Duration < 4*s.Checks.Interval:
		return fmt.Errorf("-reload needs -duration of at least 4 intervals (the reload's spread is taken over two, from halfway)")
	case s.Rounds < 1:
		return fmt.Errorf("-rounds %d: at least 1", s.Rounds)
	}
	if s.ReadyTimeout == 0 {
		s.ReadyTimeout = 5*time.Minute + 3*s.Checks.Interval
	}
	for _, t := range strings.Split(f.targets, ",") {
		t = strings.TrimSpace(t)
		if t != "lb" && t != "lb-base" && t != "haproxy" {
			return fmt.Errorf("-targets: unknown target %q (lb, lb-base, haproxy)", t)
		}
		if t == "lb-base" && f.lbBase == "" {
			return fmt.Errorf("-targets lb-base needs -lb-base BINARY")
		}
		s.Targets = append(s.Targets, t)
	}
	return nil
}

func run(f flags) error {
	if err := f.validate(); err != nil {
		return err
	}
	s := f.s
	cpus := runtime.NumCPU()
	// A descriptor per listener, one per connection a prober keeps open
	// to each, and room for the rest; helper processes serve the backends
	// one process cannot.
	lim, err := nofile.Raise(uint64(fdsPerBackend*s.Backends + fdReserve))
	if err != nil {
		if lim, err = nofile.Raise(0); err != nil {
			return err
		}
	}
	perProc := (int(lim.Soft) - fdReserve) / fdsPerBackend
	if f.perProc > 0 {
		perProc = min(perProc, f.perProc)
	}
	if perProc < 1 {
		return fmt.Errorf("RLIMIT_NOFILE %d leaves no room for backends (raise it: ulimit -n)", lim.Soft)
	}

	dir := f.out
	if dir == "" {
		if dir, err = os.MkdirTemp("", "checkcost-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	targets, skipped, err := f.buildTargets(dir)
	if err != nil {
		return err
	}
	for _, sk := range skipped {
		fmt.Fprintf(os.Stderr, "checkcost: skipping %s\n", sk)
	}
	if len(targets) == 0 {
		return fmt.Errorf("no target to measure")
	}

	// Built, so bind this process (and the backends' goroutines, started
	// next) to the load CPU.
	if s.CPULoad >= 0 {
		if err := pinSelf(s.CPULoad); err != nil {
			return err
		}
		runtime.GOMAXPROCS(1)
	}
	b, err := startBackends(s.Backends, perProc)
	if err != nil {
		return fmt.Errorf("starting %d backends: %w", s.Backends, err)
	}
	defer b.stop()

	fmt.Printf("checkcost: %d backends, HTTP GET /readyz every %s (timeout %s, rise %d, fall %d), no traffic; warm-up %s, window %s, %d round(s)",
		s.Backends, s.Checks.Interval, s.Checks.Timeout, s.Checks.Rise, s.Checks.Fall, s.Warmup, s.Duration, s.Rounds)
	if s.Reload != reloadNone {
		fmt.Printf(", reload (%s) halfway", s.Reload)
	}
	where := "this tool"
	if b.procs() > 1 {
		where = fmt.Sprintf("%d helper processes of this tool (RLIMIT_NOFILE %d: %d backends a process, %d descriptors each)", b.procs(), lim.Soft, perProc, fdsPerBackend)
	}
	fmt.Printf("\ntarget on CPU %s, the backends (served by %s) on CPU %s; %d CPUs; RLIMIT_NOFILE %d\n\n", cpuName(s.CPUTarget), where, cpuName(s.CPULoad), cpus, lim.Soft)

	var runs []result
	byTarget := map[string][]result{}
	for round := 1; round <= s.Rounds; round++ {
		order := targets
		if round%2 == 0 {
			order = reversed(targets)
		}
		for _, t := range order {
			runDir := filepath.Join(dir, fmt.Sprintf("round%d-%s", round, t.name()))
			if err := os.MkdirAll(runDir, 0o755); err != nil {
				return err
			}
			r, err := measure(t, b, s, round, runDir, os.Stderr)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: round %d: CPU %.2f%% of a core, %d probes (%.1f/s), %.1f µs/probe, RSS %.1f MiB\n",
				t.name(), round, r.CPUPercent, r.Probes, r.ProbesPerSecond, r.MicrosPerProbe, float64(r.RSS)/(1<<20))
			runs = append(runs, r)
			byTarget[t.name()] = append(byTarget[t.name()], r)
		}
	}
	var sums []summary
	for _, t := range targets {
		sums = append(sums, summarize(t.name(), byTarget[t.name()]))
	}
	fmt.Println()
	if s.Rounds > 1 {
		fmt.Printf("medians of %d rounds\n", s.Rounds)
	}
	printTables(os.Stdout, s, sums)
	fmt.Printf("\nprobes per %s:\n", s.Checks.Interval/10)
	for _, r := range runs {
		printBuckets(os.Stdout, r)
	}
	fmt.Printf("\nnoise in the window, on CPU %s: other processes, interrupts (mostly the probes' own loopback traffic); the target's threads waiting for a CPU; the backends' worst stall\n", cpuName(s.CPUTarget))
	for _, r := range runs {
		others, irq := "-", "-"
		if r.OthersPercent >= 0 {
			others, irq = fmt.Sprintf("%.1f%%", r.OthersPercent), fmt.Sprintf("%.1f%%", r.IRQPercent)
		}
		fmt.Printf("  %-8s round %d  others %s, irq %s, waiting %s, stall %s\n", r.Target, r.Round, others, irq,
			r.TargetRunDelay.Round(time.Millisecond), r.LoadStall.Round(time.Millisecond))
	}
	for _, r := range runs {
		if r.OtherRequests > 0 {
			fmt.Printf("%s round %d: %d requests that were not GET /readyz\n", r.Target, r.Round, r.OtherRequests)
		}
	}
	if f.out != "" {
		path, err := writeReport(dir, report{Time: time.Now(), Settings: s, Machine: thisMachine(cpus, lim.Soft),
			Runs: runs, Summaries: sums, Skipped: skipped})
		if err != nil {
			return err
		}
		fmt.Printf("\nwrote %s\n", path)
	}
	return nil
}

// buildTargets builds the targets named by -targets, building lb when no -lb
// is given, and lists those skipped (their binary missing) with why.
func (f *flags) buildTargets(dir string) ([]target, []string, error) {
	var out []target
	var skipped []string
	for _, name := range f.s.Targets {
		var t target
		switch name {
		case "lb":
			bin := f.lbBin
			if bin == "" {
				var err error
				if bin, err = benchtarget.BuildLB(dir); err != nil {
					return nil, nil, err
				}
			}
			t = &lbTarget{label: name, bin: bin, gomaxprocs: f.maxprocs, logLevel: f.logLevel, checks: f.s.Checks}
		case "lb-base":
			t = &lbTarget{label: name, bin: f.lbBase, gomaxprocs: f.maxprocs, logLevel: f.logLevel, checks: f.s.Checks}
		case "haproxy":
			h, err := newHAProxy(f.haproxy, f.template, f.s.Checks)
			if err != nil {
				return nil, nil, err
			}
			t = h
		}
		if err := t.available(); err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		out = append(out, t)
	}
	return out, skipped, nil
}

// cpuName is a CPU number, or "(any)" when not bound.
func cpuName(c int) string {
	if c < 0 {
		return "(any)"
	}
	return fmt.Sprint(c)
}

// reversed is a reversed copy of ts.
func reversed(ts []target) []target {
	out := make([]target, len(ts))
	for i, t := range ts {
		out[len(ts)-1-i] = t
	}
	return out
}
