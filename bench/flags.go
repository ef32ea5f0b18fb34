package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lbtrust/lb/bench/report"
	"github.com/lbtrust/lb/bench/scenario"
	"github.com/lbtrust/lb/demo/stream"
)

// options are the parsed command line.
type options struct {
	cfg     report.Config
	out     string // -out DIR
	compare string // -compare a.json,b.json
	// backendCmd runs one backend (program and leading arguments).
	backendCmd []string
	// progress: print a live progress line (stdout is a terminal).
	progress bool
	ports    string // -backend-ports, raw
	size     string // -size, raw
	maxRSS   string // -max-target-rss, raw
	// timeoutSet: -timeout was given (the stream scenario has its own
	// default).
	timeoutSet bool
	// backendsSet: -backends was given (the chaos scenario has its own
	// default).
	backendsSet bool
}

// streamTimeout is the stream scenario's default -timeout, per download.
const streamTimeout = 5 * time.Minute

// parseFlags reads the command line into options with every default
// applied, and checks it.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	c := &o.cfg
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]\n       go run ./bench -compare a.json,b.json\n       go run ./bench backend [-listen ADDR] [flags]\n\nscenarios (-scenario):\n%s\nflags:\n", scenario.Help())
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Scenario, "scenario", scenario.Kill, "what to do to the backends (see above)")
	fs.IntVar(&c.Rate, "rate", 1000, "requests per second, open loop (ignored by throughput)")
	fs.DurationVar((*time.Duration)(&c.Duration), "duration", 20*time.Second, "how long the load runs")
	fs.IntVar(&c.Connections, "connections", 100, "idle keep-alive connections the load generator keeps to the target")
	fs.IntVar(&c.Workers, "workers", 0, "closed-loop concurrency for throughput (default 64); with a rate, the initial number of senders (more are added when all are busy)")
	fs.DurationVar((*time.Duration)(&c.Timeout), "timeout", 30*time.Second, "per-request timeout of the load generator")
	fs.StringVar(&c.Method, "method", "GET", "GET or POST")
	fs.IntVar(&c.BodySize, "body-size", 1024, "request body size in bytes for POST")
	fs.StringVar(&c.Path, "path", "/", "request path")
	fs.DurationVar((*time.Duration)(&c.FaultAt), "fault-at", 0, "when the fault is injected (default: a third of -duration)")
	fs.DurationVar((*time.Duration)(&c.RestoreAt), "restore-at", 0, "when it is undone (default: two thirds of -duration)")
	fs.IntVar(&c.FaultBackend, "fault-backend", 1, "which backend to fault (1-based)")
	fs.IntVar(&c.Backends, "backends", 3, "number of backends")
	fs.StringVar(&o.ports, "backend-ports", "", "comma-separated fixed loopback ports for the backends, e.g. 9001,9002,9003 (needed when the target is not configured by the bench)")
	fs.IntVar(&c.ResponseSize, "response-size", 128, "backend answer body size in bytes")
	fs.DurationVar((*time.Duration)(&c.Latency), "latency", time.Millisecond, "backend latency per request (slow: x50)")
	fs.DurationVar((*time.Duration)(&c.DrainPeriod), "drain-period", 3*time.Second, "after SIGTERM a backend answers readyz 503 shutting_down this long, then exits")
	fs.DurationVar((*time.Duration)(&c.FlapPeriod), "flap-period", 2*time.Second, "flap: readyz changes every this long")
	fs.StringVar(&c.ConfigFile, "config", "", "run the project's lb with this HCL `file` instead of a generated one (listener, admin and backend ports are read from it)")
	fs.StringVar(&c.LBBin, "lb-bin", "", "use this lb `binary` instead of building ./cmd/lb")
	fs.StringVar(&c.TargetCmd, "target-cmd", "", "run this `command` as the load balancer under test (e.g. \"haproxy -db -f haproxy.cfg\"); needs -target-addr and -backend-ports")
	fs.StringVar(&c.TargetAddr, "target-addr", "", "`host:port` the load balancer under test listens on")
	fs.StringVar(&c.AdminAddr, "admin-addr", "", "admin `host:port` of an lb under test to poll (/status), when the bench did not configure it")
	fs.DurationVar((*time.Duration)(&c.HCInterval), "hc-interval", time.Second, "generated config: health_check interval")
	fs.DurationVar((*time.Duration)(&c.HCTimeout), "hc-timeout", 500*time.Millisecond, "generated config: health_check timeout")
	fs.IntVar(&c.HealthyThreshold, "healthy-threshold", 2, "generated config: healthy_threshold")
	fs.IntVar(&c.UnhealthyThreshold, "unhealthy-threshold", 2, "generated config: unhealthy_threshold")
	fs.StringVar(&c.Algorithm, "algorithm", "round_robin", "generated config: pool algorithm")
	fs.DurationVar((*time.Duration)(&c.DeregistrationDelay), "deregistration-delay", 30*time.Second, "generated config: deregistration_delay")
	fs.DurationVar((*time.Duration)(&c.StatusPoll), "status-poll", 100*time.Millisecond, "how often an lb's /status is polled")
	fs.IntVar(&c.Downloads, "downloads", 100, "stream: downloads at once")
	fs.StringVar(&o.size, "size", "64MiB", "stream: bytes of each download (units B, KiB, MiB, GiB, KB, MB, GB)")
	fs.IntVar(&c.SSEStreams, "sse-streams", 4, "stream: event streams through the target, and as many direct to the first backend, at the same time (0: no probe)")
	fs.DurationVar((*time.Duration)(&c.SSEEvery), "sse-every", 100*time.Millisecond, "stream: time between two events")
	fs.DurationVar((*time.Duration)(&c.SSEDuration), "sse-duration", 3*time.Second, "stream: how long each event stream lasts")
	fs.StringVar(&o.maxRSS, "max-target-rss", "8GiB", "stream: stop the downloads (and kill the target) when the target's RSS passes this, to keep a buffering proxy from taking the machine's memory (0: never)")
	fs.Uint64Var(&c.Seed, "seed", 1, "chaos: the schedule's seed (the same seed gives the same schedule)")
	fs.IntVar(&c.MinServing, "min-serving", 2, "chaos: backends left untouched (no fault, drain or removal) at every moment")
	fs.DurationVar((*time.Duration)(&c.ChaosEvery), "chaos-every", 3*time.Second, "chaos: mean time between two steps")
	fs.DurationVar((*time.Duration)(&c.Settle), "settle", 30*time.Second, "chaos: the longest wait after the load for the lb's goroutines and descriptors to come back to their level before it")
	fs.StringVar(&o.out, "out", "", "write report.json, report.html, responses.csv and logs into this `directory`")
	fs.StringVar(&o.compare, "compare", "", "print two reports side by side: `a.json,b.json`")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) {
		o.timeoutSet = o.timeoutSet || f.Name == "timeout"
		o.backendsSet = o.backendsSet || f.Name == "backends"
	})
	if o.compare != "" {
		return o, nil
	}
	return o, o.complete()
}

