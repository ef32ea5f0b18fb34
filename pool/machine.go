package pool

import (
	"strconv"
	"time"
)

// machine is the per-backend health bookkeeping: the one state machine of
// docs/DESIGN.md. It is not safe for concurrent use; the Pool's lock guards it.
// Its methods decide transitions and return them; they never log, publish
// or touch the eligible snapshot, so they can be tested as pure functions
// of a scripted sequence of inputs.
type machine struct {
	state  State
	reason Reason
	detail string
	since  time.Time
	by     string // the fleet member that decided the current state; "" for this instance

	passes   int // consecutive passing probes
	failures int // consecutive failing probes

	lastCheck CheckResult
	checked   bool

	// hold is why the backend must stay out whatever its checks say:
	// ReasonAdminDrain (until Undrain) or a removal (for good:
	// ReasonRemovedFromConfig, ReasonRemovedFromDiscovery). "" when checks
	// decide.
	hold Reason

	// ejections counts passive ejections (the next lasts longer);
	// ejectedUntil is when the current one ends.
	ejections    int
	ejectedUntil time.Time
}

// change is a decided transition: the machine has already moved to to.
type change struct {
	from, to State
	reason   Reason
	detail   string
	by       string
}

// move switches state and records why; it returns the change.
func (m *machine) move(to State, reason Reason, detail string, at time.Time) change {
	c := change{from: m.state, to: to, reason: reason, detail: detail}
	m.state, m.reason, m.detail, m.since, m.by = to, reason, detail, at, ""
	return c
}

// observe applies one probe result and reports the transition it causes, if
// any. inFlight is the backend's current in-flight count (a DRAINING backend
// with none left finishes draining at once; that second step is left to
// drained so each change is reported on its own).
func (m *machine) observe(r CheckResult, th Thresholds) (change, bool) {
	c, ok := m.observeCounted(r, th)
	if ok && r.By != "" {
		c.by, m.by = r.By, r.By
	}
	return c, ok
}

// observeCounted is observe without the attribution to a fleet member.
func (m *machine) observeCounted(r CheckResult, th Thresholds) (change, bool) {
	m.lastCheck, m.checked = r, true
	switch {
	case r.Passed():
		m.passes++
		m.failures = 0
	case r.Outcome == ReasonBackendDraining:
		m.passes, m.failures = 0, 0
	default:
		m.failures++
		m.passes = 0
	}
	if r.Decisive {
		// Another instance's verdict: its thresholds are already met.
		if r.Passed() {
			m.passes = max(m.passes, th.Healthy)
		} else if r.Outcome != ReasonBackendDraining {
			m.failures = max(m.failures, th.Unhealthy)
		}
	}

	switch m.state {
	case StateInitial:
		switch {
		case r.Passed():
			return m.move(StateHealthy, ReasonInitialCheck, "", r.At), true
		case r.Outcome == ReasonBackendDraining:
			return m.move(StateDraining, ReasonBackendDraining, r.Detail, r.At), true
		case m.failures >= th.Unhealthy:
			return m.move(StateUnhealthy, r.Outcome, r.Detail, r.At), true
		}
	case StateHealthy:
		switch {
		case r.Outcome == ReasonBackendDraining:
			return m.move(StateDraining, ReasonBackendDraining, r.Detail, r.At), true
		case !r.Passed() && m.failures >= th.Unhealthy:
			return m.move(StateUnhealthy, r.Outcome, r.Detail, r.At), true
		}
	case StateUnhealthy:
		switch {
		case m.reason == ReasonSilent && r.Passed():
			// A probe answer is an answer: a silent backend is back.
			return m.move(StateHealthy, ReasonCheckPassed, "", r.At), true
		case m.reason == ReasonPassiveEjection:
			switch {
			case r.Passed() && !r.At.Before(m.ejectedUntil):
				// Back once the ejection time has passed and a check
				// passes.
				return m.move(StateHealthy, ReasonCheckPassed, "", r.At), true
			case !r.Passed() && r.Outcome != ReasonBackendDraining && m.failures >= th.Unhealthy:
				// The active checks confirm it is down: their reason
				// replaces the ejection (state unchanged), and it comes
				// back through healthy_threshold like any failed backend.
				return m.move(StateUnhealthy, r.Outcome, r.Detail, r.At), true
			}
			return change{}, false
		}
		// A backend already out of rotation that says it is shutting down
		// stays UNHEALTHY: it has no traffic to drain.
		if r.Passed() && m.passes >= th.Healthy {
			return m.move(StateHealthy, ReasonCheckPassed, "", r.At), true
		}
	case StateDraining, StateDrained:
		if m.hold != ReasonNone {
			// An operator or a reload took it out: checks do not bring
			// it back, and a drained backend stays DRAINED so /status
			// keeps showing who took it out.
			break
		}
		switch {
		case r.Passed() && m.passes >= th.Healthy:
			// A restarted instance: it passes again, so it is back.
			return m.move(StateHealthy, ReasonCheckPassed, "", r.At), true
		case m.state == StateDrained && !r.Passed() && r.Outcome != ReasonBackendDraining && m.failures >= th.Unhealthy:
			// Drained and now gone: say what is wrong with it.
			return m.move(StateUnhealthy, r.Outcome, r.Detail, r.At), true
		}
	}
	return change{}, false
}

