package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/proc"
	"github.com/lbtrust/lb/bench/procstat"
)

// settings are what every run of one invocation shares.
type settings struct {
	Backends     int           `json:"backends"`
	Checks       checkSettings `json:"checks"`
	Warmup       time.Duration `json:"warmup_ns"`
	Duration     time.Duration `json:"duration_ns"`
	Reload       string        `json:"reload"`
	CPUTarget    int           `json:"cpu_target"` // -1: not bound
	CPULoad      int           `json:"cpu_load"`   // -1: not bound
	ReadyTimeout time.Duration `json:"ready_timeout_ns"`
	Rounds       int           `json:"rounds"`
	Targets      []string      `json:"targets"`
}

// minProbes is how many probes every backend must have received before
// the target counts as up and checking.
const minProbes = 2

// result is what one run of one target measured.
type result struct {
	Target  string   `json:"target"`
	Round   int      `json:"round"`
	Argv    []string `json:"argv"`
	Version string   `json:"version"`
	// ReadyAfter is the time from the start to every backend's second
	// probe.
	ReadyAfter time.Duration `json:"ready_after_ns"`
	Window     time.Duration `json:"window_ns"` // measured wall time
	CPU        time.Duration `json:"cpu_ns"`    // the target's user + system time in it
	CPUPercent float64       `json:"cpu_percent"`
	// Probes is the GET /readyz requests the backends received in the
	// window; Nominal per second is backends / interval.
	Probes           int     `json:"probes"`
	ProbesPerSecond  float64 `json:"probes_per_second"`
	NominalPerSecond float64 `json:"nominal_per_second"`
	MicrosPerProbe   float64 `json:"us_per_probe"`
	// PerBackendMin and Max are the fewest and most probes one backend
	// received in the window.
	PerBackendMin int `json:"per_backend_min"`
	PerBackendMax int `json:"per_backend_max"`
	// OtherRequests were not GET /readyz (any: a misconfigured target).
	OtherRequests int64 `json:"other_requests"`
	// At the window's end, over the target's process group.
	RSS        int64 `json:"rss_bytes"`
	HWM        int64 `json:"hwm_bytes"`
	Procs      int   `json:"procs"`
	Threads    int   `json:"threads"`
	FDs        int   `json:"fds"`
	Goroutines int   `json:"goroutines"` // -1: not known
	// How noisy the machine was in the window. OthersPercent is how busy
	// the target's CPU was running other processes (its user, nice and
	// system time in /proc/stat less the target's CPU time), IRQPercent
	// with interrupts (mostly the loopback network stack's share of the
	// probes themselves, charged to no process), both in percent of the
	// window and -1 when the target is not bound. TargetRunDelay is the time the
	// target's threads waited for a CPU (each other's turns included, for
	// a target with several threads); LoadStall the worst delay this
	// tool's goroutines (the backends', when they run in this process) saw.
	OthersPercent  float64       `json:"others_percent"`
	IRQPercent     float64       `json:"irq_percent"`
	TargetRunDelay time.Duration `json:"target_run_delay_ns"`
	LoadStall      time.Duration `json:"load_stall_ns"`
	// Spread is the window in buckets of a tenth of the interval; Start
	// the first interval from the first probe of the run; Reload two
	// intervals from the reload signal; Timeline the whole run, from the
	// first probe to the window's end.
	Spread   spread        `json:"spread"`
	Timeline spread        `json:"timeline"`
	Start    spread        `json:"start"`
	Reload   *spread       `json:"reload,omitempty"`
	ReloadAt time.Duration `json:"reload_at_ns,omitempty"` // from the window's start
}

