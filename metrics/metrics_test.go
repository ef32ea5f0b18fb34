package metrics

import (
	"testing"

	"github.com/lbtrust/lb/balancer"
	"github.com/lbtrust/lb/pool"
)

// TestRequestPathAllocatesNothing: what the request path does for metrics
// (observe a resolved duration child, count an answer on the backend)
// allocates nothing.
func TestRequestPathAllocatesNothing(t *testing.T) {
	m := New(func() []*pool.Pool { return nil })
	h := m.RequestDuration("web")
	pol, _ := balancer.New(balancer.RoundRobin)
	p := pool.New(pool.Options{Name: "web", Policy: pol})
	defer p.Close()
	b, _, err := p.Add("127.0.0.1:1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() {
		h.Observe(0.012)
		b.NoteStatus(200)
	}); n != 0 {
		t.Fatalf("%v allocs per request, want 0", n)
	}
}

// TestTransitionCounts: a transition counts once, and a drain or an
// ejection also in its own counter.
func TestTransitionCounts(t *testing.T) {
	m := New(func() []*pool.Pool { return nil })
	m.Transition(pool.Transition{Pool: "web", From: pool.StateHealthy, To: pool.StateDraining, Reason: pool.ReasonAdminDrain})
	m.Transition(pool.Transition{Pool: "web", From: pool.StateHealthy, To: pool.StateUnhealthy, Reason: pool.ReasonPassiveEjection})
	m.Transition(pool.Transition{Pool: "web", From: pool.StateUnhealthy, To: pool.StateUnhealthy, Reason: pool.ReasonTimeout})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			got[f.GetName()] += mt.GetCounter().GetValue()
		}
	}
	for name, want := range map[string]float64{NameTransitions: 3, NameDrains: 1, NameEjections: 1} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}

// TestForgetPool: ForgetPool deletes every series of that pool and only
// those.
func TestForgetPool(t *testing.T) {
	m := New(func() []*pool.Pool { return nil })
	for _, name := range []string{"old", "web"} {
		m.RequestDuration(name).Observe(0.01)
		m.Transition(pool.Transition{Pool: name, From: pool.StateHealthy, To: pool.StateDraining, Reason: pool.ReasonRemovedFromConfig})
		m.Transition(pool.Transition{Pool: name, From: pool.StateHealthy, To: pool.StateUnhealthy, Reason: pool.ReasonSilent})
		m.Checks(name).ObserveCheck(pool.CheckResult{Outcome: pool.ReasonCheckPassed})
	}
	m.ForgetPool("old")
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "pool" {
					seen[l.GetValue()]++
				}
			}
		}
	}
	// web: its request duration, two transitions, a drain, an ejection,
	// its check duration and its check count.
	if seen["old"] != 0 || seen["web"] != 7 {
		t.Fatalf("series by pool after ForgetPool(old): %v, want web 7 and no old", seen)
	}
}