// holdOut takes a HEALTHY backend out on a request-path signal (reason
// ReasonPassiveEjection until until, or ReasonSilent until it answers).
func (m *machine) holdOut(reason Reason, detail string, until, at time.Time) (change, bool) {
	if m.state != StateHealthy {
		return change{}, false
	}
	if reason == ReasonPassiveEjection {
		m.ejections++
		m.ejectedUntil = until
	}
	m.passes, m.failures = 0, 0
	return m.move(StateUnhealthy, reason, detail, at), true
}

// answered brings a silent backend back when it answers a request.
func (m *machine) answered(at time.Time) (change, bool) {
	if m.state != StateUnhealthy || m.reason != ReasonSilent {
		return change{}, false
	}
	return m.move(StateHealthy, ReasonAnswered, "", at), true
}

// drain takes the backend out of rotation at the request of an operator
// a reload or the discovery sources (reason ReasonAdminDrain or a removal)
// and holds it out. A backend already DRAINING or DRAINED is only held (no
// transition) unless the reason is a removal, which is always shown.
func (m *machine) drain(reason Reason, at time.Time) (change, bool) {
	if isRemoval(m.hold) {
		return change{}, false
	}
	m.hold = reason
	m.passes, m.failures = 0, 0
	if (m.state == StateDraining || m.state == StateDrained) && !isRemoval(reason) {
		return change{}, false
	}
	return m.move(StateDraining, reason, "", at), true
}

// undrain lifts an operator's drain: the backend starts over as INITIAL, so
// its next passing check puts it back in rotation. It reports false when
// there was no operator drain to lift.
func (m *machine) undrain(at time.Time) (change, bool) {
	if m.hold != ReasonAdminDrain {
		return change{}, false
	}
	m.hold = ReasonNone
	m.passes, m.failures = 0, 0
	return m.move(StateInitial, ReasonAdminUndrain, "", at), true
}

// readd cancels a removal when a reload or a discovery source adds the
// backend back while it is still draining: it starts over as INITIAL, with
// reason (ReasonAddedToConfig or ReasonDiscovered).
func (m *machine) readd(reason Reason, at time.Time) (change, bool) {
	if !isRemoval(m.hold) {
		return change{}, false
	}
	m.hold = ReasonNone
	m.passes, m.failures = 0, 0
	return m.move(StateInitial, reason, "", at), true
}

// expire ends a drain whose deregistration delay ran out with requests
// still in flight; they are about to be cancelled.
func (m *machine) expire(inFlight int64, at time.Time) (change, bool) {
	if m.state != StateDraining {
		return change{}, false
	}
	detail := "1 request cancelled"
	if inFlight != 1 {
		detail = strconv.FormatInt(inFlight, 10) + " requests cancelled"
	}
	return m.moveOn(StateDrained, ReasonDeregistrationTimeout, detail, at), true
}

// moveOn is move for the end of a drain: the member that asked for the
// drain (by) stays attributed to it.
func (m *machine) moveOn(to State, reason Reason, detail string, at time.Time) change {
	by := m.by
	c := m.move(to, reason, detail, at)
	c.by, m.by = by, by
	return c
}

// drained finishes a drain when nothing is in flight any more.
func (m *machine) drained(inFlight int64, at time.Time) (change, bool) {
	if m.state != StateDraining || inFlight > 0 {
		return change{}, false
	}
	return m.moveOn(StateDrained, ReasonDrainComplete, "", at), true
}
