package main

import (
	"strings"
	"testing"
)

// TestChaos is the chaos soak in small, in CI: 60 s at 200 GET/s over 6
// backends with a fixed seed (15: every fault kind but a lone drain, which
// rolling covers, overlapping, with reloads that remove, add back and
// reweight backends, and an operator drain). It fails on any failed request no
// scheduled fault explains, any request the lb answered with no eligible
// backend, any transition in /events no step explains, a reload not
// applied, and goroutines or descriptors left over once the lb settled
// after the load (within 5 of their level before it). 76 to 87 s of wall
// time (10 to 20 s of it the lb's idle backend connections and fasthttp's
// idle workers timing out after the load), alongside the other bench
// tests.
func TestChaos(t *testing.T) {
	t.Parallel()
	r, _, _ := runBench(t, "-scenario", "chaos", "-seed", "15", "-chaos-every", "2s", "-duration", "60s",
		"-rate", "200", "-lb-bin", lbBinary)
	checkCounts(t, r, 200, r.Config.Duration.D())
	f := r.Chaos
	if f == nil {
		t.Fatal("no chaos figures in the report")
	}
	kinds := map[string]bool{}
	for _, s := range f.Schedule.Steps {
		kinds[s.Kind] = true
	}
	for _, k := range []string{"kill", "hang", "slow", "errors", "flap", "rolling", "reload", "admin_drain"} {
		if !kinds[k] {
			t.Errorf("the schedule has no %s step", k)
		}
	}
	removed := false
	for _, s := range f.Schedule.Steps {
		removed = removed || strings.Contains(s.Change, "remove")
	}
	if !removed {
		t.Errorf("no reload of the schedule removes a backend")
	}
	for _, c := range f.Causes {
		t.Logf("%d failed: %s %v", c.Count, c.Cause, c.Kinds)
	}
	if f.Unexplained != 0 || f.NoBackend != 0 {
		t.Errorf("%d unexplained failures, %d with no eligible backend", f.Unexplained, f.NoBackend)
	}
	for _, u := range f.UnexplainedTransitions {
		t.Errorf("unexplained transition at %+.3fs: %s %s→%s (%s) %s", u.AtS, u.Backend, u.From, u.To, u.Reason, u.Detail)
	}
	if f.ReloadsApplied != f.ReloadsScheduled || len(f.ReloadProblems) > 0 || f.MissingEvents > 0 {
		t.Errorf("reloads %d applied of %d %v; %d events missed", f.ReloadsApplied, f.ReloadsScheduled, f.ReloadProblems, f.MissingEvents)
	}
	for _, e := range f.StepErrors {
		t.Errorf("step: %s", e)
	}
	checkSettled(t, f.Start.Goroutines, f.End.Goroutines, settleGoroutines, "goroutines")
	checkSettled(t, f.Start.FDs, f.End.FDs, settleFDs, "file descriptors")
}

// checkSettled fails t when the lb holds more than tolerance more of what
// than before the load.
func checkSettled(t *testing.T, before, after, tolerance int, what string) {
	t.Helper()
	if after > before+tolerance {
		t.Errorf("%s: %d before the load, %d after it: leaked", what, before, after)
	}
}
