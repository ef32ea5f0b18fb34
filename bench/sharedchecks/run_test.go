package main

import (
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

// TestRunSmallFleet runs the whole tool with tiny numbers (three lb
// instances, twelve backends, checks every 200ms) and checks that every
// figure was observed and is sane. It asserts no speed: every wait in
// run is a poll with a generous deadline.
func TestRunSmallFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/lb and starts three lb processes")
	}
	s := settings{Instances: 3, Backends: 12, Interval: Millis(200 * time.Millisecond), Replicas: 2,
		TTL: Millis(2 * time.Second), Duration: Millis(2 * time.Second), Unhealthy: 2, Healthy: 2,
		JoinWindow: Millis(2 * time.Second)}
	if err := s.validate(); err != nil {
		t.Fatal(err)
	}
	sum, err := run(t.Context(), s, "", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	text := sum.text()
	t.Logf("\n%s", text)

	sd := sum.Steady
	if sd.PerBackendPerInterval < 1 || sd.PerBackendPerInterval > 3 {
		t.Errorf("%.2f probes per backend per interval with replicas 2; want between 1 and 3", sd.PerBackendPerInterval)
	}
	if sd.Probers.Min < 1 || sd.Probers.Max > 3 || sd.Probers.N != s.Backends {
		t.Errorf("probers per backend %+v; want between 1 and 3 over %d backends", sd.Probers, s.Backends)
	}
	if sd.Intervals < 5 {
		t.Errorf("steady window of %.1f intervals; want about 10", sd.Intervals)
	}
	if len(sd.Owned) != 3 {
		t.Errorf("owned %v; want three instances", sd.Owned)
	}

	for name, a := range map[string]agreement{"down": sum.Fault.Down, "up": sum.Fault.Up} {
		if len(a.Instances) != 3 || !a.Confirmed || a.All <= 0 {
			t.Errorf("%s: agreement %+v; want all three instances, confirmed", name, a)
		}
		if a.Writes < 1 || a.Events < a.Writes {
			t.Errorf("%s: %d writes, %d events; want at least one write, each seen", name, a.Writes, a.Events)
		}
	}
	if len(sum.Fault.Owners) != 2 {
		t.Errorf("fault owners %v; want two", sum.Fault.Owners)
	}

	k := sum.Kill
	if k == nil {
		t.Fatal("no kill phase with three instances")
	}
	if k.Victim != "lb3" || k.Owned == 0 || k.Heirs == 0 {
		t.Errorf("kill %+v; want lb3 killed, owning backends that get new owners", *k)
	}
	if k.FirstProbe.N != k.Heirs || k.Missing != 0 || k.FirstProbe.Min <= 0 {
		t.Errorf("re-ownership: %+v, %d missing; want a first probe from each of %d new owners", k.FirstProbe, k.Missing, k.Heirs)
	}
	if k.Gap.N != k.Owned || k.Gap.Max <= 0 || k.Left <= 0 {
		t.Errorf("gaps %+v, left after %s; want one per owned backend", k.Gap, ms(k.Left))
	}

	j := sum.Join
	if j.Member != "lb3" || !j.Restarted || j.Moved == 0 || j.Writes == 0 || len(j.PerSecond) != 2 {
		t.Errorf("join %+v; want lb3 restarted, ownership moved, writes, two seconds counted", j)
	}
	for _, want := range []string{"steady state", "agreement", "re-ownership", "longest gap", "lb3 restarted and joins"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}

// TestRunOneInstanceHasNoKill runs one instance: no kill phase, and a
// second instance joins.
func TestRunOneInstanceHasNoKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/lb and starts two lb processes")
	}
	s := settings{Instances: 1, Backends: 4, Interval: Millis(200 * time.Millisecond), Replicas: 2,
		TTL: Millis(2 * time.Second), Duration: Millis(time.Second), Unhealthy: 1, Healthy: 1,
		JoinWindow: Millis(time.Second)}
	if err := s.validate(); err != nil {
		t.Fatal(err)
	}
	sum, err := run(t.Context(), s, "", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", sum.text())
	if p := sum.Steady.PerBackendPerInterval; p < 0.5 || p > 1.5 {
		t.Errorf("%.2f probes per backend per interval with one instance; want about 1", p)
	}
	if sum.Kill != nil {
		t.Errorf("a kill phase with one instance: %+v", *sum.Kill)
	}
	if j := sum.Join; j.Member != "lb2" || j.Restarted || j.Moved != s.Backends {
		t.Errorf("join %+v; want lb2 new, every backend gaining it as an owner", j)
	}
}
