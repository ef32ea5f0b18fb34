package server

import (
	"time"

	"github.com/lbtrust/lb/fleet"
	"github.com/lbtrust/lb/pool"
)

// ownTally is an owner's count over its own probes of one backend, under
// the pool's thresholds: the verdict it publishes for the fleet. It
// mirrors the state machine's counting (docs/DESIGN.md §2) so that a
// backend one instance probes alone reaches the same states at the same
// probes as without a fleet: the first pass of a new backend is up at
// once, unhealthy_threshold failures in a row are down, healthy_threshold
// passes in a row bring it up again, and a backend that says it is
// shutting down is draining at once. Not safe for concurrent use;
// fleetBackend.mu guards it.
type ownTally struct {
	state    fleet.State // "" until its first conclusion
	passes   int
	failures int
}

// observe counts r and reports the new state when r changes it.
func (t *ownTally) observe(r pool.CheckResult, th pool.Thresholds) (fleet.State, bool) {
	next := t.state
	switch {
	case r.Passed():
		t.passes++
		t.failures = 0
		if t.state == "" || (t.state != fleet.StateUp && t.passes >= th.Healthy) {
			next = fleet.StateUp
		}
	case r.Outcome == pool.ReasonBackendDraining:
		t.passes, t.failures = 0, 0
		next = fleet.StateDraining
	default:
		t.failures++
		t.passes = 0
		if t.failures >= th.Unhealthy {
			next = fleet.StateDown
		}
	}
	if next == t.state {
		return "", false
	}
	t.state = next
	return next, true
}

// verdictOf is the verdict an owner publishes when r moved its tally to
// state.
func verdictOf(t fleet.Target, state fleet.State, r pool.CheckResult) fleet.Verdict {
	return fleet.Verdict{Target: t, State: state, Reason: string(r.Outcome), Detail: r.Detail, Code: r.Code, At: r.At}
}

// decisive is the fleet's combined verdict v as a probe result for the
// pool's state machine: a decisive result (it carries its thresholds)
// by the member that reached it, at at.
func decisive(v fleet.Verdict, at time.Time) pool.CheckResult {
	r := pool.CheckResult{Code: v.Code, Detail: v.Detail, At: at, Decisive: true, By: v.Member}
	switch v.State {
	case fleet.StateUp:
		r.Outcome, r.Detail = pool.ReasonCheckPassed, ""
	case fleet.StateDraining:
		r.Outcome = pool.ReasonBackendDraining
	default:
		r.Outcome = pool.Reason(v.Reason)
		if r.Outcome == "" || r.Outcome == pool.ReasonCheckPassed || r.Outcome == pool.ReasonBackendDraining {
			// A down verdict always fails, whatever word a newer or
			// older member used for it.
			r.Outcome = pool.ReasonCheckError
		}
	}
	return r
}

// disagrees reports whether a backend in condition c should be given the
// combined verdict state again because its state contradicts it (a
// passive ejection ended, an undrain put it back to INITIAL, it is new).
// A backend an operator or a removal holds is never fed: checks do not
// move it.
func disagrees(state fleet.State, c pool.Condition) bool {
	if c.Hold != pool.ReasonNone {
		return false
	}
	switch state {
	case fleet.StateUp:
		return c.State != pool.StateHealthy
	case fleet.StateDown:
		return c.State == pool.StateHealthy || c.State == pool.StateInitial || c.State == pool.StateDrained
	case fleet.StateDraining:
		return c.State == pool.StateHealthy || c.State == pool.StateInitial
	}
	return false
}
