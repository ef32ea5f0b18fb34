package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/report"
	"github.com/lbtrust/lb/internal/syncbuf"
)

// TestStreamThroughLB runs the stream scenario through the project's lb,
// small: every download arrives intact, the LB's memory is measured and
// the probe gets every event on both paths (through today's lb, which
// holds a stream until it ends, they arrive late but they arrive).
func TestStreamThroughLB(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	args := []string{"-scenario", "stream", "-downloads", "4", "-size", "8MiB", "-backends", "2",
		"-sse-streams", "2", "-sse-every", "50ms", "-sse-duration", "500ms", "-lb-bin", lbBinary, "-out", dir}
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	t.Logf("bench %s:\n%s", strings.Join(args, " "), stdout.String())
	r, err := report.LoadStream(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	d := r.Downloads
	if d.Count != 4 || d.Completed != 4 || d.Failed != 0 || d.VerifiedBytes != 4*8<<20 || d.SizeBytes != 8<<20 || d.MiBPerS <= 0 {
		t.Errorf("downloads %+v", d)
	}
	if d.ByBackend["b1"]+d.ByBackend["b2"] != 4 {
		t.Errorf("answered by %v, want b1 and b2 to add up to 4", d.ByBackend)
	}
	m := r.TargetMemory
	if m == nil || m.Processes != 1 || m.BeforeMiB <= 0 || m.VmHWMMiB < m.BeforeMiB || m.PeakRSSMiB <= 0 || len(m.Samples) == 0 {
		t.Errorf("target memory %+v", m)
	}
	if r.LBCPUSeconds == nil {
		t.Error("no LB CPU figure")
	}
	for name, p := range map[string]report.PathFigures{"through target": r.SSE.Target, "direct": r.SSE.Direct} {
		if p.Streams != 2 || p.Complete != 2 || p.EventsExpected != 20 || p.EventsReceived != 20 || p.FirstEventMS.P50 <= 0 {
			t.Errorf("SSE %s: %+v", name, p)
		}
	}
	if r.SSE.DirectBackend != "b1" || r.Config.Scenario != "stream" || r.Config.Rate != 0 || r.Config.Timeout.D() != streamTimeout {
		t.Errorf("report config %+v, direct backend %q", r.Config, r.SSE.DirectBackend)
	}
	for _, want := range []string{"downloads     4 completed, 0 failed", "LB memory", "VmHWM", "SSE probe", "through target", "direct to b1"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q", want)
		}
	}
	for _, name := range []string{"lb.hcl", "target.log", "backends.log"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("-out lacks %s: %v", name, err)
		}
	}

	// Two stream reports compare; a stream and a failover report do not.
	var out, errb bytes.Buffer
	path := filepath.Join(dir, report.JSONFile)
	if code := run(context.Background(), []string{"-compare", path + "," + path}, &out, &errb); code != 0 {
		t.Fatalf("-compare: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "LB VmHWM MiB") || !strings.Contains(out.String(), "SSE via target first ms") {
		t.Errorf("comparison:\n%s", out.String())
	}
	other := filepath.Join(t.TempDir(), report.JSONFile)
	if err := report.WriteDir(filepath.Dir(other), report.Build(report.Input{Config: report.Config{Scenario: "kill", Duration: report.Duration(time.Second)}}), nil); err != nil {
		t.Fatal(err)
	}
	if code := run(context.Background(), []string{"-compare", path + "," + other}, io.Discard, io.Discard); code != 1 {
		t.Errorf("-compare of a stream and a failover report: exit %d, want 1", code)
	}
}

// TestStreamMemoryGuard: a target whose RSS passes -max-target-rss is
// killed and the downloads stopped, with a warning; the probe is skipped.
func TestStreamMemoryGuard(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	// Today's lb holds each answer whole: 4 x 64 MiB passes 100 MiB.
	// A streaming one stays far below, and then the downloads complete.
	args := []string{"-scenario", "stream", "-downloads", "4", "-size", "64MiB", "-backends", "1",
		"-max-target-rss", "100MiB", "-lb-bin", lbBinary, "-out", dir}
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	r, err := report.LoadStream(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", stdout.String())
	if r.TargetMemory == nil {
		t.Fatal("no memory figures")
	}
	over := r.TargetMemory.PeakRSSMiB > 100 || r.TargetMemory.VmHWMMiB > 100
	warned := strings.Contains(strings.Join(r.Warnings, " "), "-max-target-rss")
	switch {
	case over && (!warned || r.Downloads.Completed == 4 || r.SSE.Target.Streams != 0):
		t.Errorf("RSS passed the guard but: warned %v, %d downloads completed, %d probe streams", warned, r.Downloads.Completed, r.SSE.Target.Streams)
	case !over && (warned || r.Downloads.Completed != 4):
		t.Errorf("RSS stayed under the guard but: warned %v, %d completed", warned, r.Downloads.Completed)
	}
}

func TestStreamFlags(t *testing.T) {
	o, err := parseFlags([]string{"-scenario", "stream"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.Downloads != 100 || c.Size != 64<<20 || c.SSEStreams != 4 || c.SSEEvery.D() != 100*time.Millisecond ||
		c.SSEDuration.D() != 3*time.Second || c.MaxTargetRSS != 8<<30 || c.Timeout.D() != streamTimeout || c.Rate != 0 || c.Duration != 0 {
		t.Errorf("stream defaults: %+v", c)
	}
	o, err = parseFlags([]string{"-scenario", "stream", "-size", "1GiB", "-timeout", "9s", "-max-target-rss", "0"}, io.Discard)
	if err != nil || o.cfg.Size != 1<<30 || o.cfg.Timeout.D() != 9*time.Second || o.cfg.MaxTargetRSS != 0 {
		t.Errorf("-size 1GiB -timeout 9s: %+v %v", o.cfg, err)
	}
	// Other scenarios carry no stream figures.
	o, err = parseFlags(nil, io.Discard)
	if err != nil || o.cfg.Downloads != 0 || o.cfg.SSEStreams != 0 || o.cfg.Size != 0 {
		t.Errorf("kill: %+v %v", o.cfg, err)
	}
	for _, args := range [][]string{
		{"-scenario", "stream", "-size", "lots"},
		{"-scenario", "stream", "-size", "0"},
		{"-scenario", "stream", "-downloads", "0"},
		{"-scenario", "stream", "-sse-every", "0s"},
		{"-scenario", "stream", "-sse-duration", "10ms"},
		{"-scenario", "stream", "-max-target-rss", "-1"},
		{"-scenario", "stream", "-backends", "0"},
	} {
		if code := run(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
