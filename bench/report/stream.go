package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lbtrust/lb/bench/transfer"
	"github.com/lbtrust/lb/demo/stream"
	"github.com/lbtrust/lb/internal/procmem"
)

// StreamKind is StreamReport.Kind: what tells a streaming run's
// report.json from a failover run's.
const StreamKind = "stream"

// maxListedFailures bounds the failed downloads a StreamReport lists.
const maxListedFailures = 10

// StreamInput is everything a streaming run observed.
type StreamInput struct {
	Config    Config    // what the run was asked to do
	Machine   Machine   // where it ran
	StartedAt time.Time // when the run started

	// Downloads are every download's outcome; DownloadWall is from the
	// first request to the end of the last body.
	Downloads    []transfer.Download
	DownloadWall time.Duration

	// Memory is the target's memory sampled over the downloads and the
	// probe (nil when the bench did not start the target); MemoryBefore
	// its RSS just before the downloads, MemoryProcesses how many
	// processes its group had, MemoryEvery the sampling interval.
	Memory          *procmem.Summary
	MemoryBefore    int64
	MemoryProcesses int
	MemoryEvery     time.Duration
	// CPU is the target's CPU time over the downloads; nil if unknown.
	CPU *time.Duration

	// ProbeTarget are the event streams through the target, ProbeDirect
	// those straight to the backend named DirectBackend.
	ProbeTarget, ProbeDirect []transfer.Stream
	DirectBackend            string

	Warnings []string
}

// StreamReport is every figure of a streaming run; it is what its
// report.json holds.
type StreamReport struct {
	FormatVersion int       `json:"format_version"` // FormatVersion
	Kind          string    `json:"kind"`           // StreamKind
	StartedAt     time.Time `json:"started_at"`
	Config        Config    `json:"config"`
	Machine       Machine   `json:"machine"`

	Downloads DownloadFigures `json:"downloads"`
	// TargetMemory is the load balancer's memory (nil when the bench did
	// not start it).
	TargetMemory *MemoryFigures `json:"target_memory,omitempty"`
	// LBCPUSeconds is the load balancer's CPU time (user + system, its
	// whole process group) over the downloads.
	LBCPUSeconds *float64 `json:"lb_cpu_seconds"`

	SSE      SSEFigures `json:"sse"`
	Warnings []string   `json:"warnings,omitempty"`
}

// DownloadFigures sums up the downloads.
type DownloadFigures struct {
	Count     int `json:"count"`     // started at once
	Completed int `json:"completed"` // every byte arrived and matched
	Failed    int `json:"failed"`
	// FailuresByKind: http_NNN, mismatch, short, stopped, timeout,
	// connection_refused, connection_reset, transport_error.
	FailuresByKind map[string]int `json:"failures_by_kind"`
	SizeBytes      int64          `json:"size_bytes"` // each body
	// VerifiedBytes is every byte that arrived and matched, completed or
	// not; WallS from the first request to the last body's end; MiBPerS
	// is VerifiedBytes over WallS, in MiB (2^20 bytes) per second.
	VerifiedBytes int64   `json:"verified_bytes"`
	WallS         float64 `json:"wall_s"`
	MiBPerS       float64 `json:"mib_per_s"`
	// DurationS summarizes each completed download's time, request to
	// last byte, in seconds.
	DurationS Spread `json:"duration_s"`
	// ByBackend counts the downloads each backend answered (X-Backend).
	ByBackend map[string]int `json:"by_backend,omitempty"`
	// Failures lists the first failed downloads.
	Failures []DownloadFailure `json:"failures,omitempty"`
}

// Spread is the median and extremes of a set of values.
type Spread struct {
	Min float64 `json:"min"`
	P50 float64 `json:"p50"`
	Max float64 `json:"max"`
}

// DownloadFailure is one failed download.
type DownloadFailure struct {
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	Bytes int64  `json:"bytes"` // that arrived and matched
	Error string `json:"error"`
}

