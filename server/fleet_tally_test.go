package server

import (
	"testing"
	"time"

	"github.com/lbtrust/lb/fleet"
	"github.com/lbtrust/lb/pool"
)

// TestOwnTally replays probe sequences through an owner's tally (healthy
// threshold 2, unhealthy 3) and checks the verdict it would publish after
// each probe ("" for none).
func TestOwnTally(t *testing.T) {
	const (
		P = pool.ReasonCheckPassed
		F = pool.ReasonTimeout
		D = pool.ReasonBackendDraining
	)
	th := pool.Thresholds{Healthy: 2, Unhealthy: 3}
	tests := []struct {
		name   string
		probes []pool.Reason
		want   []fleet.State
	}{
		{"first pass is up at once", []pool.Reason{P, P, P}, []fleet.State{"up", "", ""}},
		{"new backend down after unhealthy_threshold", []pool.Reason{F, F, F, F}, []fleet.State{"", "", "down", ""}},
		{"up, then down after three failures", []pool.Reason{P, F, F, F}, []fleet.State{"up", "", "", "down"}},
		{"a pass between failures resets the count", []pool.Reason{P, F, F, P, F, F}, []fleet.State{"up", "", "", "", "", ""}},
		{"down, back after healthy_threshold passes", []pool.Reason{F, F, F, P, P}, []fleet.State{"", "", "down", "", "up"}},
		{"draining at once, up again after two passes", []pool.Reason{P, D, D, P, P}, []fleet.State{"up", "draining", "", "", "up"}},
		{"draining, then gone", []pool.Reason{P, D, F, F, F}, []fleet.State{"up", "draining", "", "", "down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tally ownTally
			for i, o := range tt.probes {
				st, changed := tally.observe(pool.CheckResult{Outcome: o}, th)
				if !changed {
					st = ""
				}
				if st != tt.want[i] {
					t.Fatalf("probe %d (%s): published %q, want %q", i+1, o, st, tt.want[i])
				}
			}
		})
	}
}

// TestDecisive checks how a combined verdict becomes the pool's result.
func TestDecisive(t *testing.T) {
	at := time.Unix(100, 0)
	tests := []struct {
		v    fleet.Verdict
		want pool.Reason
	}{
		{fleet.Verdict{State: fleet.StateUp, Reason: "check_passed", Detail: "x"}, pool.ReasonCheckPassed},
		{fleet.Verdict{State: fleet.StateDraining, Reason: "backend_draining"}, pool.ReasonBackendDraining},
		{fleet.Verdict{State: fleet.StateDown, Reason: "timeout"}, pool.ReasonTimeout},
		{fleet.Verdict{State: fleet.StateDown, Reason: ""}, pool.ReasonCheckError},
		{fleet.Verdict{State: fleet.StateDown, Reason: "check_passed"}, pool.ReasonCheckError},
	}
	for _, tt := range tests {
		r := decisive(tt.v, at)
		if r.Outcome != tt.want || !r.Decisive || !r.At.Equal(at) {
			t.Errorf("decisive(%+v) = %+v, want outcome %s, decisive, at %v", tt.v, r, tt.want, at)
		}
		if tt.v.State == fleet.StateUp && r.Detail != "" {
			t.Errorf("an up verdict carries detail %q", r.Detail)
		}
	}
}

// TestDisagrees pins when a sweep gives the pool the combined verdict
// again.
func TestDisagrees(t *testing.T) {
	c := func(s pool.State, hold pool.Reason) pool.Condition { return pool.Condition{State: s, Hold: hold} }
	tests := []struct {
		state fleet.State
		c     pool.Condition
		want  bool
	}{
		{fleet.StateUp, c(pool.StateHealthy, ""), false},
		{fleet.StateUp, c(pool.StateInitial, ""), true},
		{fleet.StateUp, c(pool.StateUnhealthy, ""), true},
		{fleet.StateUp, c(pool.StateDrained, pool.ReasonAdminDrain), false},
		{fleet.StateDown, c(pool.StateHealthy, ""), true},
		{fleet.StateDown, c(pool.StateUnhealthy, ""), false},
		{fleet.StateDown, c(pool.StateDrained, ""), true},
		{fleet.StateDown, c(pool.StateHealthy, pool.ReasonRemovedFromConfig), false},
		{fleet.StateDraining, c(pool.StateHealthy, ""), true},
		{fleet.StateDraining, c(pool.StateDraining, ""), false},
	}
	for _, tt := range tests {
		if got := disagrees(tt.state, tt.c); got != tt.want {
			t.Errorf("disagrees(%s, %+v) = %v, want %v", tt.state, tt.c, got, tt.want)
		}
	}
}
