package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/lbtrust/lb/bench/backend"
	"github.com/lbtrust/lb/bench/chaos"
	"github.com/lbtrust/lb/bench/load"
	"github.com/lbtrust/lb/bench/record"
	"github.com/lbtrust/lb/bench/report"
)

// Tolerances of the end-of-run comparison with the lb before the load:
// what may be left over without counting as a leak (a probe connection
// being redialled, a timer goroutine of a backend that was re-added).
const (
	settleGoroutines = 5
	settleFDs        = 5
)

// runChaos is -scenario chaos: the schedule, printed; the run; the
// report with its chaos figures.
func runChaos(ctx context.Context, o *options, stdout, stderr io.Writer) int {
	rep, recs, err := chaosBench(ctx, o, stdout, stderr)
	return writeReport(o, rep, recs, err, stdout, stderr)
}

// chaosParams are the schedule's parameters for the run c describes.
func chaosParams(c *report.Config) chaos.Params {
	hc := c.HCInterval.D()
	return chaos.Params{
		Seed: c.Seed, Duration: c.Duration.D(), Backends: c.Backends, MinServing: c.MinServing,
		Every: c.ChaosEvery.D(), DrainPeriod: c.DrainPeriod.D(),
		// Back through the checks: healthy_threshold passes, a probe
		// interval's phase and a margin. Passively ejected: base_ejection
		// (10s) on top.
		ShortTail: time.Duration(c.HealthyThreshold+2) * hc,
		LongTail:  10*time.Second + time.Duration(c.HealthyThreshold+2)*hc,
	}
}

// chaosOperator reloads and drains the lb the bench generated.
type chaosOperator struct {
	c      *report.Config
	rig    *rig
	client *http.Client
}

func (op *chaosOperator) Reload(members, weights []int) error {
	var addrs []string
	var ws []int
	for _, i := range members {
		addrs = append(addrs, op.rig.fl.Addr(i))
		ws = append(ws, weights[i])
	}
	text := generatedConfig(op.c, addrs, ws).HCL()
	tmp := op.rig.configPath + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, op.rig.configPath); err != nil {
		return err
	}
	return op.rig.tg.Signal(syscall.SIGHUP)
}

func (op *chaosOperator) AdminDrain(i int, drain bool) error {
	action := "undrain"
	if drain {
		action = "drain"
	}
	u := "http://" + op.c.AdminAddr + "/pools/bench/backends/" + op.rig.fl.Addr(i) + "/" + action
	resp, err := op.client.Post(u, "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", u, resp.Status)
	}
	return nil
}

// chaosBench carries out one chaos run.
func chaosBench(ctx context.Context, o *options, stdout, stderr io.Writer) (report.Report, []record.Record, error) {
	c := &o.cfg
	say := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	sc, err := chaos.Generate(chaosParams(c))
	if err != nil {
		return report.Report{}, nil, err
	}
	fmt.Fprint(stdout, sc.String())
	fmt.Fprintln(stdout)
	started := time.Now()
	r, err := setUp(ctx, o, stderr)
	if err != nil {
		return report.Report{}, nil, err
	}
	defer r.close()
	fl, tg := r.fl, r.tg
	say("lb ready at %s; chaos for %s, seed %d", c.TargetAddr, c.Duration.D(), c.Seed)

	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	start, err := chaos.Measure(ctx, hc, tg.Pid(), c.AdminAddr)
	if err != nil {
		return report.Report{}, nil, fmt.Errorf("measuring the lb before the load: %w", err)
	}
	names := make([]string, fl.Len())
	for i := range names {
		names[i] = fl.Name(i)
	}
	cpu0, cpuErr := tg.CPU()
	lr := load.Start(load.Options{
		URL: "http://" + c.TargetAddr + c.Path, Method: c.Method,
		Rate: c.Rate, Duration: c.Duration.D(), Connections: c.Connections, Workers: c.Workers,
		Timeout: c.Timeout.D(), Header: backend.HeaderBackend, Backends: names,
	})
	began := lr.Began()
	w := chaos.Watch(tg.Pid(), c.AdminAddr, began, time.Second)
	xctx, xcancel := context.WithCancel(ctx)
	defer xcancel()
	x := chaos.Start(xctx, sc, fl, &chaosOperator{c: c, rig: r, client: hc}, began)
	stopProgress := func() {}
	if o.progress {
		stopProgress = showProgress(stdout, lr, c.Duration.D())
	}
	warnings := r.warnings
	warnings = awaitLoad(ctx, lr, tg, warnings)
	recs := lr.Records()
	stopProgress()
	cpu1, cpuErr1 := tg.CPU()
	w.Stop()
	xcancel() // steps still under way are undone now
	done := x.Wait()

	// Settle: the load's connections closed, wait for the lb's
	// goroutines and descriptors to come back to where they were.
	lr.CloseIdle()
	settleStart := time.Now()
	var end chaos.Sample
	for {
		end, err = chaos.Measure(ctx, hc, tg.Pid(), c.AdminAddr)
		if err == nil && end.Goroutines <= start.Goroutines+settleGoroutines && end.FDs <= start.FDs+settleFDs {
			break
		}
		if time.Since(settleStart) >= c.Settle.D() || ctx.Err() != nil || tg.Exited() {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		warnings = append(warnings, "measuring the lb after the load: "+err.Error())
	}
	settled := time.Since(settleStart)
	events, missing := w.Events()
	if n, last := w.Errors(); n > 0 {
		warnings = append(warnings, fmt.Sprintf("%d readings of the lb's /metrics, /events or /proc failed (last: %s)", n, last))
	}

	in := report.Input{Config: *c, Machine: machine(), StartedAt: started, Records: recs, Warnings: warnings}
	for i := range names {
		in.Backends = append(in.Backends, report.BackendInfo{Name: names[i], Addr: fl.Addr(i)})
	}
	for _, d := range done {
		s := sc.Steps[d.ID-1]
		if s.Kind == chaos.KindReload {
			continue
		}
		in.Events = append(in.Events, record.Event{At: d.At, Kind: record.EventFault, Backend: s.Backend})
		if d.Until > 0 {
			in.Events = append(in.Events, record.Event{At: d.Until, Kind: record.EventRestore, Backend: s.Backend})
		}
	}
	in.Events = appendLBEvents(in.Events, tg.LogEvents(), began, fl)
	if cpuErr == nil && cpuErr1 == nil {
		d := cpu1 - cpu0
		in.CPU = &d
	}
	sortByStart(recs)
	rep := report.Build(in)
	fig := chaos.Judge(chaos.Input{
		Schedule: sc, Done: done, Records: recs, Addrs: fl.Addrs(), Began: began,
		Events: events, MissingEvents: missing, Samples: w.Samples(),
		Start: start, End: end, Settled: settled,
	})
	rep.Chaos = &fig
	return rep, recs, nil
}
