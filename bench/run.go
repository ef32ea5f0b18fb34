package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lbtrust/lb/bench/record"
	"github.com/lbtrust/lb/bench/report"
	"github.com/lbtrust/lb/bench/scenario"
)

// run is the whole command: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if o.compare != "" {
		return compare(o.compare, stdout, stderr)
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	o.backendCmd = []string{exe, "backend"}
	if o.cfg.Scenario == scenario.Stream {
		return runStream(ctx, o, stdout, stderr)
	}
	o.progress = isTerminal(stdout)
	if o.cfg.Scenario == scenario.Chaos {
		return runChaos(ctx, o, stdout, stderr)
	}
	rep, recs, err := bench(ctx, o, stdout, stderr)
	return writeReport(o, rep, recs, err, stdout, stderr)
}

// writeReport ends a run: its error, or its table on stdout and, with
// -out, report.json and report.html. It returns the exit code.
func writeReport(o *options, rep report.Report, recs []record.Record, err error, stdout, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	report.WriteTable(stdout, rep)
	if o.out != "" {
		if err := report.WriteDir(o.out, rep, recs); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		fmt.Fprintf(stdout, "\nwrote %s and %s\n", filepath.Join(o.out, report.JSONFile), filepath.Join(o.out, report.HTMLFile))
	}
	return 0
}

// compare prints two report.json files side by side: two failover runs
// or two stream runs.
func compare(arg string, stdout, stderr io.Writer) int {
	paths := strings.Split(arg, ",")
	if len(paths) != 2 {
		fmt.Fprintln(stderr, "bench: -compare wants two files: a.json,b.json")
		return 2
	}
	var kinds [2]string
	for i, p := range paths {
		paths[i] = strings.TrimSpace(p)
		k, err := report.KindOf(paths[i])
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		kinds[i] = k
	}
	if kinds[0] != kinds[1] {
		fmt.Fprintln(stderr, "bench: -compare: one report is of a stream run and the other is not")
		return 1
	}
	if kinds[0] == report.StreamKind {
		var reps [2]report.StreamReport
		for i, p := range paths {
			r, err := report.LoadStream(p)
			if err != nil {
				fmt.Fprintln(stderr, "bench:", err)
				return 1
			}
			reps[i] = r
		}
		report.WriteStreamCompare(stdout, paths[0], reps[0], paths[1], reps[1])
		return 0
	}
	var reps []report.Report
	for _, p := range paths {
		r, err := report.Load(strings.TrimSpace(p))
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		reps = append(reps, r)
	}
	report.WriteCompare(stdout, paths[0], reps[0], paths[1], reps[1])
	return 0
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// sortByStart orders records by start time.
func sortByStart(recs []record.Record) {
	slices.SortFunc(recs, func(a, b record.Record) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
}
