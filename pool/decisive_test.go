package pool

import (
	"testing"
	"time"
)

// TestDecisiveResultsCarryTheirThresholds: a verdict another instance
// reached (fleet sharing) moves the machine at once, both ways, and the
// transition names the member that decided it.
func TestDecisiveResultsCarryTheirThresholds(t *testing.T) {
	th := Thresholds{Healthy: 3, Unhealthy: 4}
	var m machine
	at := time.Unix(1700000000, 0)
	steps := []struct {
		r      CheckResult
		want   State
		reason Reason
	}{
		{CheckResult{Outcome: ReasonCheckPassed, Decisive: true, By: "lb-2", At: at}, StateHealthy, ReasonInitialCheck},
		{CheckResult{Outcome: ReasonTimeout, Decisive: true, By: "lb-3", At: at}, StateUnhealthy, ReasonTimeout},
		{CheckResult{Outcome: ReasonCheckPassed, Decisive: true, By: "lb-2", At: at}, StateHealthy, ReasonCheckPassed},
		{CheckResult{Outcome: ReasonBackendDraining, Decisive: true, By: "lb-2", At: at}, StateDraining, ReasonBackendDraining},
		// A local, non-decisive failure still counts one.
		{CheckResult{Outcome: ReasonTimeout, At: at}, StateDraining, ""},
	}
	for i, s := range steps {
		c, ok := m.observe(s.r, th)
		if m.state != s.want {
			t.Fatalf("step %d: state %s, want %s", i, m.state, s.want)
		}
		if s.reason == "" {
			if ok {
				t.Fatalf("step %d: unexpected transition %+v", i, c)
			}
			continue
		}
		if !ok || c.reason != s.reason || c.by != s.r.By || m.by != s.r.By {
			t.Fatalf("step %d: transition %+v (ok %v, machine by %q), want reason %s by %q", i, c, ok, m.by, s.reason, s.r.By)
		}
	}
}

// TestDrainByNamesTheMember: a drain shared by the fleet names the
// member that issued it in the transition and /status; the undrain too.
func TestDrainByNamesTheMember(t *testing.T) {
	var got []Transition
	p := New(Options{Name: "p", Policy: &rrPolicy{}, OnTransition: func(tr Transition) { got = append(got, tr) }})
	defer p.Close()
	if _, _, err := p.Add("127.0.0.1:1", 1); err != nil {
		t.Fatal(err)
	}
	if err := p.DrainBy("127.0.0.1:1", "lb-1"); err != nil {
		t.Fatal(err)
	}
	if st := p.Status().Backends[0]; st.By != "lb-1" || st.HeldBy != ReasonAdminDrain {
		t.Fatalf("status %+v", st)
	}
	if err := p.UndrainBy("127.0.0.1:1", "lb-1"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].By != "lb-1" || got[0].Reason != ReasonAdminDrain || got[2].Reason != ReasonAdminUndrain || got[2].By != "lb-1" {
		t.Fatalf("transitions %+v", got)
	}
}
