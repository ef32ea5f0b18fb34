package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/lbtrust/lb/bench/backend"
	"github.com/lbtrust/lb/bench/fleet"
	"github.com/lbtrust/lb/bench/load"
	"github.com/lbtrust/lb/bench/record"
	"github.com/lbtrust/lb/bench/report"
	"github.com/lbtrust/lb/bench/scenario"
	"github.com/lbtrust/lb/bench/target"
)

// readyTimeout bounds start-up: backends bound, the target listening and
// every backend in rotation.
const readyTimeout = 60 * time.Second

// rig is what every run sets up: the backends, the load balancer under
// test in front of them, ready, and their logs.
type rig struct {
	fl   *fleet.Fleet
	tg   *target.Target
	tlog *logFile
	// configPath is the lb configuration the bench generated ("" when
	// it did not).
	configPath string
	warnings   []string // from the warm-up
	closers    []func()
}

// close stops everything the rig started, the last started first.
func (r *rig) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

// setUp starts the backends and the target and waits until the target
// takes traffic through every backend. On error, what it started is
// already stopped.
func setUp(ctx context.Context, o *options, stderr io.Writer) (r *rig, err error) {
	c := &o.cfg
	say := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	r = &rig{}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	work, err := os.MkdirTemp("", "lb-bench-")
	if err != nil {
		return nil, err
	}
	r.closers = append(r.closers, func() { os.RemoveAll(work) })
	logDir := work
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return nil, err
		}
		logDir = o.out
	}
	if c.Target == "lb-config" {
		if err := readConfigFile(c); err != nil {
			return nil, err
		}
	}
	blog, err := newLogFile(filepath.Join(logDir, "backends.log"))
	if err != nil {
		return nil, err
	}
	r.closers = append(r.closers, func() { blog.Close() })
	tlog, err := newLogFile(filepath.Join(logDir, "target.log"))
	if err != nil {
		return nil, err
	}
	r.tlog = tlog
	r.closers = append(r.closers, func() { tlog.Close() })

	ports := c.BackendPorts
	if len(ports) == 0 {
		ports = make([]int, c.Backends)
	}
	fl, err := fleet.Start(fleet.Spec{Command: o.backendCmd, Args: backendArgs(*c), Ports: ports, Log: blog})
	if err != nil {
		return nil, fmt.Errorf("starting backends: %w\n%s", err, blog.tail(2000))
	}
	r.fl = fl
	r.closers = append(r.closers, func() { fl.Close() })
	say("%d backends up: %s", fl.Len(), strings.Join(fl.Addrs(), " "))

	if (c.Target == "lb" || c.Target == "lb-config") && c.LBBin == "" {
		say("building %s", target.LBPackage)
	}
	argv, err := targetArgv(c, work, o.out, fl)
	if err != nil {
		return nil, err
	}
	if c.Target == "lb" {
		r.configPath = argv[2] // bin -config PATH
	}
	tg, err := target.Start(target.Options{Argv: argv, Addr: c.TargetAddr, Log: tlog})
	if err != nil {
		return nil, err
	}
	r.tg = tg
	r.closers = append(r.closers, tg.Stop)
	if r.warnings, err = waitReady(ctx, c, tg, fl); err != nil {
		return nil, fmt.Errorf("%w\nlast lines of the load balancer's output:\n%s", err, tlog.tail(3000))
	}
	return r, nil
}

