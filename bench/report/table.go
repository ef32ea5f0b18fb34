package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// maxTableEvents bounds the events listed in the terminal table.
const maxTableEvents = 20

// WriteTable prints the report for a terminal.
func WriteTable(w io.Writer, r Report) error {
	c := r.Config
	load := fmt.Sprintf("%d req/s", c.Rate)
	if c.Rate == 0 {
		load = fmt.Sprintf("closed loop, %d workers", c.Workers)
	}
	fmt.Fprintf(w, "scenario %s against %s (%s), %s for %s, %s, %d backends, %d CPUs\n\n",
		c.Scenario, targetName(c), c.TargetAddr, load, c.Duration.D(), c.Method, c.Backends, r.Machine.CPUs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, a...)...) }
	row("requests", "%d (%.1f/s)", r.Requests, r.RPS)
	row("successes", "%d (%.1f/s)", r.Successes, r.SuccessRPS)
	row("failures", "%d%s", r.Failures, kinds(r.FailuresByKind))
	l := r.Latency
	row("latency ms", "p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f", l.P50, l.P99, l.P999, l.Max, l.Mean)
	var served []string
	for _, b := range r.Backends {
		served = append(served, fmt.Sprintf("%s %d", b.Name, b.Answered))
	}
	if len(served) > 0 {
		row("answered by", "%s  (untagged %d)", strings.Join(served, "  "), r.Untagged)
	}
	if r.LBCPUSeconds != nil {
		per := ""
		if r.LBCPUMicrosPerRequest != nil {
			per = fmt.Sprintf("  %.1f µs/request", *r.LBCPUMicrosPerRequest)
		}
		row("LB CPU", "%.2f s%s", *r.LBCPUSeconds, per)
	}
	for _, f := range r.Faults {
		fmt.Fprintln(tw)
		row("fault", "%s %s at %.2fs%s, restored at %s", f.Kind, f.Backend, f.AtS, exited(f), optS(f.RestoredAtS, "s", "never"))
		det := "not measurable (no failure, no answer from it, no LB counters)"
		switch {
		case f.DetectionS != nil:
			det = fmt.Sprintf("%.3fs (%s)", *f.DetectionS, f.Evidence)
		case f.LastRoutedS != nil:
			det = "NOT DETECTED within the fault window: still routed to in its last tenth"
		}
		row("  detection", "%s", det)
		row("  recovery", "%s", optS(f.RecoveryS, "s", "not recovered"))
		if f.LBDownS != nil || f.LBUpS != nil || f.LBTransitions > 0 {
			row("  LB events", "down after %s, up after %s, %d transitions",
				optS(f.LBDownS, "s", "-"), optS(f.LBUpS, "s", "-"), f.LBTransitions)
		}
		rescued := ""
		if f.Rescued != nil {
			rescued = fmt.Sprintf(", %d rescued from it by the LB", *f.Rescued)
		}
		row("  in window", "%d routed to it, %d failed%s", f.RoutedInWindow, f.FailedInWindow, rescued)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Chaos != nil {
		writeChaos(w, r)
	} else if len(r.Events) > 0 {
		fmt.Fprintf(w, "\n  events (s since load start)\n")
		for i, e := range r.Events {
			if i == maxTableEvents {
				fmt.Fprintf(w, "    ... %d more in report.json\n", len(r.Events)-i)
				break
			}
			fmt.Fprintf(w, "    %+8.3f  %s\n", e.TS, e.Text)
		}
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "\n  warning: %s", s)
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	return nil
}

// targetName describes the load balancer under test.
func targetName(c Config) string {
	switch c.Target {
	case "lb":
		return "lb (generated config)"
	case "lb-config":
		return "lb -config " + c.ConfigFile
	case "cmd":
		return c.TargetCmd
	}
	return "the target"
}

// kinds renders failures by kind: " (http_502 3, timeout 1)".
func kinds(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func exited(f FaultFigures) string {
	if f.ExitedS == nil {
		return ""
	}
	return fmt.Sprintf(", exited at %.2fs", *f.ExitedS)
}

// optS formats an optional number of seconds.
func optS(v *float64, unit, none string) string {
	if v == nil {
		return none
	}
	return fmt.Sprintf("%.3f%s", *v, unit)
}