// measure runs target t once against the backends: starts it bound to
// the target CPU, waits until every backend got minProbes probes and the
// target is ready, warms up, then measures over the window (reloading it
// halfway when asked). Its configuration and output go to dir.
func measure(t target, b *backends, s settings, round int, dir string, progress io.Writer) (result, error) {
	r := result{Target: t.name(), Round: round, Version: t.version(), Goroutines: -1}
	log := b.reset()
	argv, env, err := t.prepare(dir, b.addrs, s.Reload != reloadNone)
	if err != nil {
		return r, err
	}
	r.Argv = argv
	out, err := os.Create(filepath.Join(dir, t.name()+".log"))
	if err != nil {
		return r, err
	}
	defer out.Close()
	started := time.Now()
	p, err := startPinned(argv, proc.Options{Env: env, OnLine: func(line string) { fmt.Fprintln(out, line) }}, s.CPUTarget)
	if err != nil {
		return r, err
	}
	defer p.Stop(syscall.SIGTERM, 15*time.Second)
	if s.CPUTarget >= 0 {
		got, err := cpusAllowed(p.Pid())
		if err != nil {
			return r, err
		}
		if got != strconv.Itoa(s.CPUTarget) {
			return r, fmt.Errorf("%s runs on CPUs %s, not %d", t.name(), got, s.CPUTarget)
		}
	}
	fmt.Fprintf(progress, "%s: started (pid %d), waiting for every backend to be probed %d times\n", t.name(), p.Pid(), minProbes)

	ctx, cancel := context.WithTimeout(context.Background(), s.ReadyTimeout)
	defer cancel()
	if err := waitProbed(ctx, log, p, t.name(), progress); err != nil {
		return r, fmt.Errorf("%s: %w (its output: %s)", t.name(), err, out.Name())
	}
	r.ReadyAfter = time.Since(started)
	if err := t.ready(ctx, p, b.addrs); err != nil {
		return r, fmt.Errorf("%s: %w", t.name(), err)
	}
	fmt.Fprintf(progress, "%s: every backend probed %d times %.1fs after the start; warming up %s, then measuring %s\n",
		t.name(), minProbes, r.ReadyAfter.Seconds(), s.Warmup, s.Duration)
	if err := sleep(p, s.Warmup); err != nil {
		return r, err
	}

	s0, err := procstat.Group(p.Pid())
	if err != nil {
		return r, err
	}
	busy0, busyErr := cpuBusy(s.CPUTarget)
	stalls := startStallMeter()
	stallsDone := false
	defer func() {
		if !stallsDone {
			stalls.finish()
		}
	}()
	var reloadAt time.Time
	if s.Reload != reloadNone {
		if err := sleep(p, s.Duration/2); err != nil {
			return r, err
		}
		reloadAt = time.Now()
		if err := t.reload(p, s.Reload); err != nil {
			return r, fmt.Errorf("reloading %s: %w", t.name(), err)
		}
		fmt.Fprintf(progress, "%s: reload (%s) sent\n", t.name(), s.Reload)
	}
	if err := sleep(p, time.Until(s0.At.Add(s.Duration))); err != nil {
		return r, err
	}
	s1, err := procstat.Group(p.Pid())
	if err != nil {
		return r, err
	}
	busy1, busyErr1 := cpuBusy(s.CPUTarget)
	r.LoadStall, stallsDone = stalls.finish(), true
	r.TargetRunDelay = s1.RunDelay - s0.RunDelay
	r.Goroutines = t.goroutines()
	time.Sleep(3 * flushEvery) // what helpers still buffer from the window
	arr := log.snapshot()

	n, interval := len(b.addrs), s.Checks.Interval
	from, to := log.since(s0.At), log.since(s1.At)
	in := between(arr, from, to)
	r.Window, r.CPU = s1.At.Sub(s0.At), s1.CPU-s0.CPU
	r.CPUPercent = 100 * r.CPU.Seconds() / r.Window.Seconds()
	r.OthersPercent, r.IRQPercent = -1, -1
	if busyErr == nil && busyErr1 == nil {
		d := busy1.Sub(busy0)
		r.OthersPercent = max(0, 100*(d.Task-r.CPU).Seconds()/r.Window.Seconds())
		r.IRQPercent = 100 * d.IRQ.Seconds() / r.Window.Seconds()
	}
	r.Probes = len(in)
	r.ProbesPerSecond = float64(r.Probes) / r.Window.Seconds()
	r.NominalPerSecond = float64(n) / interval.Seconds()
	if r.Probes > 0 {
		r.MicrosPerProbe = float64(r.CPU.Microseconds()) / float64(r.Probes)
	}
	r.PerBackendMin, r.PerBackendMax = perBackend(in, n)
	r.OtherRequests = log.other.Load()
	r.RSS, r.HWM, r.Procs, r.Threads, r.FDs = s1.RSS, s1.HWM, s1.Procs, s1.Threads, s1.FDs

	width := interval / 10
	nominal := float64(n) / 10
	r.Spread = spreadOf(in, from, width, int(r.Window/width), nominal)
	if f, ok := first(arr); ok {
		r.Start = spreadOf(arr, f, width, 10, nominal)
		r.Timeline = spreadOf(arr, f, width, int((to-f+width-1)/width), nominal)
	}
	if !reloadAt.IsZero() {
		rs := spreadOf(arr, log.since(reloadAt), width, 20, nominal)
		r.Reload, r.ReloadAt = &rs, reloadAt.Sub(s0.At)
	}
	return r, nil
}

// cpuBusy is procstat.ReadCPU, an error when cpu < 0 (not bound).
func cpuBusy(cpu int) (procstat.CPUTimes, error) {
	if cpu < 0 {
		return procstat.CPUTimes{}, errors.New("not bound to a CPU")
	}
	return procstat.ReadCPU(cpu)
}

// waitProbed waits until every one of n backends has received minProbes
// probes, the target exits or ctx ends, saying every 10 seconds how many
// have.
func waitProbed(ctx context.Context, log *probeLog, p *proc.Proc, name string, progress io.Writer) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	next := start.Add(10 * time.Second)
	for log.minCount() < minProbes {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d backends probed %d times: %w", log.probed(minProbes), len(log.counts), minProbes, ctx.Err())
		case <-p.Done():
			return errors.New("exited before probing every backend")
		case now := <-t.C:
			if now.After(next) {
				fmt.Fprintf(progress, "%s: %d of %d backends probed %d times after %s\n", name, log.probed(minProbes), len(log.counts), minProbes, now.Sub(start).Round(time.Second))
				next = next.Add(10 * time.Second)
			}
		}
	}
	return nil
}

// sleep waits d, or fails if the target exits meanwhile.
func sleep(p *proc.Proc, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-p.Done():
		return fmt.Errorf("the target exited (%v)", p.Err())
	}
}
