package pool

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// step is one scripted probe result and the transition it must cause.
type step struct {
	outcome Reason
	code    int
	// want is the state after the step; wantReason the reason of the
	// transition it causes ("" = no transition).
	want       State
	wantReason Reason
}

// result is a probe result with outcome o and status code, its detail
// rendered as the server's checks render it: the code for a status
// mismatch or a drain, the error for a refusal.
func result(o Reason, code int) CheckResult {
	r := CheckResult{Outcome: o, Code: code, At: time.Unix(1700000000, 0)}
	switch o {
	case ReasonStatusMismatch, ReasonBackendDraining:
		r.Detail = strconv.Itoa(code)
	case ReasonConnectionRefused:
		r.Err = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
		r.Detail = r.Err.Error()
	}
	return r
}

func TestMachineScriptedSequences(t *testing.T) {
	th := Thresholds{Healthy: 2, Unhealthy: 3}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first pass takes INITIAL to HEALTHY", []step{
			{ReasonCheckPassed, 200, StateHealthy, ReasonInitialCheck},
			{ReasonCheckPassed, 200, StateHealthy, ""},
		}},
		{"INITIAL fails threshold times to UNHEALTHY", []step{
			{ReasonConnectionRefused, 0, StateInitial, ""},
			{ReasonConnectionRefused, 0, StateInitial, ""},
			{ReasonConnectionRefused, 0, StateUnhealthy, ReasonConnectionRefused},
		}},
		{"HEALTHY needs unhealthy_threshold failures in a row", []step{
			{ReasonCheckPassed, 200, StateHealthy, ReasonInitialCheck},
			{ReasonStatusMismatch, 500, StateHealthy, ""},
			{ReasonStatusMismatch, 500, StateHealthy, ""},
			{ReasonCheckPassed, 200, StateHealthy, ""}, // resets the count
			{ReasonTimeout, 0, StateHealthy, ""},
			{ReasonStatusMismatch, 503, StateHealthy, ""},
			{ReasonStatusMismatch, 503, StateUnhealthy, ReasonStatusMismatch},
		}},
		{"UNHEALTHY needs healthy_threshold passes in a row", []step{
			{ReasonCheckPassed, 200, StateHealthy, ReasonInitialCheck},
			{ReasonTimeout, 0, StateHealthy, ""},
			{ReasonTimeout, 0, StateHealthy, ""},
			{ReasonTimeout, 0, StateUnhealthy, ReasonTimeout},
			{ReasonCheckPassed, 200, StateUnhealthy, ""},
			{ReasonTimeout, 0, StateUnhealthy, ""},
			{ReasonCheckPassed, 200, StateUnhealthy, ""},
			{ReasonCheckPassed, 200, StateHealthy, ReasonCheckPassed},
		}},
		{"shutting_down drains at once, no threshold", []step{
			{ReasonCheckPassed, 200, StateHealthy, ReasonInitialCheck},
			{ReasonBackendDraining, 503, StateDraining, ReasonBackendDraining},
			{ReasonBackendDraining, 503, StateDraining, ""},
			{ReasonConnectionRefused, 0, StateDraining, ""},
			{ReasonCheckPassed, 200, StateDraining, ""},
			{ReasonCheckPassed, 200, StateHealthy, ReasonCheckPassed},
		}},
		{"shutting_down while INITIAL drains", []step{
			{ReasonBackendDraining, 503, StateDraining, ReasonBackendDraining},
		}},
		{"shutting_down while UNHEALTHY changes nothing", []step{
			{ReasonTimeout, 0, StateInitial, ""},
			{ReasonTimeout, 0, StateInitial, ""},
			{ReasonTimeout, 0, StateUnhealthy, ReasonTimeout},
			{ReasonBackendDraining, 503, StateUnhealthy, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m machine
			for i, s := range tt.steps {
				c, changed := m.observe(result(s.outcome, s.code), th)
				if m.state != s.want {
					t.Fatalf("step %d (%s): state %s, want %s", i, s.outcome, m.state, s.want)
				}
				if s.wantReason == "" {
					if changed {
						t.Fatalf("step %d (%s): unexpected transition %s->%s (%s)", i, s.outcome, c.from, c.to, c.reason)
					}
					continue
				}
				if !changed || c.reason != s.wantReason || c.to != s.want {
					t.Fatalf("step %d (%s): transition %v %s->%s (%s), want to %s (%s)",
						i, s.outcome, changed, c.from, c.to, c.reason, s.want, s.wantReason)
				}
			}
		})
	}
}

func TestMachineDrainedThenGone(t *testing.T) {
	th := Thresholds{Healthy: 2, Unhealthy: 2}
	var m machine
	m.observe(result(ReasonCheckPassed, 200), th)
	m.observe(result(ReasonBackendDraining, 503), th)
	if c, ok := m.drained(1, time.Now()); ok {
		t.Fatalf("drained with a request in flight: %+v", c)
	}
	c, ok := m.drained(0, time.Now())
	if !ok || c.to != StateDrained || c.reason != ReasonDrainComplete {
		t.Fatalf("drain not completed: %+v %v", c, ok)
	}
	m.observe(result(ReasonConnectionRefused, 0), th)
	c, ok = m.observe(result(ReasonConnectionRefused, 0), th)
	if !ok || c.to != StateUnhealthy || c.reason != ReasonConnectionRefused {
		t.Fatalf("drained backend that is gone: %+v %v", c, ok)
	}
}

// TestTransitionCarriesResultDetail: a transition a probe result causes
// carries the result's Detail verbatim (the pool renders nothing of a
// probe itself); a pass carries none.
func TestTransitionCarriesResultDetail(t *testing.T) {
	th := Thresholds{Healthy: 1, Unhealthy: 1}
	var m machine
	pass := result(ReasonCheckPassed, 200)
	pass.Detail = "ignored for a pass"
	if c, _ := m.observe(pass, th); c.reason != ReasonInitialCheck || c.detail != "" {
		t.Fatalf("got %s %q, want initial_check with no detail", c.reason, c.detail)
	}
	c, _ := m.observe(result(ReasonStatusMismatch, 503), th)
	if c.reason != ReasonStatusMismatch || c.detail != "503" {
		t.Fatalf("got %s %q, want status_mismatch 503", c.reason, c.detail)
	}
	drain := CheckResult{Outcome: ReasonBackendDraining, Code: 2, Detail: "NOT_SERVING"}
	m = machine{}
	if c, _ := m.observe(drain, th); c.reason != ReasonBackendDraining || c.detail != "NOT_SERVING" {
		t.Fatalf("got %s %q, want backend_draining NOT_SERVING", c.reason, c.detail)
	}
}