// bench carries out one failover run: backends, target, load and
// scenario, then builds the report. Every process it started is stopped
// before it returns.
func bench(ctx context.Context, o *options, stdout, stderr io.Writer) (report.Report, []record.Record, error) {
	c := &o.cfg
	say := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	started := time.Now()
	r, err := setUp(ctx, o, stderr)
	if err != nil {
		return report.Report{}, nil, err
	}
	defer r.close()
	fl, tg, warnings := r.fl, r.tg, r.warnings

	say("%s ready at %s; %s for %s", targetDesc(c), c.TargetAddr, c.Scenario, c.Duration.D())

	var poller *target.Poller
	if c.AdminAddr != "" {
		poller = target.StartPoller(c.AdminAddr, c.StatusPoll.D())
	}
	cpu0, cpuErr := tg.CPU()
	names := make([]string, fl.Len())
	for i := range names {
		names[i] = fl.Name(i)
	}
	var body []byte
	if c.Method == "POST" {
		body = []byte(strings.Repeat("x", c.BodySize))
	}
	lr := load.Start(load.Options{
		URL: "http://" + c.TargetAddr + c.Path, Method: c.Method, Body: body,
		Rate: c.Rate, Duration: c.Duration.D(), Connections: c.Connections, Workers: c.Workers,
		Timeout: c.Timeout.D(), Header: backend.HeaderBackend, Backends: names,
	})
	began := lr.Began()
	scCtx, scCancel := context.WithCancel(ctx)
	defer scCancel()
	var ex *scenario.Execution
	if scenario.HasFault(c.Scenario) {
		ex = scenario.Start(scCtx, scenario.Plan{
			Name: c.Scenario, Backend: c.FaultBackend - 1,
			FaultAt: c.FaultAt.D(), RestoreAt: c.RestoreAt.D(), DrainPeriod: c.DrainPeriod.D(),
		}, fl, began)
	}
	stopProgress := func() {}
	if o.progress {
		stopProgress = showProgress(stdout, lr, c.Duration.D())
	}
	warnings = awaitLoad(ctx, lr, tg, warnings)
	recs := lr.Records()
	stopProgress()
	cpu1, cpuErr1 := tg.CPU()
	scCancel()

	in := report.Input{
		Config:    *c,
		Machine:   machine(),
		StartedAt: started,
		Records:   recs,
		Warnings:  warnings,
	}
	for i := range names {
		in.Backends = append(in.Backends, report.BackendInfo{Name: names[i], Addr: fl.Addr(i)})
	}
	if ex != nil {
		faults, events, errs := ex.Wait()
		in.Faults, in.Events = faults, events
		for _, e := range errs {
			in.Warnings = append(in.Warnings, "scenario: "+e.Error())
		}
	}
	lbEvents := tg.LogEvents()
	if poller != nil {
		poller.Stop()
		if len(lbEvents) == 0 {
			lbEvents = poller.Events()
		}
		for _, s := range poller.Samples() {
			if i := backendIndex(s.Ref, fl); i >= 0 {
				in.Routed = append(in.Routed, record.Routed{At: s.At.Sub(began), Backend: i})
			}
		}
		in.CounterPolling = len(poller.Samples()) > 0
		if rescued := poller.Rescued(ctx); rescued != nil {
			for i := range in.Backends {
				if n, ok := rescued[in.Backends[i].Addr]; ok {
					in.Backends[i].Rescued = &n
				}
			}
		}
	}
	in.Events = appendLBEvents(in.Events, lbEvents, began, fl)
	if cpuErr == nil && cpuErr1 == nil {
		d := cpu1 - cpu0
		in.CPU = &d
	}
	sortByStart(recs)
	return report.Build(in), recs, nil
}

// waitReady waits until the target takes traffic and every backend is in
// rotation. Without an lb admin listener to ask, it sends requests until
// each backend has answered one, and warns about those that did not.
func waitReady(ctx context.Context, c *report.Config, tg *target.Target, fl *fleet.Fleet) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := target.WaitPort(ctx, c.TargetAddr, tg.Done()); err != nil {
		return nil, err
	}
	if c.AdminAddr != "" {
		return nil, target.WaitHealthy(ctx, c.AdminAddr, fl.Addrs(), tg.Done())
	}
	if fl.Len() == 0 {
		return nil, nil
	}
	names := make([]string, fl.Len())
	for i := range names {
		names[i] = fl.Name(i)
	}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	missing := target.WaitServedBy(wctx, "http://"+c.TargetAddr+c.Path, backend.HeaderBackend, names, tg.Done())
	if len(missing) > 0 {
		return []string{fmt.Sprintf("warm-up: no answer through the target from %s within 20s", strings.Join(missing, ", "))}, nil
	}
	return nil, nil
}

// targetDesc names the load balancer under test for status lines.
func targetDesc(c *report.Config) string {
	if c.Target == "cmd" {
		return c.TargetCmd
	}
	if c.Target == "addr" {
		return "the target"
	}
	return "lb"
}

// appendLBEvents appends the load balancer's transitions since began to
// events, as report events tied to the fleet's backends; those before
// began (start-up: every backend coming into rotation) are left out.
func appendLBEvents(events []record.Event, lbEvents []target.LBEvent, began time.Time, fl *fleet.Fleet) []record.Event {
	for _, e := range lbEvents {
		if at := e.At.Sub(began); at >= 0 {
			events = append(events, record.Event{At: at, Kind: record.EventLB, Backend: backendIndex(e.Ref, fl),
				Ref: e.Ref, From: e.From, To: e.To, Reason: e.Reason})
		}
	}
	return events
}

// backendIndex finds the backend a load balancer names ref: by address,
// by name (b1), or by port.
func backendIndex(ref string, fl *fleet.Fleet) int {
	for i, a := range fl.Addrs() {
		if ref == a || ref == fl.Name(i) {
			return i
		}
		if _, port, ok := strings.Cut(a, ":"); ok && strings.HasSuffix(ref, ":"+port) {
			return i
		}
	}
	return record.NoBackend
}

// machine describes this machine.
func machine() report.Machine {
	m := report.Machine{CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// awaitLoad waits for the load to end, stopping it early when ctx ends
// or the load balancer exits; it returns warnings with the reason added
// in those cases.
func awaitLoad(ctx context.Context, lr *load.Run, tg *target.Target, warnings []string) []string {
	select {
	case <-lr.Done():
	case <-ctx.Done():
		lr.Stop()
		warnings = append(warnings, "interrupted: the load was stopped early")
	case <-tg.Done():
		lr.Stop()
		warnings = append(warnings, "the load balancer exited during the run")
	}
	return warnings
}
