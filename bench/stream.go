package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/bench/backend"
	"github.com/lbtrust/lb/bench/report"
	"github.com/lbtrust/lb/bench/transfer"
	"github.com/lbtrust/lb/demo/stream"
	"github.com/lbtrust/lb/internal/procmem"
)

// memEvery is how often the stream scenario samples the target's memory.
const memEvery = 50 * time.Millisecond

// firstSeed is the seed of the first download's body (download i has
// firstSeed + i).
const firstSeed = 1

// probeSlack is added to an event stream's length for its timeout: a
// load balancer that holds the stream until it ends still delivers it.
const probeSlack = 30 * time.Second

// runStream carries out the stream scenario and prints (and writes) its
// report; it returns the exit code.
func runStream(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	rep, err := streamBench(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	report.WriteStreamTable(stdout, rep)
	if o.out != "" {
		if err := report.WriteStreamDir(o.out, rep); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		fmt.Fprintf(stdout, "\nwrote %s\n", filepath.Join(o.out, report.JSONFile))
	}
	return 0
}

// streamBench sets up backends and target, runs the downloads while
// sampling the target's memory, then the SSE probe through the target and
// direct to the first backend at the same time. Every process it started
// is stopped before it returns.
func streamBench(ctx context.Context, o *options, stderr io.Writer) (report.StreamReport, error) {
	c := &o.cfg
	say := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	started := time.Now()
	r, err := setUp(ctx, o, stderr)
	if err != nil {
		return report.StreamReport{}, err
	}
	defer r.close()
	client := transfer.NewClient()
	defer client.Transport.(*http.Transport).CloseIdleConnections()
	in := report.StreamInput{Machine: machine(), StartedAt: started, Warnings: r.warnings, MemoryEvery: memEvery}

	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var sampler *procmem.Sampler
	var killed atomic.Bool
	if pid := r.tg.Pid(); pid != 0 {
		before, n, err := procmem.ReadGroup(pid)
		if err != nil {
			return report.StreamReport{}, fmt.Errorf("reading the target's memory: %w", err)
		}
		in.MemoryBefore, in.MemoryProcesses = before.RSS, n
		sampler = procmem.Sample(func() (procmem.Usage, error) {
			u, _, err := procmem.ReadGroup(pid)
			return u, err
		}, memEvery, c.MaxTargetRSS, func(u procmem.Usage) {
			killed.Store(true)
			r.tg.Kill()
			cancel()
		})
		defer sampler.Stop()
	}
	say("%s ready at %s; %d downloads of %s at once", targetDesc(c), c.TargetAddr, c.Downloads, stream.FormatSize(c.Size))
	cpu0, cpuErr := r.tg.CPU()
	downloads, _ := transfer.RunDownloads(dctx, client, transfer.Downloads{
		Base: "http://" + c.TargetAddr, Count: c.Downloads, Size: c.Size, Seed: firstSeed,
		Timeout: c.Timeout.D(), Header: backend.HeaderBackend,
	})
	cpu1, cpuErr1 := r.tg.CPU()
	in.Downloads = downloads
	for _, d := range downloads {
		in.DownloadWall = max(in.DownloadWall, d.End)
	}
	if cpuErr == nil && cpuErr1 == nil {
		d := cpu1 - cpu0
		in.CPU = &d
	}
	if killed.Load() {
		in.Warnings = append(in.Warnings, fmt.Sprintf("the target's RSS passed -max-target-rss (%s): the downloads were stopped and the target killed", procmem.MiB(c.MaxTargetRSS)))
	} else if r.tg.Exited() {
		in.Warnings = append(in.Warnings, "the load balancer exited during the downloads")
	}

	if c.SSEStreams > 0 && !killed.Load() && !r.tg.Exited() && ctx.Err() == nil {
		events := int(c.SSEDuration / c.SSEEvery)
		say("SSE probe: %d streams through the target and %d direct to %s, %d events each", c.SSEStreams, c.SSEStreams, r.fl.Name(0), events)
		p := transfer.Probe{Streams: c.SSEStreams, Every: c.SSEEvery.D(), Events: events, Timeout: c.SSEDuration.D() + probeSlack}
		var wg sync.WaitGroup
		wg.Go(func() {
			p := p
			p.Base = "http://" + c.TargetAddr
			in.ProbeTarget = transfer.RunProbe(ctx, client, p)
		})
		wg.Go(func() {
			p := p
			p.Base = "http://" + r.fl.Addr(0)
			in.ProbeDirect = transfer.RunProbe(ctx, client, p)
		})
		wg.Wait()
		in.DirectBackend = r.fl.Name(0)
	}
	if sampler != nil {
		sum := sampler.Stop()
		in.Memory = &sum
	}
	in.Config = *c
	return report.BuildStream(in), nil
}
