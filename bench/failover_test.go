package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/report"
)

// Short runs through the project's lb: 200 req/s for 7 s, the fault at
// 2 s, restored at 5 s, with fast health checks.
const (
	testRate     = 200
	testDuration = 7 * time.Second
	testInterval = 500 * time.Millisecond
	testTimeout  = 250 * time.Millisecond
	testThresh   = 2
	// detectionSlack is what a loaded 2-core machine may add to the
	// configured detection bound.
	detectionSlack = 2 * time.Second
)

// shortRun are the flags shared by the failover tests.
func shortRun(scenario string) []string {
	return []string{
		"-scenario", scenario, "-rate", fmt.Sprint(testRate), "-duration", testDuration.String(),
		"-fault-at", "2s", "-restore-at", "5s", "-drain-period", "1s",
		"-hc-interval", testInterval.String(), "-hc-timeout", testTimeout.String(),
		"-healthy-threshold", fmt.Sprint(testThresh), "-unhealthy-threshold", fmt.Sprint(testThresh),
	}
}

// checkFailover asserts the single fault was detected within interval x
// threshold + timeout (plus slack) and recovered from.
func checkFailover(t *testing.T, r report.Report, kind string) report.FaultFigures {
	t.Helper()
	if len(r.Faults) != 1 {
		t.Fatalf("faults = %+v, want one", r.Faults)
	}
	f := r.Faults[0]
	if f.Kind != kind || f.Backend != "b1" {
		t.Errorf("fault = %s on %s, want %s on b1", f.Kind, f.Backend, kind)
	}
	bound := time.Duration(testThresh)*testInterval + testTimeout + detectionSlack
	if f.DetectionS == nil || !f.Detected {
		t.Fatalf("fault not detected: %+v", f)
	}
	if d := time.Duration(*f.DetectionS * float64(time.Second)); d > bound {
		t.Errorf("detection %s, want at most %s (interval x threshold + timeout + slack)", d, bound)
	}
	if f.LBDownS == nil {
		t.Errorf("no LB event took b1 out of rotation: events %+v", r.Events)
	}
	if f.RecoveryS == nil {
		t.Errorf("b1 served nothing after its restore")
	}
	return f
}

func TestKillThroughLB(t *testing.T) {
	t.Parallel()
	r, dir, out := runBench(t, append(shortRun("kill"), "-lb-bin", lbBinary)...)
	checkCounts(t, r, testRate, testDuration)
	f := checkFailover(t, r, "kill")
	if f.Evidence != "lb_counters" && f.Evidence != "responses" {
		t.Errorf("detection evidence %q", f.Evidence)
	}
	if r.LBCPUSeconds == nil || *r.LBCPUSeconds <= 0 {
		t.Errorf("LB CPU not measured: %v", r.LBCPUSeconds)
	}
	for _, want := range []string{"requests", "latency ms", "detection", "recovery"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	checkSelfContained(t, filepath.Join(dir, report.HTMLFile))
	for _, name := range []string{report.ResponsesFile, "lb.hcl", "target.log", "backends.log"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("-out lacks %s: %v", name, err)
		}
	}
}

func TestDrainThroughLB(t *testing.T) {
	t.Parallel()
	r, _, _ := runBench(t, append(shortRun("drain"), "-lb-bin", lbBinary)...)
	checkCounts(t, r, testRate, testDuration)
	f := checkFailover(t, r, "drain")
	// A drain that the LB honours costs nothing: the backend keeps
	// serving until the LB stops sending, then exits.
	if r.Failures != 0 {
		t.Errorf("failures during a drain: %v", r.FailuresByKind)
	}
	if f.ExitedS == nil {
		t.Errorf("the drained backend never exited")
	}
	sawDraining := false
	for _, e := range r.Events {
		sawDraining = sawDraining || strings.Contains(e.Text, "draining")
	}
	if !sawDraining {
		t.Errorf("no LB event shows b1 draining: %+v", r.Events)
	}
}

// TestTargetCmd runs our own lb as an arbitrary -target-cmd: the bench
// only knows its address and the backend ports, and still reads its
// transitions from its log.
func TestTargetCmd(t *testing.T) {
	t.Parallel()
	addrs := freeAddrs(t, 5)
	listen, admin, bs := addrs[0], addrs[1], addrs[2:]
	cfg := fmt.Sprintf(`
admin { address = %q }
listener "x" {
  address = %q
  pool    = "p"
}
pool "p" {
  health_check {
    interval            = %q
    timeout             = %q
    healthy_threshold   = %d
    unhealthy_threshold = %d
  }
  backend %q {}
  backend %q {}
  backend %q {}
}
`, admin, listen, testInterval, testTimeout, testThresh, testThresh, bs[0], bs[1], bs[2])
	path := filepath.Join(t.TempDir(), "lb.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ports := portOf(t, bs[0]) + "," + portOf(t, bs[1]) + "," + portOf(t, bs[2])
	r, _, _ := runBench(t, append(shortRun("kill"),
		"-target-cmd", fmt.Sprintf("%q -config '%s' -log-format json", lbBinary, path),
		"-target-addr", listen, "-backend-ports", ports)...)
	checkCounts(t, r, testRate, testDuration)
	if r.Config.Target != "cmd" {
		t.Errorf("target kind %q, want cmd", r.Config.Target)
	}
	f := r.Faults[0]
	if f.LBDownS == nil {
		t.Errorf("the lb's transitions were not read from its log: events %+v", r.Events)
	}
	if f.RecoveryS == nil {
		t.Errorf("b1 served nothing after its restore")
	}
	if r.LBCPUSeconds == nil {
		t.Errorf("the command's CPU time was not measured")
	}
}
