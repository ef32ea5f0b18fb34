package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/backend"
	"github.com/lbtrust/lb/bench/examples"
	"github.com/lbtrust/lb/bench/load"
	"github.com/lbtrust/lb/bench/proc"
	"github.com/lbtrust/lb/bench/record"
	"github.com/lbtrust/lb/bench/target"
	"github.com/lbtrust/lb/internal/freeport"
)

// Timing of one measurement.
const (
	readyTimeout = 30 * time.Second // start to answering through every backend
	stopGrace    = 10 * time.Second // SIGTERM to SIGKILL
	loadTimeout  = 10 * time.Second // one request
	// loadConnections is how many idle keep-alive connections the load
	// generator keeps to the target (the failover bench's default).
	loadConnections = 100
)

// bench is what every measurement shares.
type bench struct {
	o        options
	work     string   // temporary directory
	backends []string // backend addresses, in order
	names    []string // their names (X-Backend), in order
	log      io.Writer
}

// result is one target measured in one round.
type result struct {
	Round    int    `json:"round"`
	Target   string `json:"target"`
	Requests int    `json:"requests"`
	Failures int    `json:"failures"`
	// CPUSeconds is the target's user + system CPU time over the load.
	CPUSeconds float64 `json:"cpu_seconds"`
	// MicrosPerRequest is CPUSeconds per request, in µs.
	MicrosPerRequest float64 `json:"cpu_us_per_request"`
	P50ms            float64 `json:"p50_ms"`
	P99ms            float64 `json:"p99_ms"`
	// WindowSeconds is how long the load took, from its start to the
	// last answer.
	WindowSeconds float64 `json:"window_seconds"`
	// CPUBusyPercent is how busy the target's CPU was over the window,
	// whatever ran on it: the target, other processes, interrupts.
	CPUBusyPercent float64 `json:"target_cpu_busy_percent"`
	// Threads is how many threads of the target were checked to be on
	// its CPU alone after the load.
	Threads int `json:"threads_pinned"`
	// Behind is true when the load generator sent under 95% of the
	// requests the rate asked for: it was short of CPU (other work on
	// its CPU), and the target's figure is for a lighter load.
	Behind bool `json:"load_generator_behind,omitempty"`
	// Profiled is true when lb was CPU-profiled during this load (the
	// profiler's own cost is in CPUSeconds).
	Profiled bool `json:"profiled,omitempty"`
	// Error says why there are no figures.
	Error string `json:"error,omitempty"`
}

// measure runs one target once: starts it on its CPU with its rendered
// configuration, waits until every backend answers through it, warms it
// up and measures it under load. profile, when not "", is where lb's CPU
// profile of the load goes.
func (b *bench) measure(ctx context.Context, p peer, program string, round int, profile string) (result, error) {
	res := result{Round: round, Target: p.name, Profiled: profile != ""}
	ports, err := freeport.Loopback(2)
	if err != nil {
		return res, err
	}
	listen, admin := ports[0], ""
	if p.admin {
		admin = ports[1]
	}
	dir := filepath.Join(b.work, fmt.Sprintf("%s-round%d", p.name, round))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	conf, err := b.configure(p, listen, admin, dir)
	if err != nil {
		return res, err
	}
	out := &output{prefix: fmt.Sprintf("[%s round %d] ", p.name, round), log: b.log}
	var tp *proc.Proc
	err = startOn(b.o.cpuTarget, func() (err error) {
		tp, err = proc.Start(p.argv(program, conf, dir), proc.Options{Env: p.env, OnLine: out.line, Dir: dir})
		return err
	})
	if err != nil {
		return res, err
	}
	defer tp.Stop(syscall.SIGTERM, stopGrace)

	url := "http://" + listen + "/"
	if err := b.waitReady(ctx, listen, url, tp); err != nil {
		return res, fmt.Errorf("%s: %w%s", p.name, err, out.tail())
	}
	if b.o.warmup > 0 {
		if _, err := b.load(ctx, url, b.o.warmup); err != nil {
			return res, err
		}
	}

	pid := tp.Pid()
	busy0, err := readCPUTimes(b.o.cpuTarget)
	if err != nil {
		return res, err
	}
	cpu0, err := target.GroupCPU(pid)
	if err != nil {
		return res, err
	}
	began := time.Now()
	var prof chan error
	if profile != "" {
		prof = make(chan error, 1)
		secs := int(math.Ceil(b.o.duration.Seconds()))
		go func() { prof <- fetchProfile(ctx, admin, secs, profile) }()
	}
	recs, err := b.load(ctx, url, b.o.duration)
	if err != nil {
		return res, err
	}
	window := time.Since(began)
	cpu1, err := target.GroupCPU(pid)
	if err != nil {
		return res, fmt.Errorf("%s: %w (did it exit?)%s", p.name, err, out.tail())
	}
	busy1, err := readCPUTimes(b.o.cpuTarget)
	if err != nil {
		return res, err
	}
	if res.Threads, err = checkGroup(pid, b.o.cpuTarget); err != nil {
		return res, fmt.Errorf("%s was not on CPU %d alone: %w", p.name, b.o.cpuTarget, err)
	}
	if prof != nil {
		if err := <-prof; err != nil {
			return res, fmt.Errorf("CPU profile: %w", err)
		}
	}
	res.fill(recs, cpu1-cpu0, window, busyPercent(busy0, busy1))
	res.Behind = float64(res.Requests) < 0.95*float64(b.o.rate)*b.o.duration.Seconds()
	return res, nil
}

