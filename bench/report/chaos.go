package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/lbtrust/lb/bench/chaos"
)

// maxTableCauses bounds the failure causes listed in the terminal table.
const maxTableCauses = 30

// writeChaos prints the chaos figures: failures by cause, the /events
// check, the lb's resources at the start, middle and end with their
// slopes.
func writeChaos(w io.Writer, r Report) {
	f := r.Chaos
	sc := f.Schedule
	steps := map[string]int{}
	for _, s := range sc.Steps {
		steps[s.Kind]++
	}
	var kinds []string
	for k, n := range steps {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	fmt.Fprintf(w, "\n  chaos        seed %d, %d steps (%s), at least %d backends untouched\n",
		sc.Params.Seed, len(sc.Steps), strings.Join(kinds, ", "), sc.Params.MinServing)
	fmt.Fprintf(w, "  failures by cause (%d unexplained, %d with no eligible backend)\n", f.Unexplained, f.NoBackend)
	if len(f.Causes) == 0 {
		fmt.Fprintf(w, "    none\n")
	}
	for i, c := range f.Causes {
		if i == maxTableCauses {
			fmt.Fprintf(w, "    ... %d more in report.json\n", len(f.Causes)-i)
			break
		}
		fmt.Fprintf(w, "    %6d  %s  %s, %.1fs-%.1fs\n", c.Count, c.Cause, kinds1(c.Kinds), c.FirstS, c.LastS)
	}
	fmt.Fprintf(w, "  transitions  %d in /events, %d unexplained; reloads %d applied of %d scheduled; %d events missed\n",
		f.Transitions, len(f.UnexplainedTransitions), f.ReloadsApplied, f.ReloadsScheduled, f.MissingEvents)
	for i, t := range f.UnexplainedTransitions {
		if i == maxTableEvents {
			fmt.Fprintf(w, "    ... %d more in report.json\n", len(f.UnexplainedTransitions)-i)
			break
		}
		fmt.Fprintf(w, "    %+9.3fs  %s %s→%s (%s) %s\n", t.AtS, t.Backend, t.From, t.To, t.Reason, t.Detail)
	}
	for _, p := range f.ReloadProblems {
		fmt.Fprintf(w, "    reload: %s\n", p)
	}
	for _, e := range f.StepErrors {
		fmt.Fprintf(w, "    step error %s\n", e)
	}
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	fmt.Fprintf(w, "  lb resources  start (before the load) / middle / end (after it, settled in %.1fs); slope over the second half, per minute\n", f.SettledS)
	fmt.Fprintf(w, "    RSS MiB     %7.1f %7.1f %7.1f   slope %+.3f\n", mib(f.Start.RSS), mib(f.Middle.RSS), mib(f.End.RSS), f.Slopes.RSSMiB)
	fmt.Fprintf(w, "    goroutines  %7d %7d %7d   slope %+.3f\n", f.Start.Goroutines, f.Middle.Goroutines, f.End.Goroutines, f.Slopes.Goroutines)
	fmt.Fprintf(w, "    fds         %7d %7d %7d   slope %+.3f\n", f.Start.FDs, f.Middle.FDs, f.End.FDs, f.Slopes.FDs)
	fmt.Fprintf(w, "    CPU %%               %7.1f           slope %+.3f\n", f.Middle.CPUPercent, f.Slopes.CPUPercent)
}

// kinds1 renders a cause's kinds: "http_500 3, timeout 1".
func kinds1(m map[string]int) string {
	return strings.TrimSuffix(strings.TrimPrefix(kinds(m), " ("), ")")
}

// chaosCharts draws the lb's resources, one sample a second.
func chaosCharts(r Report) []chart {
	f := r.Chaos
	if f == nil || len(f.Samples) == 0 {
		return nil
	}
	total := r.DurationS
	for _, s := range f.Samples {
		total = max(total, s.At.Seconds())
	}
	series := []struct {
		title string
		color string
		v     func(chaos.Sample) float64
	}{
		{"lb RSS (MiB), every second", "#1f77b4", func(s chaos.Sample) float64 { return float64(s.RSS) / (1 << 20) }},
		{"lb goroutines (go_goroutines), every second", "#9467bd", func(s chaos.Sample) float64 { return float64(s.Goroutines) }},
		{"lb open file descriptors, every second", "#8c564b", func(s chaos.Sample) float64 { return float64(s.FDs) }},
		{"lb CPU (% of one CPU), every second", "#d62728", func(s chaos.Sample) float64 { return s.CPUPercent }},
	}
	var out []chart
	for _, se := range series {
		c := newChart(se.title, int(total+0.999), 1)
		top := 0.0
		for _, s := range f.Samples {
			top = max(top, se.v(s))
		}
		y := c.linearTicks(top * 1.1)
		var xs, ys []float64
		for _, s := range f.Samples {
			xs = append(xs, c.x(s.At.Seconds(), float64(int(total+0.999))))
			ys = append(ys, y(se.v(s)))
		}
		c.Lines = append(c.Lines, line{D: path(xs, ys), Color: se.color, Name: se.title})
		c.Legend = []legendItem{{se.color, se.title}}
		c.addMarkers(r.Events, float64(int(total+0.999)))
		out = append(out, c)
	}
	return out
}