// complete applies the defaults that depend on other flags and checks
// the combination.
func (o *options) complete() error {
	c := &o.cfg
	if !scenario.Valid(c.Scenario) {
		return fmt.Errorf("-scenario %q: want one of kill, drain, hang, slow, errors, flap, rolling, chaos, throughput, none, stream", c.Scenario)
	}
	if c.Scenario == scenario.Stream {
		if err := o.completeStream(); err != nil {
			return err
		}
	} else {
		c.Downloads, c.SSEStreams, c.SSEEvery, c.SSEDuration = 0, 0, 0, 0
	}
	if c.Scenario == scenario.Chaos {
		if err := o.completeChaos(); err != nil {
			return err
		}
	} else {
		c.Seed, c.MinServing, c.ChaosEvery, c.Settle = 0, 0, 0, 0
	}
	c.Method = strings.ToUpper(c.Method)
	if c.Method != "GET" && c.Method != "POST" {
		return fmt.Errorf("-method %q: want GET or POST", c.Method)
	}
	if c.Method != "POST" {
		c.BodySize = 0
	}
	if c.Duration <= 0 && c.Scenario != scenario.Stream {
		return errors.New("-duration must be positive")
	}
	if c.Scenario == scenario.Stream {
		c.Rate, c.Workers, c.Duration = 0, 0, 0
	} else if c.Scenario == scenario.Throughput {
		c.Rate = 0
		if c.Workers <= 0 {
			c.Workers = 64
		}
	} else if c.Rate <= 0 {
		return errors.New("-rate must be positive (use -scenario throughput for a closed loop)")
	}
	if c.FaultAt == 0 {
		c.FaultAt = c.Duration / 3
	}
	if c.RestoreAt == 0 {
		c.RestoreAt = 2 * c.Duration / 3
	}
	if scenario.HasFault(c.Scenario) {
		if c.FaultAt < 0 || c.FaultAt >= c.RestoreAt || c.RestoreAt > c.Duration {
			return fmt.Errorf("want 0 <= -fault-at (%s) < -restore-at (%s) <= -duration (%s)", c.FaultAt.D(), c.RestoreAt.D(), c.Duration.D())
		}
		if c.Backends < 1 {
			return fmt.Errorf("-scenario %s needs at least one backend", c.Scenario)
		}
		if c.FaultBackend < 1 || c.FaultBackend > c.Backends {
			return fmt.Errorf("-fault-backend %d: want 1..%d", c.FaultBackend, c.Backends)
		}
	} else {
		c.FaultAt, c.RestoreAt = 0, 0
	}
	if c.Backends < 0 {
		return errors.New("-backends must be >= 0")
	}
	if o.ports != "" {
		for _, p := range strings.Split(o.ports, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("-backend-ports: bad port %q", p)
			}
			c.BackendPorts = append(c.BackendPorts, n)
		}
		if len(c.BackendPorts) != c.Backends {
			return fmt.Errorf("-backend-ports lists %d ports for %d backends (-backends)", len(c.BackendPorts), c.Backends)
		}
	}
	switch {
	case c.TargetCmd != "" && c.ConfigFile != "":
		return errors.New("-target-cmd and -config exclude each other: -config runs the project's lb")
	case c.TargetCmd != "":
		c.Target = "cmd"
	case c.ConfigFile != "":
		c.Target = "lb-config"
	case c.TargetAddr != "":
		c.Target = "addr"
	default:
		c.Target = "lb"
	}
	if (c.Target == "cmd" || c.Target == "addr") && c.TargetAddr == "" {
		return errors.New("-target-cmd needs -target-addr: where the load balancer listens")
	}
	if (c.Target == "cmd" || c.Target == "addr") && c.Backends > 0 && len(c.BackendPorts) == 0 {
		return errors.New("a load balancer the bench does not configure needs fixed backend ports: -backend-ports 9001,9002,9003")
	}
	if c.HCTimeout >= c.HCInterval {
		return errors.New("-hc-timeout must be shorter than -hc-interval")
	}
	return nil
}

