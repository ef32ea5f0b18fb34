package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// printTables writes the cost table and the spread table of the
// summaries.
func printTables(w io.Writer, s settings, sums []summary) {
	fmt.Fprintf(w, "ready s: from the target's start until every backend had been probed %d times; the rest over the window\n", minProbes)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tready s\tCPU/core\tµs/probe\tprobes\tprobes/s\tRSS MiB\tHWM MiB\tthreads\tgoroutines\tfds")
	for _, m := range sums {
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f%%\t%.1f\t%.0f\t%.1f\t%.1f\t%.1f\t%.0f\t%s\t%.0f\n",
			m.Target, m.ReadySeconds, m.CPUPercent, m.MicrosPerProbe, m.Probes, m.ProbesPerSecond, m.RSSMiB, m.HWMMiB, m.Threads, orDash(m.Goroutines), m.FDs)
	}
	tw.Flush()
	fmt.Fprintln(w)
	width := s.Checks.Interval / 10
	fmt.Fprintf(w, "spread of the probes per %s (a tenth of the interval): over the window, CV and fullest/emptiest bucket over the mean;\n", width)
	fmt.Fprintf(w, "start (the first interval from the first probe) and reload (two intervals from the signal): fullest/emptiest bucket over the nominal %g\n", float64(s.Backends)/10)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tCV\tmax/mean\tmin/mean\tstart peak\treload peak\treload trough")
	for _, m := range sums {
		peak, trough := "-", "-"
		if m.HasReload {
			peak, trough = fmt.Sprintf("%.2f", m.ReloadPeak), fmt.Sprintf("%.2f", m.ReloadTrough)
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%.2f\t%.2f\t%.2f\t%s\t%s\n", m.Target, m.CV, m.MaxMean, m.MinMean, m.StartPeak, peak, trough)
	}
	tw.Flush()
}

// printBuckets writes a run's start (and reload) bucket counts on a line
// each.
func printBuckets(w io.Writer, r result) {
	fmt.Fprintf(w, "  %-8s round %d  start   %s\n", r.Target, r.Round, counts(r.Start.Counts))
	if r.Reload != nil {
		fmt.Fprintf(w, "  %-8s round %d  reload  %s\n", r.Target, r.Round, counts(r.Reload.Counts))
	}
}

// counts joins bucket counts with blanks.
func counts(c []int) string {
	s := make([]string, len(c))
	for i, n := range c {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

// orDash formats a count, "-" for an unknown (negative) one.
func orDash(v float64) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}
