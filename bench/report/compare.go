package report

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteCompare prints two runs side by side, one figure per row.
func WriteCompare(w io.Writer, nameA string, a Report, nameB string, b Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	row := func(k string, f func(Report) string) { fmt.Fprintf(tw, "%s\t%s\t%s\n", k, f(a), f(b)) }
	fmt.Fprintf(tw, "\t%s\t%s\n", nameA, nameB)
	row("scenario", func(r Report) string { return r.Config.Scenario })
	row("target", func(r Report) string { return targetName(r.Config) })
	row("CPUs", func(r Report) string { return fmt.Sprint(r.Machine.CPUs) })
	row("rate (req/s)", func(r Report) string {
		if r.Config.Rate == 0 {
			return fmt.Sprintf("closed loop x%d", r.Config.Workers)
		}
		return fmt.Sprint(r.Config.Rate)
	})
	row("duration", func(r Report) string { return r.Config.Duration.D().String() })
	row("requests", func(r Report) string { return fmt.Sprint(r.Requests) })
	row("rps", func(r Report) string { return fmt.Sprintf("%.1f", r.RPS) })
	row("failures", func(r Report) string { return fmt.Sprintf("%d%s", r.Failures, kinds(r.FailuresByKind)) })
	row("latency p50 ms", func(r Report) string { return fmt.Sprintf("%.2f", r.Latency.P50) })
	row("latency p99 ms", func(r Report) string { return fmt.Sprintf("%.2f", r.Latency.P99) })
	row("latency p99.9 ms", func(r Report) string { return fmt.Sprintf("%.2f", r.Latency.P999) })
	row("latency max ms", func(r Report) string { return fmt.Sprintf("%.2f", r.Latency.Max) })
	row("LB CPU µs/request", func(r Report) string { return optF(r.LBCPUMicrosPerRequest, "%.1f") })
	n := max(len(a.Faults), len(b.Faults))
	for i := 0; i < n; i++ {
		get := func(r Report) (FaultFigures, bool) {
			if i < len(r.Faults) {
				return r.Faults[i], true
			}
			return FaultFigures{}, false
		}
		field := func(k string, f func(FaultFigures) string) {
			row(k, func(r Report) string {
				ff, ok := get(r)
				if !ok {
					return "-"
				}
				return f(ff)
			})
		}
		field(fmt.Sprintf("fault %d", i+1), func(f FaultFigures) string { return f.Kind + " " + f.Backend })
		field("  detection s", func(f FaultFigures) string {
			if f.DetectionS == nil && f.LastRoutedS != nil {
				return "not detected"
			}
			return optF(f.DetectionS, "%.3f")
		})
		field("  recovery s", func(f FaultFigures) string { return optF(f.RecoveryS, "%.3f") })
		field("  failed in window", func(f FaultFigures) string { return fmt.Sprint(f.FailedInWindow) })
		field("  rescued by the LB", func(f FaultFigures) string {
			if f.Rescued == nil {
				return "-"
			}
			return fmt.Sprint(*f.Rescued)
		})
	}
	return tw.Flush()
}

// optF formats an optional figure, "-" when missing.
func optF(v *float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}