// MemoryFigures is the load balancer's memory over the run, in MiB (2^20
// bytes). With several processes in its group each figure is their sum.
type MemoryFigures struct {
	Processes int `json:"processes"`
	// BeforeMiB is the RSS just before the downloads; VmHWMMiB the
	// kernel's peak RSS since the start (exact); PeakRSSMiB the highest
	// sampled RSS over the run.
	BeforeMiB  float64 `json:"before_mib"`
	VmHWMMiB   float64 `json:"vmhwm_mib"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// SampleEveryMS is the sampling interval; Samples every sample.
	SampleEveryMS float64        `json:"sample_every_ms"`
	Samples       []MemorySample `json:"samples"`
}

// MemorySample is the RSS at TS seconds since the downloads began.
type MemorySample struct {
	TS     float64 `json:"t_s"`
	RSSMiB float64 `json:"rss_mib"`
}

// SSEFigures compares event streams through the target with streams
// direct to a backend, run at the same time. It is zero when the probe
// did not run (-sse-streams 0, or the downloads ended the run).
type SSEFigures struct {
	Streams int     `json:"streams"`  // per path
	EveryMS float64 `json:"every_ms"` // between events
	Events  int     `json:"events"`   // per stream
	// Target is through the load balancer; Direct straight to the
	// backend DirectBackend.
	Target        PathFigures `json:"through_target"`
	Direct        PathFigures `json:"direct"`
	DirectBackend string      `json:"direct_backend"`
}

// PathFigures are one path's event streams.
type PathFigures struct {
	Streams        int `json:"streams"`
	Complete       int `json:"complete"` // streams that got every event
	EventsExpected int `json:"events_expected"`
	EventsReceived int `json:"events_received"`
	// FirstEventMS: from the request to the first event, per stream.
	FirstEventMS Spread `json:"first_event_ms"`
	// DelayMS: every event, from the backend's write (sent_unix_ns) to
	// the client's read.
	DelayMS Latency  `json:"delay_ms"`
	Errors  []string `json:"errors,omitempty"`
}

// BuildStream computes the report.
func BuildStream(in StreamInput) StreamReport {
	r := StreamReport{
		FormatVersion: FormatVersion,
		Kind:          StreamKind,
		StartedAt:     in.StartedAt,
		Config:        in.Config,
		Machine:       in.Machine,
		Warnings:      in.Warnings,
	}
	d := &r.Downloads
	d.Count, d.SizeBytes, d.FailuresByKind = len(in.Downloads), in.Config.Size, map[string]int{}
	d.WallS = in.DownloadWall.Seconds()
	var took []float64
	for _, x := range in.Downloads {
		d.VerifiedBytes += x.Bytes
		if x.Backend != "" {
			if d.ByBackend == nil {
				d.ByBackend = map[string]int{}
			}
			d.ByBackend[x.Backend]++
		}
		if x.OK() {
			d.Completed++
			took = append(took, (x.End - x.Start).Seconds())
			continue
		}
		d.Failed++
		d.FailuresByKind[x.Kind]++
		if len(d.Failures) < maxListedFailures {
			d.Failures = append(d.Failures, DownloadFailure{Index: x.Index, Kind: x.Kind, Bytes: x.Bytes, Error: x.Err})
		}
	}
	if d.WallS > 0 {
		d.MiBPerS = round3(float64(d.VerifiedBytes) / (1 << 20) / d.WallS)
	}
	d.DurationS = spread(took)
	if in.Memory != nil {
		m := &MemoryFigures{
			Processes:     in.MemoryProcesses,
			BeforeMiB:     mib(in.MemoryBefore),
			VmHWMMiB:      mib(in.Memory.HWM),
			PeakRSSMiB:    mib(in.Memory.PeakRSS),
			SampleEveryMS: float64(in.MemoryEvery) / 1e6,
		}
		for _, p := range in.Memory.Points {
			m.Samples = append(m.Samples, MemorySample{TS: round3(p.At.Seconds()), RSSMiB: mib(p.RSS)})
		}
		r.TargetMemory = m
	}
	if in.CPU != nil {
		s := in.CPU.Seconds()
		r.LBCPUSeconds = &s
	}
	c := in.Config
	events := 0
	if c.SSEEvery > 0 {
		events = int(c.SSEDuration / c.SSEEvery)
	}
	if len(in.ProbeTarget)+len(in.ProbeDirect) > 0 {
		r.SSE = SSEFigures{
			Streams: c.SSEStreams, EveryMS: float64(c.SSEEvery) / 1e6, Events: events,
			Target: pathFigures(in.ProbeTarget, events), Direct: pathFigures(in.ProbeDirect, events),
			DirectBackend: in.DirectBackend,
		}
	}
	return r
}

// pathFigures sums up one path's streams.
func pathFigures(streams []transfer.Stream, events int) PathFigures {
	p := PathFigures{Streams: len(streams), EventsExpected: len(streams) * events}
	var first []float64
	var delays []time.Duration
	for _, s := range streams {
		p.EventsReceived += len(s.Delays)
		if len(s.Delays) == events && s.Err == "" {
			p.Complete++
		}
		if s.FirstEvent >= 0 {
			first = append(first, ms(s.FirstEvent))
		}
		delays = append(delays, s.Delays...)
		if s.Err != "" {
			p.Errors = append(p.Errors, s.Err)
		}
	}
	p.FirstEventMS = spread(first)
	if len(delays) > 0 {
		var sum time.Duration
		for _, d := range delays {
			sum += d
		}
		slices.Sort(delays)
		p.DelayMS = Latency{
			Mean: ms(sum / time.Duration(len(delays))),
			P50:  ms(percentile(delays, 0.50)),
			P90:  ms(percentile(delays, 0.90)),
			P99:  ms(percentile(delays, 0.99)),
			P999: ms(percentile(delays, 0.999)),
			Max:  ms(delays[len(delays)-1]),
		}
	}
	return p
}

// spread is the minimum, nearest-rank median and maximum of vs.
func spread(vs []float64) Spread {
	if len(vs) == 0 {
		return Spread{}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	i := int(math.Ceil(0.5*float64(len(s)))) - 1
	return Spread{Min: round3(s[0]), P50: round3(s[max(i, 0)]), Max: round3(s[len(s)-1])}
}

// mib is n bytes in MiB, to a tenth.
func mib(n int64) float64 { return math.Round(float64(n)/(1<<20)*10) / 10 }

// round3 rounds to three decimals.
func round3(v float64) float64 { return math.Round(v*1e3) / 1e3 }

// WriteStreamTable prints a streaming run for a terminal.
func WriteStreamTable(w io.Writer, r StreamReport) error {
	c := r.Config
	fmt.Fprintf(w, "scenario stream against %s (%s), %d downloads of %s at once, %d backends, %d CPUs\n\n",
		targetName(c), c.TargetAddr, c.Downloads, stream.FormatSize(c.Size), c.Backends, r.Machine.CPUs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, a...)...) }
	d := r.Downloads
	row("downloads", "%d completed, %d failed%s", d.Completed, d.Failed, kinds(d.FailuresByKind))
	row("throughput", "%.1f MiB verified in %.2fs: %.1f MiB/s", float64(d.VerifiedBytes)/(1<<20), d.WallS, d.MiBPerS)
	if len(d.ByBackend) > 0 {
		row("answered by", "%s", byBackendText(d.ByBackend))
	}
	if d.Completed > 0 {
		row("per download", "p50 %.2fs  max %.2fs  (min %.2fs)", d.DurationS.P50, d.DurationS.Max, d.DurationS.Min)
	}
	if m := r.TargetMemory; m != nil {
		procs := ""
		if m.Processes > 1 {
			procs = fmt.Sprintf(", %d processes", m.Processes)
		}
		row("LB memory", "VmHWM %.1f MiB, sampled RSS peak %.1f MiB (%.1f MiB before the downloads; %d samples every %gms%s)",
			m.VmHWMMiB, m.PeakRSSMiB, m.BeforeMiB, len(m.Samples), m.SampleEveryMS, procs)
	}
	if r.LBCPUSeconds != nil {
		row("LB CPU", "%.2f s over the downloads", *r.LBCPUSeconds)
	}
	for _, f := range d.Failures {
		row("  failed", "#%d %s after %d bytes: %s", f.Index, f.Kind, f.Bytes, f.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := r.SSE
	if s.Streams == 0 {
		fmt.Fprintf(w, "\n  SSE probe: not run\n")
	} else {
		fmt.Fprintf(w, "\n  SSE probe: %d streams through the target and %d direct to %s at the same time, one event every %gms, %d events each\n",
			s.Streams, s.Streams, s.DirectBackend, s.EveryMS, s.Events)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  \tfirst event ms p50 / max\tdelay ms p50\tp99\tmax\tevents\n")
		for _, p := range []struct {
			name string
			f    PathFigures
		}{{"through target", s.Target}, {"direct to " + s.DirectBackend, s.Direct}} {
			fmt.Fprintf(tw, "  %s\t%.1f / %.1f\t%.2f\t%.2f\t%.2f\t%d/%d\n", p.name,
				p.f.FirstEventMS.P50, p.f.FirstEventMS.Max, p.f.DelayMS.P50, p.f.DelayMS.P99, p.f.DelayMS.Max,
				p.f.EventsReceived, p.f.EventsExpected)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, p := range []PathFigures{s.Target, s.Direct} {
			for _, e := range p.Errors {
				fmt.Fprintf(w, "  stream error: %s\n", e)
			}
		}
	}
	for _, m := range r.Warnings {
		fmt.Fprintf(w, "\n  warning: %s", m)
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	return nil
}

// WriteStreamDir writes report.json into dir, creating it if needed.
func WriteStreamDir(dir string, r StreamReport) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, JSONFile), append(js, '\n'), 0o644)
}

// LoadStream reads a streaming run's report.json.
func LoadStream(path string) (StreamReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return StreamReport{}, err
	}
	var r StreamReport
	if err := json.Unmarshal(data, &r); err != nil {
		return StreamReport{}, fmt.Errorf("%s: %w", path, err)
	}
	if r.FormatVersion != FormatVersion || r.Kind != StreamKind {
		return StreamReport{}, fmt.Errorf("%s: not a stream report of format %d", path, FormatVersion)
	}
	return r, nil
}

// KindOf says which run a report.json describes: StreamKind, or "" for a
// failover run.
func KindOf(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return head.Kind, nil
}

// WriteStreamCompare prints two streaming runs side by side.
func WriteStreamCompare(w io.Writer, nameA string, a StreamReport, nameB string, b StreamReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	row := func(k string, f func(StreamReport) string) { fmt.Fprintf(tw, "%s\t%s\t%s\n", k, f(a), f(b)) }
	mem := func(f func(*MemoryFigures) float64) func(StreamReport) string {
		return func(r StreamReport) string {
			if r.TargetMemory == nil {
				return "-"
			}
			return fmt.Sprintf("%.1f", f(r.TargetMemory))
		}
	}
	fmt.Fprintf(tw, "\t%s\t%s\n", nameA, nameB)
	row("scenario", func(r StreamReport) string { return r.Config.Scenario })
	row("target", func(r StreamReport) string { return targetName(r.Config) })
	row("CPUs", func(r StreamReport) string { return fmt.Sprint(r.Machine.CPUs) })
	row("downloads x size", func(r StreamReport) string {
		return fmt.Sprintf("%d x %s", r.Config.Downloads, stream.FormatSize(r.Config.Size))
	})
	row("completed", func(r StreamReport) string { return fmt.Sprint(r.Downloads.Completed) })
	row("failed", func(r StreamReport) string {
		return fmt.Sprintf("%d%s", r.Downloads.Failed, kinds(r.Downloads.FailuresByKind))
	})
	row("MiB/s", func(r StreamReport) string { return fmt.Sprintf("%.1f", r.Downloads.MiBPerS) })
	row("download p50 s", func(r StreamReport) string { return fmt.Sprintf("%.2f", r.Downloads.DurationS.P50) })
	row("download max s", func(r StreamReport) string { return fmt.Sprintf("%.2f", r.Downloads.DurationS.Max) })
	row("LB VmHWM MiB", mem(func(m *MemoryFigures) float64 { return m.VmHWMMiB }))
	row("LB RSS peak MiB", mem(func(m *MemoryFigures) float64 { return m.PeakRSSMiB }))
	row("LB RSS before MiB", mem(func(m *MemoryFigures) float64 { return m.BeforeMiB }))
	row("LB CPU s", func(r StreamReport) string { return optF(r.LBCPUSeconds, "%.2f") })
	for _, p := range []struct {
		name string
		f    func(StreamReport) PathFigures
	}{
		{"SSE via target", func(r StreamReport) PathFigures { return r.SSE.Target }},
		{"SSE direct", func(r StreamReport) PathFigures { return r.SSE.Direct }},
	} {
		row(p.name+" first ms", func(r StreamReport) string { return fmt.Sprintf("%.1f", p.f(r).FirstEventMS.P50) })
		row("  delay p50 ms", func(r StreamReport) string { return fmt.Sprintf("%.2f", p.f(r).DelayMS.P50) })
		row("  delay p99 ms", func(r StreamReport) string { return fmt.Sprintf("%.2f", p.f(r).DelayMS.P99) })
		row("  delay max ms", func(r StreamReport) string { return fmt.Sprintf("%.2f", p.f(r).DelayMS.Max) })
		row("  events", func(r StreamReport) string {
			return fmt.Sprintf("%d/%d", p.f(r).EventsReceived, p.f(r).EventsExpected)
		})
	}
	return tw.Flush()
}

// byBackendText renders the downloads per backend, sorted by name.
func byBackendText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, "  ")
}
