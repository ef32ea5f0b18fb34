package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/transfer"
	"github.com/lbtrust/lb/internal/procmem"
)

// streamInput is a small streaming run: three downloads (one failed) and
// two event streams per path.
func streamInput() StreamInput {
	cpu := 1500 * time.Millisecond
	return StreamInput{
		Config: Config{Scenario: "stream", Target: "lb", TargetAddr: "127.0.0.1:1", Backends: 2, Downloads: 3, Size: 1 << 20,
			SSEStreams: 2, SSEEvery: Duration(100 * time.Millisecond), SSEDuration: Duration(300 * time.Millisecond)},
		Machine: Machine{CPUs: 2},
		Downloads: []transfer.Download{
			{Index: 0, Bytes: 1 << 20, Start: 0, End: 2 * time.Second, Kind: "ok", Backend: "b1"},
			{Index: 1, Bytes: 1 << 20, Start: 0, End: 4 * time.Second, Kind: "ok", Backend: "b2"},
			{Index: 2, Bytes: 1000, Start: 0, End: time.Second, Kind: "short", Err: "cut", Backend: "b1"},
		},
		DownloadWall: 4 * time.Second,
		Memory: &procmem.Summary{HWM: 30 << 20, PeakRSS: 29 << 20,
			Points: []procmem.Point{{At: 0, RSS: 20 << 20}, {At: 50 * time.Millisecond, RSS: 29 << 20}}},
		MemoryBefore: 20 << 20, MemoryProcesses: 1, MemoryEvery: 50 * time.Millisecond,
		CPU: &cpu,
		ProbeTarget: []transfer.Stream{
			{FirstEvent: 10 * time.Millisecond, Delays: []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}},
			{FirstEvent: 20 * time.Millisecond, Delays: []time.Duration{4 * time.Millisecond}, Err: "after 1 events: EOF"},
		},
		ProbeDirect: []transfer.Stream{
			{FirstEvent: time.Millisecond, Delays: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}},
			{FirstEvent: time.Millisecond, Delays: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}},
		},
		DirectBackend: "b1",
	}
}

func TestBuildStream(t *testing.T) {
	r := BuildStream(streamInput())
	d := r.Downloads
	if r.Kind != StreamKind || d.Count != 3 || d.Completed != 2 || d.Failed != 1 || d.FailuresByKind["short"] != 1 ||
		d.VerifiedBytes != 2<<20+1000 || d.WallS != 4 || d.ByBackend["b1"] != 2 || len(d.Failures) != 1 || d.Failures[0].Index != 2 {
		t.Errorf("downloads %+v", d)
	}
	if want := round3(float64(2<<20+1000) / (1 << 20) / 4); d.MiBPerS != want {
		t.Errorf("MiB/s %v, want %v", d.MiBPerS, want)
	}
	if d.DurationS != (Spread{Min: 2, P50: 2, Max: 4}) {
		t.Errorf("durations %+v", d.DurationS)
	}
	m := r.TargetMemory
	if m == nil || m.VmHWMMiB != 30 || m.PeakRSSMiB != 29 || m.BeforeMiB != 20 || m.SampleEveryMS != 50 || len(m.Samples) != 2 || m.Samples[1] != (MemorySample{TS: 0.05, RSSMiB: 29}) {
		t.Errorf("memory %+v", m)
	}
	if r.LBCPUSeconds == nil || *r.LBCPUSeconds != 1.5 {
		t.Errorf("CPU %v", r.LBCPUSeconds)
	}
	s := r.SSE
	if s.Events != 3 || s.EveryMS != 100 || s.Streams != 2 || s.DirectBackend != "b1" {
		t.Errorf("SSE %+v", s)
	}
	tg := s.Target
	if tg.Complete != 1 || tg.EventsExpected != 6 || tg.EventsReceived != 4 || tg.FirstEventMS != (Spread{Min: 10, P50: 10, Max: 20}) ||
		tg.DelayMS.P50 != 2 || tg.DelayMS.Max != 4 || len(tg.Errors) != 1 {
		t.Errorf("through target %+v", tg)
	}
	if s.Direct.Complete != 2 || s.Direct.EventsReceived != 6 || s.Direct.DelayMS.P99 != 1 {
		t.Errorf("direct %+v", s.Direct)
	}

	// No probe, no target process: no figures for them.
	in := streamInput()
	in.ProbeTarget, in.ProbeDirect, in.Memory, in.CPU = nil, nil, nil, nil
	r = BuildStream(in)
	if r.SSE.Streams != 0 || r.SSE.Target.Streams != 0 || r.TargetMemory != nil || r.LBCPUSeconds != nil {
		t.Errorf("without probe and memory: %+v %+v %v", r.SSE, r.TargetMemory, r.LBCPUSeconds)
	}
	var b bytes.Buffer
	WriteStreamTable(&b, r)
	if !strings.Contains(b.String(), "SSE probe: not run") || strings.Contains(b.String(), "LB memory") {
		t.Errorf("table without probe and memory:\n%s", b.String())
	}
}

func TestStreamTableFilesAndCompare(t *testing.T) {
	r := BuildStream(streamInput())
	var b bytes.Buffer
	if err := WriteStreamTable(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"scenario stream against lb (generated config) (127.0.0.1:1), 3 downloads of 1MiB at once, 2 backends, 2 CPUs",
		"downloads     2 completed, 1 failed (short 1)",
		"per download  p50 2.00s  max 4.00s",
		"LB memory     VmHWM 30.0 MiB, sampled RSS peak 29.0 MiB (20.0 MiB before the downloads; 2 samples every 50ms)",
		"#2 short after 1000 bytes: cut",
		"through target  10.0 / 20.0", "direct to b1", "4/6", "stream error: after 1 events: EOF",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	dir := t.TempDir()
	if err := WriteStreamDir(dir, r); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, JSONFile)
	back, err := LoadStream(path)
	if err != nil || back.Downloads.Completed != 2 || back.TargetMemory.VmHWMMiB != 30 || back.SSE.Target.DelayMS.Max != 4 {
		t.Errorf("LoadStream: %+v %v", back, err)
	}
	if k, err := KindOf(path); err != nil || k != StreamKind {
		t.Errorf("KindOf(stream) = %q, %v", k, err)
	}
	other := t.TempDir()
	if err := WriteDir(other, Build(Input{Config: Config{Scenario: "none", Duration: Duration(time.Second)}}), nil); err != nil {
		t.Fatal(err)
	}
	if k, err := KindOf(filepath.Join(other, JSONFile)); err != nil || k != "" {
		t.Errorf("KindOf(failover) = %q, %v", k, err)
	}
	if _, err := LoadStream(filepath.Join(other, JSONFile)); err == nil {
		t.Error("LoadStream read a failover report")
	}
	b.Reset()
	noMem := r
	noMem.TargetMemory = nil
	if err := WriteStreamCompare(&b, "a.json", r, "b.json", noMem); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a.json", "LB VmHWM MiB", "30.0", "downloads x size", "3 x 1MiB", "SSE direct first ms"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("comparison lacks %q:\n%s", want, b.String())
		}
	}
}