// configure renders p's template for this run into dir and returns the
// file's path.
func (b *bench) configure(p peer, listen, admin, dir string) (string, error) {
	tmpl, err := examples.CostTemplate(p.template)
	if err != nil {
		return "", err
	}
	conf, err := render(tmpl, placeholders(listen, admin, b.backends), required(p, len(b.backends)))
	if err != nil {
		return "", fmt.Errorf("bench/examples/%s: %w", p.template, err)
	}
	path := filepath.Join(dir, p.template)
	return path, os.WriteFile(path, []byte(conf), 0o644)
}

// waitReady waits until the target accepts connections and every backend
// has answered through it.
func (b *bench) waitReady(ctx context.Context, listen, url string, tp *proc.Proc) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := target.WaitPort(ctx, listen, tp.Done()); err != nil {
		return err
	}
	if missing := target.WaitServedBy(ctx, url, backend.HeaderBackend, b.names, tp.Done()); len(missing) > 0 {
		return fmt.Errorf("backends %v never answered through it within %s", missing, readyTimeout)
	}
	return nil
}

// load sends the rate for d at url and returns every response; it stops
// early if ctx ends.
func (b *bench) load(ctx context.Context, url string, d time.Duration) ([]record.Record, error) {
	run := load.Start(load.Options{
		URL: url, Rate: b.o.rate, Duration: d,
		Connections: loadConnections, Timeout: loadTimeout,
		Header: backend.HeaderBackend, Backends: b.names,
	})
	select {
	case <-run.Done():
	case <-ctx.Done():
		run.Stop()
		<-run.Done()
		return nil, ctx.Err()
	}
	return run.Records(), nil
}

// fill computes the figures of a load's records, the target's CPU time
// over it, its duration and how busy the target's CPU was.
func (r *result) fill(recs []record.Record, cpu, window time.Duration, busy float64) {
	r.Requests = len(recs)
	lat := make([]time.Duration, len(recs))
	for i, rec := range recs {
		lat[i] = rec.Latency
		if rec.Failed() {
			r.Failures++
		}
	}
	slices.Sort(lat)
	r.P50ms = millis(percentile(lat, 0.50))
	r.P99ms = millis(percentile(lat, 0.99))
	r.CPUSeconds = cpu.Seconds()
	if r.Requests > 0 {
		r.MicrosPerRequest = float64(cpu.Microseconds()) / float64(r.Requests)
	}
	r.WindowSeconds = window.Seconds()
	r.CPUBusyPercent = busy
}

// percentile is the nearest-rank percentile p (0..1] of sorted values, as
// the failover bench reports them.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// millis is d in milliseconds.
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