// completeStream checks the stream scenario's flags and applies its
// defaults.
func (o *options) completeStream() error {
	c := &o.cfg
	var err error
	if c.Size, err = stream.ParseSize(o.size); err != nil {
		return fmt.Errorf("-size: %w", err)
	}
	if c.Size < 1 || c.Size > stream.MaxBytes {
		return fmt.Errorf("-size %s: want 1 byte to %s", o.size, stream.FormatSize(stream.MaxBytes))
	}
	if c.Downloads < 1 {
		return errors.New("-downloads must be at least 1")
	}
	if c.MaxTargetRSS, err = stream.ParseSize(o.maxRSS); err != nil {
		return fmt.Errorf("-max-target-rss: %w", err)
	}
	if c.SSEStreams < 0 {
		return errors.New("-sse-streams must be >= 0")
	}
	if c.SSEStreams > 0 && (c.SSEEvery < report.Duration(stream.MinSSEInterval) || c.SSEDuration < c.SSEEvery) {
		return fmt.Errorf("-sse-every must be at least %s and -sse-duration at least -sse-every", stream.MinSSEInterval)
	}
	if c.Backends < 1 {
		return errors.New("-scenario stream needs at least one backend")
	}
	if !o.timeoutSet {
		c.Timeout = report.Duration(streamTimeout)
	}
	return nil
}

// chaosBackends is the chaos scenario's default -backends.
const chaosBackends = 6

// completeChaos checks the chaos scenario's flags and applies its
// defaults.
func (o *options) completeChaos() error {
	c := &o.cfg
	if !o.backendsSet {
		c.Backends = chaosBackends
	}
	if o.ports != "" || c.TargetCmd != "" || c.ConfigFile != "" || c.TargetAddr != "" {
		return errors.New("-scenario chaos runs the project's lb with a configuration it generates and rewrites: no -backend-ports, -target-cmd, -config or -target-addr")
	}
	if c.MinServing < 1 || c.Backends < c.MinServing+1 {
		return fmt.Errorf("-scenario chaos needs -min-serving >= 1 and more -backends (%d) than -min-serving (%d)", c.Backends, c.MinServing)
	}
	if c.ChaosEvery <= 0 {
		return errors.New("-chaos-every must be positive")
	}
	return nil
}
