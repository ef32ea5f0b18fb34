package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/backend"
	"github.com/lbtrust/lb/bench/report"
	"github.com/lbtrust/lb/internal/syncbuf"
)

// lbBinary is the project's lb, built once by TestMain (without -race:
// the bench measures it, its own packages test it for races).
var lbBinary string

// TestMain builds lb once. Run with "backend" as its first argument (the
// bench runs its backends by executing itself), the test binary is a
// backend instead.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "backend" {
		os.Exit(backend.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	dir, err := os.MkdirTemp("", "lb-bench-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lbBinary = filepath.Join(dir, "lb")
	build := exec.Command("go", "build", "-o", lbBinary, "github.com/lbtrust/lb/cmd/lb")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building lb:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runBench runs the command with args plus -out DIR and returns the
// report it wrote, its directory and what it printed.
func runBench(t *testing.T, args ...string) (report.Report, string, string) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	code := run(ctx, append(args, "-out", dir), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("bench %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	r, err := report.Load(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bench %s:\n%s", strings.Join(args, " "), stdout.String())
	return r, dir, stdout.String()
}

// checkCounts asserts that the report's counts add up: requests close to
// rate x duration, every request either a success or a failure of one
// kind, every answer tagged by a backend or counted untagged.
func checkCounts(t *testing.T, r report.Report, rate int, d time.Duration) {
	t.Helper()
	want := float64(rate) * d.Seconds()
	if got := float64(r.Requests); got < 0.95*want || got > 1.02*want+1 {
		t.Errorf("requests = %d, want about %.0f (rate x duration)", r.Requests, want)
	}
	if r.Successes+r.Failures != r.Requests {
		t.Errorf("successes %d + failures %d != requests %d", r.Successes, r.Failures, r.Requests)
	}
	byKind := 0
	for _, n := range r.FailuresByKind {
		byKind += n
	}
	if byKind != r.Failures {
		t.Errorf("failures by kind %v add up to %d, want %d", r.FailuresByKind, byKind, r.Failures)
	}
	tagged := r.Untagged
	for _, b := range r.Backends {
		tagged += b.Answered
	}
	if tagged != r.Requests {
		t.Errorf("answers per backend + untagged = %d, want %d", tagged, r.Requests)
	}
	okSum, failSum := 0, 0
	for k := range r.Timeline.OK {
		okSum += r.Timeline.OK[k]
		failSum += r.Timeline.Failed[k]
	}
	if okSum != r.Successes || failSum != r.Failures {
		t.Errorf("timeline adds up to %d ok / %d failed, want %d / %d", okSum, failSum, r.Successes, r.Failures)
	}
}

// freeAddrs returns n loopback addresses that were free a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	a, err := freePorts(n)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// portOf returns the port part of addr.
func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// readJSON decodes a JSON file.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
