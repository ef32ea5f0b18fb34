package healthcheck

import (
	"testing"
	"time"
)

func TestGroup(t *testing.T) {
	var g Group
	spec := Spec{Interval: 100 * time.Millisecond, Timeout: 90 * time.Millisecond}
	recs := make([]*recorder, 3)
	stops := make([]func(), 3)
	for i := range recs {
		recs[i] = &recorder{}
		srv := statusServer(t, 200, "ok")
		stops[i] = g.Start(newChecker(t, spec, hostPort(srv), recs[i]))
	}
	for _, r := range recs {
		r.waitFor(t, 2)
	}

	// Stop one: its Run has returned when stop does, so it reports no more
	// while the others go on.
	stops[0]()
	frozen := recs[0].len()
	for _, r := range recs[1:] {
		r.waitFor(t, r.len()+2)
	}
	if n := recs[0].len(); n != frozen {
		t.Fatalf("stopped checker reported %d more times", n-frozen)
	}

	g.Stop()
	after := []int{recs[1].len(), recs[2].len()}
	stops[0]() // idempotent, also after Stop
	stops[1]()
	g.Stop()

	// Start on a stopped group runs nothing.
	late := &recorder{}
	srv := statusServer(t, 200, "ok")
	g.Start(newChecker(t, spec, hostPort(srv), late))()
	if n := []int{recs[1].len(), recs[2].len()}; n[0] != after[0] || n[1] != after[1] {
		t.Fatalf("reports after Stop: %v -> %v", after, n)
	}
	if late.len() != 0 {
		t.Fatal("a checker started on a stopped group ran")
	}
}

// TestGroupSpreadsFirstProbes: 300 checkers started together probe at
// once only as far as the early-probe allowance goes; the rest wait for
// their phase slots, spread over the interval, so the backends see no
// herd. Timers never fire early, so a loaded machine only makes the
// spread larger.
func TestGroupSpreadsFirstProbes(t *testing.T) {
	const n, interval = 300, 3 * time.Second
	srv := statusServer(t, 200, "ok")
	var g Group
	t.Cleanup(g.Stop)
	recs := make([]*recorder, n)
	started := make([]time.Time, n)
	for i := range recs {
		recs[i] = &recorder{}
		c := newChecker(t, Spec{Interval: interval, Timeout: time.Second}, hostPort(srv), recs[i])
		started[i] = time.Now()
		g.Start(c)
	}
	late := 0
	for i, r := range recs {
		first := r.waitFor(t, 1)[0]
		if first.At.Sub(started[i]) >= interval/4 {
			late++
		}
	}
	// earlyBurst (64) probe at once, plus what the allowance refills at
	// the group's 100 probes/s while the loop runs; about three quarters
	// of the other ~230 have their slot after the first quarter.
	if late < 100 {
		t.Errorf("%d of %d first probes came after a quarter interval, want >= 100: the first probes were not spread", late, n)
	}
}
