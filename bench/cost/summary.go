package main

import (
	"fmt"
	"io"
	"slices"
)

// summary is what the rounds say together: the median figures of each
// target, and lb's CPU per request over each peer's, taken within each
// round (targets measured minutes apart on a shared machine drift; two
// measured side by side drift together).
type summary struct {
	Medians []median `json:"medians"`
	Ratios  []ratio  `json:"ratios"`
}

// median is one target's median figures over the rounds it completed.
type median struct {
	Target           string  `json:"target"`
	Rounds           int     `json:"rounds"`
	MicrosPerRequest float64 `json:"cpu_us_per_request"`
	P50ms            float64 `json:"p50_ms"`
	P99ms            float64 `json:"p99_ms"`
}

// ratio is lb's CPU per request over one peer's: per round where both
// have figures, and the median of those.
type ratio struct {
	Peer     string       `json:"peer"` // the ratio is lb / Peer
	PerRound []roundRatio `json:"per_round"`
	Median   float64      `json:"median"`
}

// roundRatio is the ratio within one round.
type roundRatio struct {
	Round int     `json:"round"`
	Ratio float64 `json:"ratio"`
}

// summarize computes the medians of every target in targets and, when lb
// is one of them, its ratio to each other.
func summarize(results []result, targets []string) summary {
	var s summary
	byRound := map[string]map[int]result{}
	for _, t := range targets {
		byRound[t] = map[int]result{}
		var us, p50, p99 []float64
		for _, r := range results {
			if r.Target != t || r.Error != "" {
				continue
			}
			byRound[t][r.Round] = r
			us, p50, p99 = append(us, r.MicrosPerRequest), append(p50, r.P50ms), append(p99, r.P99ms)
		}
		if len(us) > 0 {
			s.Medians = append(s.Medians, median{Target: t, Rounds: len(us),
				MicrosPerRequest: medianOf(us), P50ms: medianOf(p50), P99ms: medianOf(p99)})
		}
	}
	lb, ok := byRound["lb"]
	if !ok {
		return s
	}
	for _, t := range targets {
		if t == "lb" {
			continue
		}
		rt := ratio{Peer: t}
		var all []float64
		for round := range maxRound(results) + 1 {
			a, okA := lb[round]
			b, okB := byRound[t][round]
			if !okA || !okB || b.MicrosPerRequest == 0 {
				continue
			}
			x := a.MicrosPerRequest / b.MicrosPerRequest
			rt.PerRound = append(rt.PerRound, roundRatio{Round: round, Ratio: x})
			all = append(all, x)
		}
		if len(all) > 0 {
			rt.Median = medianOf(all)
			s.Ratios = append(s.Ratios, rt)
		}
	}
	return s
}

// maxRound is the highest round number among results.
func maxRound(results []result) int {
	m := 0
	for _, r := range results {
		m = max(m, r.Round)
	}
	return m
}

// medianOf is the median of xs (the mean of the middle two for an even
// count); 0 for none.
func medianOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// rowFormat lays out the per-round table and the medians.
const rowFormat = "%-6s %-8s %9s %9s %7s %7s %7s %7s %9s\n"

// printHeader prints the per-round table's column names.
func printHeader(w io.Writer, cpuTarget int) {
	fmt.Fprintf(w, rowFormat, "round", "target", "requests", "failures", "CPU s", "µs/req", "p50 ms", "p99 ms", fmt.Sprintf("cpu%d busy", cpuTarget))
}

// printResult prints one row of the per-round table.
func printResult(w io.Writer, r result) {
	if r.Error != "" {
		fmt.Fprintf(w, "%-6d %-8s failed: %s\n", r.Round, r.Target, r.Error)
		return
	}
	note := ""
	if r.Behind {
		note += fmt.Sprintf("  (load generator behind: %.0f req/s sent)", float64(r.Requests)/r.WindowSeconds)
	}
	if r.Profiled {
		note += "  (profiled)"
	}
	fmt.Fprintf(w, "%-6d %-8s %9d %9d %7.2f %7.1f %7.2f %7.2f %8.1f%%%s\n",
		r.Round, r.Target, r.Requests, r.Failures, r.CPUSeconds, r.MicrosPerRequest, r.P50ms, r.P99ms, r.CPUBusyPercent, note)
}

// printSummary prints the medians and the ratios.
func printSummary(w io.Writer, s summary, rounds int) {
	fmt.Fprintf(w, "\nmedian over %d round%s\n", rounds, plural(rounds))
	fmt.Fprintf(w, "%-8s %7s %7s %7s\n", "target", "µs/req", "p50 ms", "p99 ms")
	for _, m := range s.Medians {
		note := ""
		if m.Rounds != rounds {
			note = fmt.Sprintf("  (%d round%s)", m.Rounds, plural(m.Rounds))
		}
		fmt.Fprintf(w, "%-8s %7.1f %7.2f %7.2f%s\n", m.Target, m.MicrosPerRequest, m.P50ms, m.P99ms, note)
	}
	if len(s.Ratios) == 0 {
		return
	}
	fmt.Fprintf(w, "\nlb CPU per request / peer's, within each round\n")
	fmt.Fprintf(w, "%-8s", "round")
	for _, r := range s.Ratios {
		fmt.Fprintf(w, " %11s", "lb/"+r.Peer)
	}
	fmt.Fprintln(w)
	for round := 1; round <= rounds; round++ {
		fmt.Fprintf(w, "%-8d", round)
		for _, r := range s.Ratios {
			cell := "-"
			for _, x := range r.PerRound {
				if x.Round == round {
					cell = fmt.Sprintf("%.2f", x.Ratio)
				}
			}
			fmt.Fprintf(w, " %11s", cell)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%-8s", "median")
	for _, r := range s.Ratios {
		fmt.Fprintf(w, " %11.2f", r.Median)
	}
	fmt.Fprintln(w)
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
